"""The keras.io guide "Training & evaluation with the built-in methods" (keras-io
guides/training_with_built_in_methods.py), written with only the import changed
(``import ferrograd as keras``, ``from ferrograd import layers``) and small data: the first
3,000 MNIST digits and a few dozen random images and series.

Each test is one section of the guide and asserts what it shows: the History keys, the
accuracy in a sensible range, the shapes of the predictions, the losses of a model with two
outputs, the callbacks' effects (an early stop, the checkpoint files). The sections built on
``tf.data`` and PyTorch's ``DataLoader`` are left out: they need those libraries' objects, not
Keras's.
"""

import os

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers


@pytest.fixture(scope="module")
def mnist():
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    # Preprocess the data (these are NumPy arrays)
    x_train = x_train[:3500].reshape(3500, 784).astype("float32") / 255
    x_test = x_test[:1000].reshape(1000, 784).astype("float32") / 255
    y_train = y_train[:3500].astype("float32")
    y_test = y_test[:1000].astype("float32")
    # Reserve 500 samples for validation
    x_val = x_train[-500:]
    y_val = y_train[-500:]
    x_train = x_train[:-500]
    y_train = y_train[:-500]
    return x_train, y_train, x_val, y_val, x_test, y_test


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


def test_api_overview_a_first_end_to_end_example(mnist):
    x_train, y_train, x_val, y_val, x_test, y_test = mnist
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(),  # Optimizer
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=2,
        validation_data=(x_val, y_val),
        verbose=0,
    )
    assert sorted(history.history) == [
        "loss",
        "sparse_categorical_accuracy",
        "val_loss",
        "val_sparse_categorical_accuracy",
    ]
    assert all(len(values) == 2 for values in history.history.values())
    assert history.history["loss"][1] < history.history["loss"][0]
    assert 0.8 < history.history["val_sparse_categorical_accuracy"][1] <= 1.0

    results = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    test_loss, test_acc = results
    assert dict(zip(model.metrics_names, results, strict=True)) == {
        "loss": test_loss,
        "sparse_categorical_accuracy": test_acc,
    }
    assert 0.05 < test_loss < 0.8
    assert 0.8 < test_acc <= 1.0

    predictions = model.predict(x_test[:3], verbose=0)
    assert predictions.shape == (3, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)


def test_compile_with_instances_or_string_identifiers(mnist):
    x_train, y_train = mnist[0][:256], mnist[1][:256]
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    model = get_compiled_model()
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "sparse_categorical_accuracy"}
    # The many built-in optimizers, losses and metrics the guide lists.
    for optimizer in (keras.optimizers.SGD(), keras.optimizers.RMSprop(), keras.optimizers.Adam()):
        assert optimizer.learning_rate > 0
    keras.losses.MeanSquaredError()
    keras.losses.KLDivergence()
    keras.losses.CosineSimilarity()
    keras.metrics.AUC()
    keras.metrics.Precision()
    keras.metrics.Recall()


@pytest.mark.skip(
    reason="needs code written in Python: issue 17 (a loss function, which compile refuses: "
    "cannot interpret <function> as a loss; and keras.ops)"
)
def test_custom_loss_function():
    pass


@pytest.mark.skip(reason="needs subclassing: issue 17 (CustomMSE(keras.losses.Loss))")
def test_custom_loss_class():
    pass


@pytest.mark.skip(
    reason="needs subclassing: issue 17 (CategoricalTruePositives(keras.metrics.Metric))"
)
def test_custom_metric():
    pass


@pytest.mark.skip(
    reason="needs subclassing: issue 17 (ActivityRegularizationLayer and LogisticEndpoint "
    "(layers.Layer) calling self.add_loss)"
)
def test_losses_and_metrics_that_do_not_fit_the_standard_signature():
    pass


