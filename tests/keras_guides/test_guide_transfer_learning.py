"""The keras.io guide "Transfer learning & fine-tuning" (keras-io guides/transfer_learning.py),
written with only the import changed (``import ferrograd as keras``) on a small Dense base
model in place of the pretrained ``keras.applications.Xception``, and a small synthetic task
in place of cats and dogs.

Each test is one section of the guide and asserts what it shows: the counts of trainable and
non-trainable weights, frozen weights that training leaves equal, ``trainable`` propagated to
the layers of a frozen model, a base model called with ``training=False`` whose
BatchNormalization statistics fine-tuning leaves alone, and the accuracy of the new head. Left
out: the image-augmentation layers (``RandomFlip``, ``RandomRotation``), which ferrograd does not
have.
"""

import numpy as np

import ferrograd as keras


def test_trainable_and_non_trainable_weights():
    layer = keras.layers.Dense(3)
    layer.build((None, 4))  # Create the weights
    assert len(layer.weights) == 2
    assert len(layer.trainable_weights) == 2
    assert len(layer.non_trainable_weights) == 0

    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))  # Create the weights
    assert len(layer.weights) == 4
    assert len(layer.trainable_weights) == 2
    assert len(layer.non_trainable_weights) == 2


def test_setting_trainable_to_false():
    layer = keras.layers.Dense(3)
    layer.build((None, 4))  # Create the weights
    layer.trainable = False  # Freeze the layer
    assert len(layer.weights) == 2
    assert len(layer.trainable_weights) == 0
    assert len(layer.non_trainable_weights) == 2

    # Make a model with 2 layers
    layer1 = keras.layers.Dense(3, activation="relu")
    layer2 = keras.layers.Dense(3, activation="sigmoid")
    model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])
    # Freeze the first layer
    layer1.trainable = False
    # Keep a copy of the weights of layer1 for later reference
    initial_layer1_weights_values = layer1.get_weights()
    initial_layer2_weights_values = layer2.get_weights()
    # Train the model
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=0)
    # Check that the weights of layer1 have not changed during training
    final_layer1_weights_values = layer1.get_weights()
    np.testing.assert_allclose(initial_layer1_weights_values[0], final_layer1_weights_values[0])
    np.testing.assert_allclose(initial_layer1_weights_values[1], final_layer1_weights_values[1])
    assert not np.allclose(initial_layer2_weights_values[0], layer2.get_weights()[0])


def test_trainable_is_set_recursively():
    inner_model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            keras.layers.Dense(3, activation="relu"),
            keras.layers.Dense(3, activation="relu"),
        ]
    )
    model = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            inner_model,
            keras.layers.Dense(3, activation="sigmoid"),
        ]
    )
    model.trainable = False  # Freeze the outer model
    assert inner_model.trainable is False  # All layers in `model` are now frozen
    assert inner_model.layers[0].trainable is False  # `trainable` is propagated recursively
    assert model.trainable_weights == []
    assert len(model.non_trainable_weights) == 6


def pretrained_base_model():
    """A small Dense base with a BatchNormalization, trained first on its own task: the
    stand-in for the pretrained Xception of the guide."""
    keras.set_seed(1)
    rng = np.random.default_rng(1)
    inputs = keras.Input(shape=(20,))
    x = keras.layers.Dense(32, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    outputs = keras.layers.Dense(16, activation="relu")(x)
    base_model = keras.Model(inputs, outputs, name="base_model")
    # "Pretraining": a few epochs on a related regression task.
    pretraining = keras.Sequential([base_model, keras.layers.Dense(4)])
    pretraining.compile(optimizer="adam", loss="mse")
    x_pre = rng.normal(size=(512, 20)).astype("float32")
    y_pre = np.stack(
        [x_pre[:, :5].sum(1), x_pre[:, 5:10].sum(1), x_pre[:, 10:15].sum(1), x_pre[:, 15:].sum(1)],
        axis=1,
    ).astype("float32")
    pretraining.fit(x_pre, y_pre, epochs=10, batch_size=32, verbose=0)
    return base_model


def new_task(n=600):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(n, 20)).astype("float32")
    y = (x[:, :10].sum(1) > x[:, 10:].sum(1)).astype("float32").reshape(-1, 1)
    return x, y


def transfer_model(base_model):
    inputs = keras.Input(shape=(20,))
    # We make sure that the base_model is running in inference mode here,
    # by passing `training=False`.
    x = base_model(inputs, training=False)
    x = keras.layers.Dropout(0.2)(x)  # Regularize with dropout
    outputs = keras.layers.Dense(1)(x)
    return keras.Model(inputs, outputs)


