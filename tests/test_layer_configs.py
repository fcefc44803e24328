"""``get_config``/``from_config`` for every layer and model: a layer built with non-default
arguments and rebuilt from its config has the same config and, on the same weights, the same
output; ``to_json``/``model_from_json`` and ``clone_model`` rebuild architectures (Sequential,
functional, nested) with fresh weights; ``model.losses`` lists one term per regularized weight."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers
from ferrograd.saving import layer_classes

L2 = fg.regularizers.L2(0.01)

# For each layer class: non-default arguments and the shape(s) of an input batch.
CASES = {
    "Activation": ({"activation": "tanh"}, (4, 3)),
    "Add": ({}, [(4, 3), (4, 3)]),
    "AdditiveAttention": ({"use_scale": True, "dropout": 0.1}, [(2, 4, 3), (2, 5, 3)]),
    "Attention": ({"use_scale": True, "score_mode": "concat"}, [(2, 4, 3), (2, 5, 3)]),
    "Average": ({}, [(4, 3), (4, 3)]),
    "AveragePooling1D": ({"pool_size": 3, "strides": 1, "padding": "same"}, (2, 6, 3)),
    "AveragePooling2D": ({"pool_size": (2, 1), "padding": "same"}, (2, 4, 4, 3)),
    "BatchNormalization": ({"momentum": 0.9, "epsilon": 1e-2, "center": False}, (4, 3)),
    "Bidirectional": (
        {"layer": layers.GRU(3, return_sequences=True), "merge_mode": "sum"},
        (2, 5, 3),
    ),
    "Concatenate": ({"axis": 1}, [(4, 2), (4, 3)]),
    "Conv1D": ({"filters": 2, "kernel_size": 3, "padding": "same", "strides": 2}, (2, 7, 3)),
    "Conv2D": ({"filters": 2, "kernel_size": (2, 3), "activation": "relu"}, (2, 5, 5, 3)),
    "Dense": (
        {"units": 3, "activation": "relu", "use_bias": False, "kernel_regularizer": L2},
        (4, 5),
    ),
    "Dot": ({"axes": 1, "normalize": True}, [(4, 3), (4, 3)]),
    "Dropout": ({"rate": 0.3}, (4, 3)),
    "ELU": ({"alpha": 0.5}, (4, 3)),
    "Embedding": ({"input_dim": 10, "output_dim": 3, "mask_zero": True}, "tokens"),
    "Flatten": ({}, (2, 3, 4)),
    "GRU": ({"units": 3, "return_sequences": True, "go_backwards": True}, (2, 5, 3)),
    "GlobalAveragePooling1D": ({"keepdims": True}, (2, 5, 3)),
    "GlobalAveragePooling2D": ({"keepdims": True}, (2, 4, 4, 3)),
    "GlobalMaxPooling1D": ({"keepdims": True}, (2, 5, 3)),
    "GlobalMaxPooling2D": ({"keepdims": True}, (2, 4, 4, 3)),
    "Identity": ({}, (4, 3)),
    "LSTM": ({"units": 3, "unit_forget_bias": False, "activation": "relu"}, (2, 5, 3)),
    "LayerNormalization": ({"epsilon": 1e-2, "scale": False}, (4, 3)),
    "LeakyReLU": ({"negative_slope": 0.1}, (4, 3)),
    "MaxPooling1D": ({"pool_size": 3, "strides": 1}, (2, 6, 3)),
    "MaxPooling2D": ({"pool_size": (2, 2), "strides": 1}, (2, 4, 4, 3)),
    "Maximum": ({}, [(4, 3), (4, 3)]),
    "Minimum": ({}, [(4, 3), (4, 3)]),
    "MultiHeadAttention": (
        {"num_heads": 2, "key_dim": 3, "value_dim": 2, "output_shape": 5, "use_bias": False},
        [(2, 4, 3), (2, 6, 3)],
    ),
    "Multiply": ({}, [(4, 3), (4, 3)]),
    "PReLU": ({"alpha_initializer": "ones", "shared_axes": [1]}, (2, 5, 3)),
    "Permute": ({"dims": (2, 1)}, (2, 5, 3)),
    "ReLU": ({"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.2}, (4, 3)),
    "RepeatVector": ({"n": 3}, (4, 3)),
    "Reshape": ({"target_shape": (3, -1)}, (2, 6)),
    "SimpleRNN": ({"units": 3, "return_state": False, "dropout": 0.1}, (2, 5, 3)),
    "Softmax": ({"axis": 1}, (2, 5, 3)),
    "Subtract": ({}, [(4, 3), (4, 3)]),
    "UpSampling1D": ({"size": 3}, (2, 4, 3)),
    "UpSampling2D": ({"size": (2, 3)}, (2, 3, 3, 2)),
    "ActivityRegularization": ({"l1": 0.01, "l2": 0.02}, (4, 3)),
    "CategoryEncoding": ({"num_tokens": 6, "output_mode": "count"}, "tokens6"),
    "CenterCrop": ({"height": 3, "width": 2}, (2, 5, 5, 3)),
    "Conv1DTranspose": ({"filters": 2, "kernel_size": 3, "strides": 2}, (2, 5, 3)),
    "Conv2DTranspose": (
        {"filters": 2, "kernel_size": (2, 3), "strides": 2, "padding": "same"},
        (2, 4, 4, 3),
    ),
    "Cropping1D": ({"cropping": (1, 2)}, (2, 6, 3)),
    "Cropping2D": ({"cropping": ((1, 0), (0, 2))}, (2, 5, 5, 3)),
    "DepthwiseConv2D": ({"kernel_size": 2, "depth_multiplier": 2}, (2, 4, 4, 3)),
    "GaussianDropout": ({"rate": 0.3}, (4, 3)),
    "GaussianNoise": ({"stddev": 0.2}, (4, 3)),
    "Masking": ({"mask_value": 1.0}, (2, 5, 3)),
    "Normalization": ({"mean": [0.5, 1.0, 2.0], "variance": [1.0, 4.0, 9.0]}, (4, 3)),
    "RandomContrast": ({"factor": 0.3}, (2, 4, 4, 3)),
    "RandomCrop": ({"height": 3, "width": 2}, (2, 5, 5, 3)),
    "RandomFlip": ({"mode": "vertical"}, (2, 4, 4, 3)),
    "RandomRotation": ({"factor": 0.1, "fill_mode": "constant"}, (2, 4, 4, 3)),
    "RandomTranslation": ({"height_factor": 0.1, "width_factor": 0.2}, (2, 4, 4, 3)),
    "RandomZoom": ({"height_factor": 0.2}, (2, 4, 4, 3)),
    "Rescaling": ({"scale": 0.5, "offset": -1.0}, (4, 3)),
    "Resizing": ({"height": 3, "width": 5, "interpolation": "nearest"}, (2, 4, 4, 3)),
    "SeparableConv2D": ({"filters": 2, "kernel_size": 2, "depth_multiplier": 2}, (2, 4, 4, 3)),
    "SpatialDropout1D": ({"rate": 0.3}, (2, 5, 3)),
    "SpatialDropout2D": ({"rate": 0.3}, (2, 4, 4, 3)),
    "TimeDistributed": ({"layer": layers.Dense(2)}, (2, 5, 3)),
    "ZeroPadding1D": ({"padding": (1, 2)}, (2, 5, 3)),
    "ZeroPadding2D": ({"padding": ((1, 0), (2, 1))}, (2, 4, 4, 3)),
}


def batch(shape):
    rng = np.random.default_rng(0)
    if shape == "tokens":
        return rng.integers(0, 10, (3, 6)).astype("float32")
    if shape == "tokens6":
        return rng.integers(0, 6, (3, 4)).astype("float32")
    if isinstance(shape, list):
        return [rng.standard_normal(s).astype("float32") for s in shape]
    return rng.standard_normal(shape).astype("float32")


#: The layers called on separate inputs (``mha(query, value)``).
SEPARATE_INPUTS = {"MultiHeadAttention"}


def test_every_layer_class_has_a_case():
    names = {cls.__name__ for cls in layer_classes().values()}
    missing = sorted(names - set(CASES) - {"Program", "InputLayer"})
    assert not missing, f"add a get_config case for {missing}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_from_config_of_get_config_is_the_same_layer(name):
    classes = {cls.__name__: cls for cls in layer_classes().values()}
    if name not in classes:
        pytest.skip(f"{name} is not a layer of this build")
    arguments, shape = CASES[name]
    layer = classes[name](**arguments)
    x = batch(shape)

    def call(layer):
        # Keras calls attention layers on separate arguments, not on a list.
        return layer(*x) if name in SEPARATE_INPUTS else layer(x)

    out = call(layer)
    config = layer.get_config()
    assert config["name"] == layer.name
    copy = type(layer).from_config(config)
    assert copy.get_config() == config
    call(copy)  # built
    copy.set_weights(layer.get_weights())
    again = call(copy)
    outs, agains = (out, again) if isinstance(out, list) else ([out], [again])
    for a, b in zip(outs, agains, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def nested_model():
    base = fg.Sequential(
        [layers.Dense(4, activation="relu", input_shape=(5,)), layers.Dense(3)], name="base"
    )
    inputs = layers.Input(shape=(5,))
    features = base(inputs, training=False)
    other = layers.Dense(3, kernel_regularizer=L2)(inputs)
    return fg.Model(inputs, layers.Dense(1)(layers.Add()([features, other])))


def sequential_model():
    return fg.Sequential(
        [
            layers.Dense(4, activation="relu", input_shape=(5,), kernel_regularizer=L2),
            layers.BatchNormalization(),
            layers.Dense(2, bias_regularizer=fg.regularizers.L1(0.1)),
        ]
    )


@pytest.mark.parametrize("build", [sequential_model, nested_model])
def test_to_json_and_model_from_json_rebuild_the_architecture(build):
    model = build()
    copy = fg.models.model_from_json(model.to_json())
    assert type(copy) is type(model)
    assert [type(layer) for layer in copy.layers] == [type(layer) for layer in model.layers]
    assert [w.shape for w in copy.weights] == [w.shape for w in model.weights]
    copy.set_weights(model.get_weights())
    x = batch((4, 5))
    np.testing.assert_array_equal(copy.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(model).from_config(model.get_config()).count_params() == model.count_params()


@pytest.mark.parametrize("build", [sequential_model, nested_model])
def test_clone_model_has_the_architecture_and_new_weights(build):
    model = build()
    clone = fg.models.clone_model(model)
    assert clone is not model and clone.get_config()["layers"] == model.get_config()["layers"]
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(clone.get_weights(), model.get_weights(), strict=True)
    )
    clone.set_weights(model.get_weights())
    x = batch((4, 5))
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    # The clone's weights are its own.
    clone.set_weights([w + 1 for w in clone.get_weights()])
    assert not np.array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_clone_model_refuses_hooks_it_does_not_support():
    with pytest.raises(ValueError, match=r"\['clone_function'\] are not supported"):
        fg.models.clone_model(sequential_model(), clone_function=lambda layer: layer)


def test_model_losses_lists_one_term_per_regularized_weight():
    model = sequential_model()
    kernel = model.layers[0].get_weights()[0]
    bias = model.layers[2].get_weights()[1] + 0.5
    model.layers[2].set_weights([model.layers[2].get_weights()[0], bias])
    terms = [float(np.asarray(t.numpy())) for t in model.losses]
    assert len(terms) == 2
    np.testing.assert_allclose(terms[0], 0.01 * np.sum(kernel.astype("float64") ** 2), rtol=1e-5)
    np.testing.assert_allclose(terms[1], 0.1 * np.sum(np.abs(bias.astype("float64"))), rtol=1e-5)
    assert len(nested_model().losses) == 1
    model.layers[0].trainable = False
    assert len(model.losses) == 1