def test_automatically_setting_apart_a_validation_holdout_set(mnist):
    x_train, y_train = mnist[0][:1000], mnist[1][:1000]
    model = get_compiled_model()
    history = model.fit(x_train, y_train, batch_size=64, validation_split=0.2, epochs=1, verbose=0)
    assert set(history.history) == {
        "loss",
        "sparse_categorical_accuracy",
        "val_loss",
        "val_sparse_categorical_accuracy",
    }
    # The last 20% (200 samples), before any shuffling, are the validation set.
    val_loss, _ = model.evaluate(x_train[800:], y_train[800:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-5)


class ExamplePyDataset(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x = x
        self.y = y
        self.batch_size = batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, idx):
        batch_x = self.x[idx * self.batch_size : (idx + 1) * self.batch_size]
        batch_y = self.y[idx * self.batch_size : (idx + 1) * self.batch_size]
        return batch_x, batch_y


def test_training_and_evaluation_using_py_dataset_instances(mnist):
    x_train, y_train, x_val, y_val = (a[:640] for a in mnist[:4])
    train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32)
    val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32)
    assert len(train_py_dataset) == 20

    model = get_compiled_model()
    history = model.fit(
        train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=1, verbose=0
    )
    assert "val_sparse_categorical_accuracy" in history.history
    loss, accuracy = model.evaluate(val_py_dataset, verbose=0)
    expected_loss, expected_accuracy = model.evaluate(x_val, y_val, verbose=0)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert accuracy == pytest.approx(expected_accuracy, rel=1e-6)


def test_py_dataset_with_four_threads(mnist):
    x_train, y_train, x_val, y_val = (a[:640] for a in mnist[:4])
    train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32, workers=4)
    val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32, workers=4)
    model = get_compiled_model()
    history = model.fit(
        train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=1, verbose=0
    )
    assert np.isfinite(history.history["val_loss"]).all()


CLASS_WEIGHT = {
    0: 1.0,
    1: 1.0,
    2: 1.0,
    3: 1.0,
    4: 1.0,
    # Set weight "2" for class "5", making this class 2x more important
    5: 2.0,
    6: 1.0,
    7: 1.0,
    8: 1.0,
    9: 1.0,
}


def test_class_weights(mnist):
    x_train, y_train = mnist[0][:1000], mnist[1][:1000]
    model = get_compiled_model()
    history = model.fit(
        x_train, y_train, class_weight=CLASS_WEIGHT, batch_size=64, epochs=1, verbose=0
    )
    assert np.isfinite(history.history["loss"]).all()


def test_sample_weights(mnist):
    x_train, y_train = mnist[0][:1000], mnist[1][:1000]
    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0
    model = get_compiled_model()
    history = model.fit(
        x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1, verbose=0
    )
    assert np.isfinite(history.history["loss"]).all()


def multi_input_multi_output_model():
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 10), name="ts_input")

    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)

    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)

    x = layers.concatenate([x1, x2])

    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)

    return keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])


# Generate dummy NumPy data
def dummy_data():
    img_data = np.random.random_sample(size=(100, 32, 32, 3))
    ts_data = np.random.random_sample(size=(100, 20, 10))
    score_targets = np.random.random_sample(size=(100, 1))
    class_targets = np.random.random_sample(size=(100, 5))
    return img_data, ts_data, score_targets, class_targets


def test_passing_data_to_multi_input_multi_output_models():
    model = multi_input_multi_output_model()
    assert model.count_params() == (3 * 3 * 3 * 3 + 3) + (3 * 10 * 3 + 3) + 7 + 35
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.MeanSquaredError(),
            keras.losses.CategoricalCrossentropy(),
        ],
    )
    img_data, ts_data, score_targets, class_targets = dummy_data()
    # Fit on lists
    history = model.fit(
        [img_data, ts_data], [score_targets, class_targets], batch_size=32, epochs=1, verbose=0
    )
    assert {"loss", "score_output_loss", "class_output_loss"} <= set(history.history)
    # Alternatively, fit on dicts
    history = model.fit(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=32,
        epochs=1,
        verbose=0,
    )
    assert np.isfinite(history.history["loss"]).all()
    score, classes = model.predict([img_data[:4], ts_data[:4]], verbose=0)
    assert score.shape == (4, 1) and classes.shape == (4, 5)