def compile_for_the_new_task(model, learning_rate=0.001):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )


def test_the_typical_transfer_learning_workflow_then_fine_tuning():
    base_model = pretrained_base_model()
    base_weights = [w.copy() for w in base_model.get_weights()]

    base_model.trainable = False
    model = transfer_model(base_model)
    # The head alone trains: 16 weights and a bias.
    assert len(model.trainable_weights) == 2
    assert sum(w.size for w in model.trainable_weights) == 17
    assert model.count_params() == base_model.count_params() + 17

    compile_for_the_new_task(model)
    x_train, y_train = new_task()
    history = model.fit(
        x_train[:500],
        y_train[:500],
        # 20 in the guide; the head on this small stand-in base learns more slowly with the base
        # in inference mode (0.58 after 20 epochs, 0.68 after 40).
        epochs=40,
        validation_data=(x_train[500:], y_train[500:]),
        verbose=0,
    )
    assert set(history.history) == {
        "loss",
        "binary_accuracy",
        "val_loss",
        "val_binary_accuracy",
    }
    # The frozen base's trainable weights (kernels, biases, gamma and beta) have not moved.
    trained = base_model.get_weights()
    for index in (0, 1, 2, 3, 6, 7):
        np.testing.assert_array_equal(base_weights[index], trained[index])
    assert 0.6 < history.history["val_binary_accuracy"][-1] <= 1.0

    # Fine-tuning: unfreeze the base model, recompile with a low learning rate.
    base_model.trainable = True
    assert len(model.trainable_weights) == 2 + 2 + 2 + 2  # Dense, BN gamma/beta, Dense, head
    compile_for_the_new_task(model, 1e-5)  # Low learning rate
    history = model.fit(x_train[:500], y_train[:500], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    kernel_before, kernel_after = base_weights[0], base_model.get_weights()[0]
    assert not np.array_equal(kernel_before, kernel_after)  # the base trains now
    assert np.abs(kernel_after - kernel_before).max() < 1e-2  # ...slowly


def test_a_frozen_batch_normalization_runs_in_inference_mode():
    base_model = pretrained_base_model()
    moving = [w.copy() for w in base_model.get_weights()[4:6]]
    base_model.trainable = False
    # Called without training=False: the frozen layer alone must keep inference mode.
    inputs = keras.Input(shape=(20,))
    model = keras.Model(inputs, keras.layers.Dense(1)(base_model(inputs)))
    compile_for_the_new_task(model)
    x_train, y_train = new_task()
    model.fit(x_train, y_train, epochs=1, verbose=0)
    for before, after in zip(moving, base_model.get_weights()[4:6], strict=True):
        np.testing.assert_array_equal(before, after)


def test_fine_tuning_keeps_a_base_called_with_training_false_in_inference_mode():
    base_model = pretrained_base_model()
    moving = [w.copy() for w in base_model.get_weights()[4:6]]
    model = transfer_model(base_model)
    compile_for_the_new_task(model, 1e-5)
    x_train, y_train = new_task()
    model.fit(x_train, y_train, epochs=1, verbose=0)
    # Called with training=False, the base's BatchNormalization stays in inference mode:
    # fine-tuning leaves its moving mean and variance alone.
    for before, after in zip(moving, base_model.get_weights()[4:6], strict=True):
        np.testing.assert_array_equal(before, after)


def test_a_frozen_base_model_in_a_summary():
    base_model = pretrained_base_model()
    base_model.trainable = False
    inputs = keras.Input(shape=(20,))
    x = base_model(inputs, training=False)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    # The base model is one row, as Keras shows it.
    assert "base_model (Functional)" in text
    n_base = base_model.count_params()
    assert f"Total params: {n_base + 17:,}" in text
    assert "Trainable params: 17 " in text
    assert f"Non-trainable params: {n_base:,}" in text

    # The end-to-end example's summary(show_trainable=True): the frozen base reads N.
    lines = []
    model.summary(show_trainable=True, print_fn=lines.append)
    rows = [line for line in lines[0].splitlines() if line.startswith("│")]
    assert [row.split("│")[4].strip() for row in rows] == ["-", "N", "Y"]


def test_standardizing_the_inputs_with_rescaling():
    inputs = keras.Input(shape=(20,))
    scale_layer = keras.layers.Rescaling(scale=1 / 127.5, offset=-1)
    x = scale_layer(inputs)
    model = keras.Model(inputs, x)
    out = model.predict(np.full((1, 20), 255.0, dtype="float32"), verbose=0)
    np.testing.assert_allclose(out, 1.0, rtol=1e-6)
