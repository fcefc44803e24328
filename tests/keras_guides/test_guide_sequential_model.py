"""The keras.io guide "The Sequential model" (keras-io guides/sequential_model.py), written
with only the import changed (``import ferrograd as keras``, ``from ferrograd import layers``),
numpy arrays in place of ``keras.ops.ones``, and small inputs.

Each test is one section of the guide and asserts what the guide shows: layer counts, weight
counts and shapes, summary rows, the output shape of the convolution stack, the extracted
features.
"""

import numpy as np

import ferrograd as keras
from ferrograd import layers


def summary_of(model) -> str:
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_a_sequential_model_is_its_layers_called_in_turn():
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ]
    )
    x = np.ones((3, 3), dtype="float32")
    y = model(x)
    assert tuple(y.shape) == (3, 4)

    layer1 = layers.Dense(2, activation="relu", name="layer1")
    layer2 = layers.Dense(3, activation="relu", name="layer2")
    layer3 = layers.Dense(4, name="layer3")
    y = layer3(layer2(layer1(x)))
    assert tuple(y.shape) == (3, 4)
    # Same weights, same function: the model equals its layers called in turn.
    layer1.set_weights(model.layers[0].get_weights())
    layer2.set_weights(model.layers[1].get_weights())
    layer3.set_weights(model.layers[2].get_weights())
    np.testing.assert_allclose(
        np.asarray(layer3(layer2(layer1(x)))), np.asarray(model(x)), rtol=1e-6
    )


def test_creating_a_sequential_model_add_and_pop():
    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )
    assert len(model.layers) == 3

    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))
    model.pop()
    assert len(model.layers) == 2

    model = keras.Sequential(name="my_sequential")
    model.add(layers.Dense(2, activation="relu", name="layer1"))
    model.add(layers.Dense(3, activation="relu", name="layer2"))
    model.add(layers.Dense(4, name="layer3"))
    assert model.name == "my_sequential"
    assert [layer.name for layer in model.layers] == ["layer1", "layer2", "layer3"]


def test_weights_are_created_at_the_first_call():
    layer = layers.Dense(3)
    assert layer.weights == []  # Empty
    x = np.ones((1, 4), dtype="float32")
    layer(x)
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]

    model = keras.Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )  # No weights at this stage!
    model(np.ones((1, 4), dtype="float32"))
    assert len(model.weights) == 6
    text = summary_of(model)
    assert "Total params: 35" in text  # (4*2+2) + (2*3+3) + (3*4+4)


def test_specifying_the_input_shape_in_advance():
    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    text = summary_of(model)
    assert "(None, 2)" in text and "Total params: 10" in text
    # The Input object is not one of model.layers.
    assert len(model.layers) == 1 and isinstance(model.layers[0], layers.Dense)

    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu", input_shape=(4,)))
    assert "Total params: 10" in summary_of(model)
    assert len(model.weights) == 2
    assert tuple(model.output_shape) == (None, 2)


def test_add_and_summary_debugging_workflow_on_a_convolution_stack():
    model = keras.Sequential()
    model.add(keras.Input(shape=(250, 250, 3)))  # 250x250 RGB images
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    # The guide's answer: (40, 40, 32), so we can keep downsampling...
    assert tuple(model.output_shape) == (None, 40, 40, 32)
    assert "(None, 40, 40, 32)" in summary_of(model)

    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))
    assert tuple(model.output_shape) == (None, 4, 4, 32)

    model.add(layers.GlobalMaxPooling2D())
    model.add(layers.Dense(10))
    assert tuple(model.output_shape) == (None, 10)


def test_feature_extraction_with_a_sequential_model():
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )
    x = np.ones((1, 250, 250, 3), dtype="float32")
    features = feature_extractor(x)
    assert [tuple(f.shape) for f in features] == [
        (1, 123, 123, 32),
        (1, 121, 121, 32),
        (1, 119, 119, 32),
    ]
    np.testing.assert_allclose(np.asarray(features[-1]), np.asarray(initial_model(x)), rtol=1e-5)

    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=initial_model.get_layer(name="my_intermediate_layer").output,
    )
    features = feature_extractor(x)
    assert tuple(features.shape) == (1, 121, 121, 32)


def test_transfer_learning_freezing_all_layers_but_the_last():
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(32, activation="relu"),
            layers.Dense(10),
        ]
    )
    for layer in model.layers[:-1]:
        layer.trainable = False
    frozen = [w.copy() for layer in model.layers[:-1] for w in layer.get_weights()]
    last = [w.copy() for w in model.layers[-1].get_weights()]
    model.compile(optimizer="adam", loss="mse")
    x = np.random.random((16, 784)).astype("float32")
    y = np.random.random((16, 10)).astype("float32")
    model.fit(x, y, epochs=1, verbose=0)
    after = [w for layer in model.layers[:-1] for w in layer.get_weights()]
    for before, now in zip(frozen, after, strict=True):
        np.testing.assert_array_equal(before, now)
    assert not np.allclose(last[0], model.layers[-1].get_weights()[0])
    assert len(model.trainable_weights) == 2


def test_transfer_learning_stacking_a_frozen_base_model_and_a_new_head():
    # A small Dense base in place of a pretrained keras.applications model.
    base_model = keras.Sequential(
        [keras.Input(shape=(20,)), layers.Dense(16, activation="relu")], name="base"
    )
    base_model.trainable = False
    model = keras.Sequential([base_model, layers.Dense(1000)])
    assert tuple(model.output_shape) == (None, 1000)
    assert len(model.trainable_weights) == 2
    assert model.count_params() == 20 * 16 + 16 + 16 * 1000 + 1000
    base_before = [w.copy() for w in base_model.get_weights()]
    model.compile(optimizer="adam", loss="mse")
    x = np.random.random((8, 20)).astype("float32")
    y = np.random.random((8, 1000)).astype("float32")
    model.fit(x, y, epochs=1, verbose=0)
    for before, now in zip(base_before, base_model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, now)