def test_losses_and_loss_weights_by_output_name():
    model = multi_input_multi_output_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    img_data, ts_data, score_targets, class_targets = dummy_data()
    history = model.fit(
        {"img_input": img_data, "ts_input": ts_data},
        {"score_output": score_targets, "class_output": class_targets},
        batch_size=100,
        epochs=1,
        verbose=0,
        shuffle=False,
    )
    logs = history.history
    total = 2.0 * logs["score_output_loss"][0] + logs["class_output_loss"][0]
    assert logs["loss"][0] == pytest.approx(total, rel=1e-4)


def test_per_output_metrics_as_lists_and_dicts():
    # The guide's metrics, but for MeanAbsolutePercentageError (see the test below).
    model = multi_input_multi_output_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.MeanSquaredError(),
            keras.losses.CategoricalCrossentropy(),
        ],
        metrics=[
            [keras.metrics.MeanAbsoluteError()],
            [keras.metrics.CategoricalAccuracy()],
        ],
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy(),
        },
        metrics={
            "score_output": [keras.metrics.MeanAbsoluteError()],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    img_data, ts_data, score_targets, class_targets = dummy_data()
    history = model.fit(
        [img_data, ts_data], [score_targets, class_targets], batch_size=32, epochs=1, verbose=0
    )
    assert {
        "loss",
        "score_output_loss",
        "class_output_loss",
        "score_output_mean_absolute_error",
        "class_output_categorical_accuracy",
    } <= set(history.history)


def test_the_mean_absolute_percentage_error_metric():
    model = multi_input_multi_output_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.MeanSquaredError(),
            keras.losses.CategoricalCrossentropy(),
        ],
        metrics=[
            [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            [keras.metrics.CategoricalAccuracy()],
        ],
    )
    img_data, ts_data, score_targets, class_targets = dummy_data()
    history = model.fit(
        [img_data, ts_data], [score_targets, class_targets], batch_size=32, epochs=1, verbose=0
    )
    assert "score_output_mean_absolute_percentage_error" in history.history


@pytest.mark.xfail(
    strict=True,
    reason="not in ferrograd yet (reported): outputs without a loss (loss=[None, ...] or a "
    "loss dict that leaves outputs out); fit raises ValueError: y given as a dict must have "
    "the keys ['score_output', 'class_output']",
)
def test_outputs_without_a_loss():
    model = multi_input_multi_output_model()
    img_data, ts_data, score_targets, class_targets = dummy_data()
    # List loss version
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[None, keras.losses.CategoricalCrossentropy()],
    )
    # Or dict loss version
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={"class_output": keras.losses.CategoricalCrossentropy()},
    )
    history = model.fit(
        {"img_input": img_data, "ts_input": ts_data},
        {"class_output": class_targets},
        batch_size=32,
        epochs=1,
        verbose=0,
    )
    assert np.isfinite(history.history["loss"]).all()


def test_early_stopping_callback(mnist):
    x_train, y_train = mnist[0][:1000], mnist[1][:1000]
    model = get_compiled_model()
    callbacks = [
        keras.callbacks.EarlyStopping(
            # Stop training when `val_loss` is no longer improving
            monitor="val_loss",
            # "no longer improving" being defined as "no better than 1e-2 less"
            min_delta=1e-2,
            # "no longer improving" being further defined as "for at least 2 epochs"
            patience=2,
            verbose=1,
        )
    ]
    history = model.fit(
        x_train,
        y_train,
        epochs=20,
        batch_size=64,
        callbacks=callbacks,
        validation_split=0.2,
        verbose=0,
    )
    val_loss = history.history["val_loss"]
    assert 3 <= len(val_loss) < 20
    # It stopped after two epochs that did not improve on the best earlier one by 1e-2.
    assert min(val_loss[-2:]) > min(val_loss[:-2]) - 1e-2


class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs):
        self.per_batch_losses = []

    def on_batch_end(self, batch, logs):
        self.per_batch_losses.append(logs.get("loss"))


