"""The keras.io guide "Save, serialize, and export models" (keras-io
guides/serialization_and_saving.py), written with only the import changed
(``import ferrograd as keras``).

Each test is one section of the guide and asserts what it shows: a model saved and reloaded
predicts the same; configs rebuild the same architecture; weights copied in memory or through a
file give the same predictions. ``model.save("x.keras")`` and ``save_weights("x.weights.h5")``
write ferrograd's own formats under those names (a zip with safetensors weights, and a
safetensors file); reading files that Keras itself wrote is another test's concern.
"""

import json

import numpy as np
import pytest

import ferrograd as keras


def get_model():
    # Create a simple model.
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss="mean_squared_error")
    return model


def test_how_to_save_and_load_a_model(tmp_path):
    model = get_model()
    # Train the model.
    test_input = np.random.random((128, 32))
    test_target = np.random.random((128, 1))
    model.fit(test_input, test_target, verbose=0)

    # Calling `save('my_model.keras')` creates a zip archive `my_model.keras`.
    model.save(tmp_path / "my_model.keras")
    # It can be used to reconstruct the model identically.
    reconstructed_model = keras.models.load_model(tmp_path / "my_model.keras")
    # Let's check:
    np.testing.assert_allclose(
        model.predict(test_input, verbose=0), reconstructed_model.predict(test_input, verbose=0)
    )
    # The optimizer's state came along: one more step of each gives the same weights.
    model.fit(test_input, test_target, epochs=1, shuffle=False, verbose=0)
    reconstructed_model.fit(test_input, test_target, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reconstructed_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.skip(
    reason="needs subclassing: issue 17 (CustomLayer(keras.layers.Layer) and custom_objects)"
)
def test_custom_objects():
    pass


def test_in_memory_model_cloning():
    model = get_model()
    new_model = keras.models.clone_model(model)
    assert new_model.count_params() == model.count_params()
    assert not np.array_equal(new_model.get_weights()[0], model.get_weights()[0])


def test_layer_get_config_and_from_config():
    layer = keras.layers.Dense(3, activation="relu")
    layer_config = layer.get_config()
    assert layer_config["units"] == 3 and layer_config["activation"] == "relu"
    new_layer = keras.layers.Dense.from_config(layer_config)
    assert new_layer.units == 3 and new_layer.get_config() == layer_config


def test_model_get_config_and_from_config():
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
    config = model.get_config()
    new_model = keras.Sequential.from_config(config)
    assert new_model.count_params() == 33

    inputs = keras.Input((32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = keras.Model(inputs, outputs)
    config = model.get_config()
    new_model = keras.Model.from_config(config)
    assert new_model.count_params() == 33


def test_to_json_and_model_from_json():
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
    json_config = model.to_json()
    assert isinstance(json.loads(json_config), dict)
    new_model = keras.models.model_from_json(json_config)
    assert new_model.count_params() == 33


def test_transferring_weights_from_one_layer_to_another_in_memory():
    def create_layer():
        layer = keras.layers.Dense(64, activation="relu", name="dense_2")
        layer.build((None, 784))
        return layer

    layer_1 = create_layer()
    layer_2 = create_layer()
    # Copy weights from layer 1 to layer 2
    layer_2.set_weights(layer_1.get_weights())
    for a, b in zip(layer_1.get_weights(), layer_2.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def three_layer_mlp(dropout=False):
    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
    if dropout:
        # Add a dropout layer, which does not contain any weights.
        x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(10, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")


def test_stateless_layers_do_not_change_the_weights():
    functional_model = three_layer_mlp()
    functional_model_with_dropout = three_layer_mlp(dropout=True)
    functional_model_with_dropout.set_weights(functional_model.get_weights())
    x = np.random.random((4, 784)).astype("float32")
    np.testing.assert_allclose(
        functional_model_with_dropout.predict(x, verbose=0),
        functional_model.predict(x, verbose=0),
        rtol=1e-6,
    )


@pytest.mark.skip(reason="needs subclassing: issue 17 (SubclassedModel(keras.Model))")
def test_transferring_weights_to_a_subclassed_model():
    pass


def test_saving_weights_to_disk_and_loading_them_back(tmp_path):
    sequential_model = keras.Sequential(
        [
            keras.Input(shape=(784,), name="digits"),
            keras.layers.Dense(64, activation="relu", name="dense_1"),
            keras.layers.Dense(64, activation="relu", name="dense_2"),
            keras.layers.Dense(10, name="predictions"),
        ]
    )
    path = tmp_path / "my_model.weights.h5"
    sequential_model.save_weights(path)
    expected = [w.copy() for w in sequential_model.get_weights()]
    sequential_model.set_weights([np.zeros_like(w) for w in expected])
    sequential_model.load_weights(path)
    for a, b in zip(expected, sequential_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_transfer_learning_example_loading_into_a_model_built_again(tmp_path):
    functional_model = three_layer_mlp()
    functional_model.save_weights(tmp_path / "pretrained.weights.h5")

    # In a separate program (here: the same process, so the layers get new names):
    inputs = keras.Input(shape=(784,))
    x = keras.layers.Dense(64, activation="relu")(inputs)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(10)(x)
    pretrained_model = keras.Model(inputs, outputs)
    pretrained_model.load_weights(tmp_path / "pretrained.weights.h5")
    for a, b in zip(functional_model.get_weights(), pretrained_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_transfer_learning_example_extracting_layers(tmp_path):
    functional_model = three_layer_mlp()
    functional_model.save_weights(tmp_path / "pretrained.weights.h5")

    # In a separate program (the same layer names, so the weights match by name):
    pretrained_model = three_layer_mlp()
    pretrained_model.load_weights(tmp_path / "pretrained.weights.h5")
    for a, b in zip(functional_model.get_weights(), pretrained_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)

    # Create a new model by extracting layers from the original model:
    extracted_layers = pretrained_model.layers[:-1]
    extracted_layers.append(keras.layers.Dense(5, name="dense_3"))
    model = keras.Sequential(extracted_layers)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    # 50,240 + 4,160 + 325
    assert "Total params: 54,725" in text
    assert tuple(model.output_shape) == (None, 5)
    # The extracted layers keep their pretrained weights.
    np.testing.assert_array_equal(
        model.get_layer("dense_1").get_weights()[0], functional_model.get_weights()[0]
    )


def test_a_regularizer_config():
    # The guide's object serialization, through the regularizer's own config methods.
    my_reg = keras.regularizers.L1(0.005)
    config = my_reg.get_config()
    assert config == {"l1": 0.005}
    new_reg = keras.regularizers.L1.from_config(config)
    assert type(new_reg) is keras.regularizers.L1 and new_reg.get_config() == config


@pytest.mark.xfail(
    strict=True,
    reason="not in ferrograd yet (reported): keras.saving.serialize_keras_object and "
    "deserialize_keras_object (AttributeError)",
)
def test_arbitrary_object_serialization_and_deserialization():
    my_reg = keras.regularizers.L1(0.005)
    config = keras.saving.serialize_keras_object(my_reg)
    assert config["class_name"] == "L1" and config["config"] == {"l1": 0.005}
    new_reg = keras.saving.deserialize_keras_object(config)
    assert new_reg.get_config() == my_reg.get_config()