def test_writing_your_own_callback(mnist):
    x_train, y_train = mnist[0][:640], mnist[1][:640]
    model = get_compiled_model()
    loss_history = LossHistory()
    history = model.fit(
        x_train, y_train, epochs=1, batch_size=64, callbacks=[loss_history], verbose=0
    )
    assert len(loss_history.per_batch_losses) == 10
    assert all(np.isfinite(loss) for loss in loss_history.per_batch_losses)
    assert loss_history.per_batch_losses[-1] == pytest.approx(history.history["loss"][0])


def test_checkpointing_models(mnist, tmp_path):
    x_train, y_train, x_val = mnist[0][:1000], mnist[1][:1000], mnist[2]
    model = get_compiled_model()
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            # Path where to save the model
            filepath=str(tmp_path / "mymodel_{epoch}.keras"),
            save_best_only=True,  # Only save a model if `val_loss` has improved.
            monitor="val_loss",
            verbose=1,
        )
    ]
    history = model.fit(
        x_train,
        y_train,
        epochs=2,
        batch_size=64,
        callbacks=callbacks,
        validation_split=0.2,
        verbose=0,
    )
    saved = sorted(os.listdir(tmp_path))
    assert saved[0] == "mymodel_1.keras"
    if history.history["val_loss"][1] < history.history["val_loss"][0]:
        assert saved == ["mymodel_1.keras", "mymodel_2.keras"]
        restored = keras.models.load_model(tmp_path / "mymodel_2.keras")
        np.testing.assert_array_equal(
            restored.predict(x_val, verbose=0), model.predict(x_val, verbose=0)
        )


def test_checkpoints_for_fault_tolerance(mnist, tmp_path):
    x_train, y_train = mnist[0][:640], mnist[1][:640]
    checkpoint_dir = str(tmp_path / "ckpt")
    if not os.path.exists(checkpoint_dir):
        os.makedirs(checkpoint_dir)

    def make_or_restore_model():
        # Either restore the latest model, or create a fresh one
        # if there is no checkpoint available.
        checkpoints = [checkpoint_dir + "/" + name for name in os.listdir(checkpoint_dir)]
        if checkpoints:
            latest_checkpoint = max(checkpoints, key=os.path.getctime)
            return keras.models.load_model(latest_checkpoint)
        return get_compiled_model()

    model = make_or_restore_model()
    callbacks = [
        # This callback saves the model every 100 batches.
        # We include the training loss in the saved model name.
        keras.callbacks.ModelCheckpoint(
            filepath=checkpoint_dir + "/model-loss={loss:.2f}.keras", save_freq=5
        )
    ]
    model.fit(x_train, y_train, epochs=1, callbacks=callbacks, verbose=0)
    names = os.listdir(checkpoint_dir)
    assert len(names) >= 1 and all(n.startswith("model-loss=") for n in names)
    restored = make_or_restore_model()
    assert restored.count_params() == model.count_params()


def test_learning_rate_schedules():
    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
    assert float(lr_schedule(0)) == pytest.approx(0.1)
    assert float(lr_schedule(100000)) == pytest.approx(0.096)
    assert float(lr_schedule(150000)) == pytest.approx(0.096)  # staircase
    model = get_uncompiled_model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    x = np.random.random((64, 784)).astype("float32")
    y = np.random.randint(10, size=(64,))
    model.fit(x, y, epochs=1, verbose=0)
    keras.callbacks.ReduceLROnPlateau()


@pytest.mark.xfail(
    strict=True,
    reason="not in ferrograd yet (reported): keras.callbacks.TensorBoard (AttributeError)",
)
def test_tensorboard_callback(tmp_path):
    keras.callbacks.TensorBoard(
        log_dir=str(tmp_path / "logs"),
        histogram_freq=0,  # How often to log histogram visualizations
        embeddings_freq=0,  # How often to log embedding visualizations
        update_freq="epoch",
    )  # How often to write logs (default: once per epoch)
