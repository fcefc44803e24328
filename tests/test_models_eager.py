"""The loops that run in Python (``compile(run_eagerly=True)``, overridden steps), custom
losses and metrics written in Python, and the Rust loop's hook for Python metrics."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers


def data(samples=70, features=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, features))
    y = (x[:, :1] + 0.3 * x[:, 1:2] > 0).astype("float64")
    return x, y


def classifier(dtype, eager, loss="binary_crossentropy", metrics=("accuracy", "mae")):
    fg.set_seed(3)
    model = fg.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(5,), dtype=dtype),
            layers.Dense(1, activation="sigmoid", dtype=dtype),
        ]
    )
    model.compile(optimizer="adam", loss=loss, metrics=list(metrics), run_eagerly=eager)
    return model


@pytest.mark.parametrize("dtype,tolerance", [("float64", 1e-10), ("float32", 1e-5)])
def test_run_eagerly_trains_as_the_rust_loop(dtype, tolerance):
    x, y = data()
    x, y = x.astype(dtype), y.astype(dtype)
    histories, weights, evaluations, predictions = [], [], [], []
    for eager in (False, True):
        model = classifier(dtype, eager)
        history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.2, verbose=0)
        histories.append(history.history)
        weights.append(model.get_weights())
        evaluations.append(model.evaluate(x, y, verbose=0))
        predictions.append(model.predict(x, verbose=0))
    rust, eager = histories
    assert list(rust) == list(eager)
    for name in rust:
        np.testing.assert_allclose(eager[name], rust[name], rtol=tolerance, atol=tolerance)
    for a, b in zip(*weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(evaluations[0], evaluations[1], rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(predictions[0], predictions[1], rtol=tolerance, atol=tolerance)
    assert np.abs(weights[0][0] - classifier(dtype, False).get_weights()[0]).max() > 1e-3


def test_the_eager_loop_reads_the_rust_loops_batches():
    order = fg._core.BatchOrder(10, seed=5)
    first, second = order.epoch(0, True), order.epoch(1, True)
    assert sorted(first.tolist()) == list(range(10))
    assert first.tolist() != second.tolist()
    again = fg._core.BatchOrder(10, seed=5)
    assert again.epoch(0, True).tolist() == first.tolist()
    assert fg._core.BatchOrder(4).epoch(0, False).tolist() == [0, 1, 2, 3]


def test_a_custom_loss_function_and_loss_subclass_train_eagerly_as_the_builtin():
    x, y = data()

    def squared(y_true, y_pred):
        return fg.ops.mean(fg.ops.square(y_pred - y_true), axis=-1)

    class Squared(fg.losses.Loss):
        def call(self, y_true, y_pred):
            return fg.ops.mean(fg.ops.square(y_pred - y_true), axis=-1)

    results = []
    for loss, eager in (("mse", False), (squared, True), (Squared(), True), (squared, False)):
        model = classifier("float64", eager, loss=loss, metrics=())
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        results.append((history.history["loss"], model.get_weights()))
    for losses, weights in results[1:]:
        np.testing.assert_allclose(losses, results[0][0], rtol=1e-10)
        for a, b in zip(weights, results[0][1], strict=True):
            np.testing.assert_allclose(a, b, atol=1e-10)


def test_loss_subclass_keras_api_with_sample_weight_and_reductions():
    class AbsError(fg.losses.Loss):
        def __init__(self, name="abs_error", reduction="sum_over_batch_size"):
            super().__init__(name=name, reduction=reduction)

        def call(self, y_true, y_pred):
            return fg.ops.mean(fg.ops.abs(y_pred - y_true), axis=-1)

    y_true = np.array([[0.0], [1.0], [3.0]])
    y_pred = fg.tensor([[1.0], [1.0], [1.0]], dtype="float64", requires_grad=True)
    weights = np.array([2.0, 1.0, 0.5])
    loss = AbsError()(y_true, y_pred, sample_weight=weights)
    assert loss.item() == pytest.approx((2 * 1 + 0 + 0.5 * 2) / 3)
    loss.backward()
    np.testing.assert_allclose(y_pred.grad.numpy().ravel(), [2 / 3, 0.0, -0.5 / 3])
    assert AbsError(reduction="sum")(y_true, y_pred).item() == pytest.approx(3.0)
    assert AbsError(reduction="none")(y_true, y_pred).numpy().tolist() == [1.0, 0.0, 2.0]
    assert AbsError().name == "abs_error"
    with pytest.raises(ValueError, match="reduction"):
        AbsError(reduction="mean")
    with pytest.raises(NotImplementedError, match="call"):
        fg.losses.Loss()([[0.0]], fg.tensor([[1.0]]))


class PositiveRate(fg.metrics.Metric):
    """The fraction of predictions above 0.5, written as Keras 3 writes metrics."""

    def __init__(self, name="positive_rate", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positives = self.add_variable(shape=(), initializer="zeros", name="positives")
        self.total = self.add_weight(name="total", shape=(), initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.positives.assign_add(fg.ops.sum(fg.ops.cast(fg.ops.greater(y_pred, 0.5), "float32")))
        self.total.assign_add(np.asarray(y_pred).shape[0])

    def result(self):
        return self.positives / self.total

    def reset_state(self):
        self.positives.assign(0.0)
        self.total.assign(0.0)


def squared_error(y_true, y_pred):
    return fg.ops.mean(fg.ops.square(y_pred - y_true), axis=-1)


class Recorder(fg.callbacks.Callback):
    def __init__(self, model):
        super().__init__()
        self.watched = model
        self.weights_at_epoch_start = []

    def on_epoch_begin(self, epoch, logs=None):
        self.weights_at_epoch_start.append(self.watched.get_weights())


@pytest.mark.parametrize("eager", [False, True])
def test_custom_metric_and_metric_function_in_the_rust_fit_equal_numpy(eager):
    x, y = data()
    model = classifier("float64", eager, metrics=(PositiveRate(), squared_error, "accuracy"))
    seen = []

    class Batches(fg.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(dict(logs))

    # With lr 0 the predictions of every batch are those of the fixed weights, so the epoch's
    # values are numpy's over the whole data set.
    model.optimizer.learning_rate = 0.0
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[Batches()])
    p = model.predict(x, verbose=0)
    rate = float(np.mean(p > 0.5))
    mse = float(np.mean((p - y) ** 2))
    assert history.history["positive_rate"] == pytest.approx([rate, rate], rel=1e-6)
    assert history.history["squared_error"] == pytest.approx([mse, mse], rel=1e-6)
    # Reset between epochs: the last batch of each epoch reports the epoch alone.
    assert len(seen) == 10 and seen[4]["positive_rate"] == pytest.approx(rate)
    # The first batch's value is of its 16 samples only; the state was reset at the epoch's
    # start (it holds one epoch's samples, not two).
    assert seen[5]["squared_error"] != pytest.approx(mse)
    metric = next(m for m in model._metric_specs if isinstance(m, PositiveRate))
    assert float(metric.total) == 70
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    assert results["positive_rate"] == pytest.approx(rate)
    assert results["squared_error"] == pytest.approx(mse)
    assert set(results) == {"loss", "positive_rate", "squared_error", "accuracy"}


def test_custom_metric_values_follow_the_training_batch_by_batch():
    x, y = data()
    model = classifier("float64", False, metrics=(squared_error,))
    history = model.fit(x, y, epochs=1, batch_size=70, shuffle=False, verbose=0)
    # One batch: the metric sees the predictions of the forward pass before the update.
    fg.set_seed(3)
    fresh = classifier("float64", False, metrics=())
    p = fresh.predict(x, verbose=0)
    assert history.history["squared_error"][0] == pytest.approx(np.mean((p - y) ** 2))


def test_metric_variables_and_reset():
    metric = PositiveRate()
    metric.update_state(None, np.array([0.9, 0.2, 0.7, 0.6]))
    assert float(metric.result()) == pytest.approx(0.75)
    assert [v.name for v in metric.variables] == ["positives", "total"]
    metric.reset_state()
    metric.update_state(None, np.array([0.1]))
    assert float(metric.result()) == 0.0
    mean = fg.metrics.Mean()
    mean.update_state([1.0, 2.0], sample_weight=[3.0, 1.0])
    assert mean.result() == pytest.approx(1.25)
    mean.reset_state()
    assert mean.result() == 0.0
    with pytest.raises(ValueError, match="sample_weight"):
        fg.metrics.BinaryAccuracy().update_state([1], [0.9], sample_weight=[1.0])
    with pytest.raises(NotImplementedError, match="update_state"):
        fg.metrics.Metric().update_state([1], [1])


def test_train_step_override_runs_in_python_with_callbacks_and_history():
    calls = []

    class CustomModel(fg.Model):
        def train_step(self, data):
            calls.append(len(data[0]))
            return super().train_step(data)

    x, y = data()
    fg.set_seed(3)
    inputs = layers.Input(shape=(5,))
    model = CustomModel(inputs, layers.Dense(1, activation="sigmoid")(inputs))
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert calls == [32, 32, 6] * 2
    assert list(history.history) == ["loss", "accuracy"]
    assert [m.name for m in model.metrics] == ["loss", "accuracy"]
    assert history.history["loss"][1] < history.history["loss"][0]


def test_compute_loss_adds_weight_penalties_and_loss_weights():
    fg.set_seed(1)
    inputs = layers.Input(shape=(3,))
    out = layers.Dense(1, kernel_regularizer=fg.regularizers.L2(0.1))(inputs)
    model = fg.Model(inputs, out)
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 3), "float32")
    y = np.zeros((4, 1), "float32")
    y_pred = model(x)
    loss = model.compute_loss(y=y, y_pred=y_pred)
    expected = np.mean(y_pred.numpy() ** 2) + 0.1 * np.sum(model.get_weights()[0] ** 2)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_no_loss_in_compile_needs_a_train_step():
    inputs = layers.Input(shape=(3,))
    model = fg.Model(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="without a loss"):
        model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)


def test_predict_step_override():
    class Doubled(fg.Model):
        def predict_step(self, data):
            return super().predict_step(data) * 2.0

    inputs = layers.Input(shape=(3,))
    model = Doubled(inputs, layers.Dense(2)(inputs))
    x = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    plain = fg.Model(model.inputs, model.outputs)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), 2 * plain.predict(x, verbose=0), rtol=1e-6
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_run_eagerly_with_several_inputs_and_outputs_and_sample_weights(weighted):
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(50, 4)), rng.normal(size=(50, 3))
    y_reg, y_cls = rng.normal(size=(50, 1)), (rng.random((50, 1)) > 0.5) * 1.0
    extra = {"sample_weight": rng.random(50)} if weighted else {}
    runs = []
    for eager in (False, True):
        fg.set_seed(2)
        a, b = layers.Input(shape=(4,), name="a"), layers.Input(shape=(3,), name="b")
        hidden = layers.Dense(6, activation="relu")(layers.Concatenate()([a, b]))
        outputs = [
            layers.Dense(1, name="reg")(hidden),
            layers.Dense(1, activation="sigmoid", name="cls")(hidden),
        ]
        model = fg.Model([a, b], outputs)
        model.compile(
            optimizer="adam",
            loss=["mse", "binary_crossentropy"],
            loss_weights=[1.0, 0.5],
            metrics=[["mae"], ["accuracy"]],
            run_eagerly=eager,
        )
        history = model.fit(
            [x1, x2],
            [y_reg, y_cls],
            epochs=2,
            batch_size=16,
            validation_split=0.2,
            verbose=0,
            **extra,
        )
        runs.append((history.history, model.get_weights()))
    (rust, rust_weights), (eager, eager_weights) = runs
    assert list(eager) == list(rust)
    assert "val_cls_accuracy" in eager and "reg_loss" in eager
    for name in rust:
        np.testing.assert_allclose(eager[name], rust[name], rtol=1e-5)
    for a, b in zip(rust_weights, eager_weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_run_eagerly_reads_a_stream_of_batches_as_the_rust_loop():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(50, 4)), rng.normal(size=(50, 1))

    def batches():
        for start in range(0, 50, 10):
            yield x[start : start + 10], y[start : start + 10]

    runs = []
    for eager in (False, True):
        fg.set_seed(1)
        model = fg.Sequential([layers.Dense(1, input_shape=(4,), dtype="float64")])
        model.compile(optimizer="sgd", loss="mse", run_eagerly=eager)
        history = model.fit(batches(), epochs=1, verbose=0)
        runs.append((history.history["loss"], model.get_weights()[0]))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)
    np.testing.assert_allclose(runs[1][1], runs[0][1], atol=1e-12)


def test_run_eagerly_stops_on_a_nonfinite_loss_and_callbacks_stop_it():
    x, y = data()
    model = classifier("float64", True, metrics=())
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    history = model.fit(x, y, epochs=2, verbose=0, stop_on_nonfinite=True)
    assert history.stopped_on_nonfinite["epoch"] == 0
    assert history.stopped_on_nonfinite["step"] == 0

    class StopAfterTwo(fg.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    model = classifier("float64", True, metrics=())
    model.fit(x, y, epochs=3, batch_size=10, verbose=0, callbacks=[StopAfterTwo()])
    assert model.optimizer.iterations == 2


def test_the_run_eagerly_attribute_switches_the_loop():
    calls = []
    x, y = data()
    model = classifier("float64", False, metrics=())
    model.run_eagerly = True
    original = model.train_step

    def counting(batch):
        calls.append(1)
        return original(batch)

    model.train_step = counting
    model.fit(x, y, epochs=1, batch_size=35, verbose=0)
    assert len(calls) == 2


def test_mean_sum_and_wrapper_equal_keras_with_sample_weights():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(4)
    pairs = [
        (fg.metrics.Mean(), keras.metrics.Mean()),
        (fg.metrics.Sum(), keras.metrics.Sum()),
    ]
    wrapper = fg.metrics.MeanMetricWrapper(fg.losses.mean_squared_error, name="mse")
    theirs_wrapper = keras.metrics.MeanMetricWrapper(keras.losses.mean_squared_error)
    for _ in range(3):
        values = rng.normal(size=(6,))
        weights = rng.random(6)
        for ours, theirs in pairs:
            ours.update_state(values, sample_weight=weights)
            theirs.update_state(values, sample_weight=weights)
        y_true, y_pred = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
        wrapper.update_state(y_true, y_pred, sample_weight=weights)
        theirs_wrapper.update_state(y_true, y_pred, sample_weight=weights)
    for ours, theirs in [*pairs, (wrapper, theirs_wrapper)]:
        assert float(ours.result()) == pytest.approx(float(theirs.result()), rel=1e-5)


def test_a_loss_subclass_equals_the_same_keras_loss_with_sample_weights():
    keras = pytest.importorskip("keras")

    class OursCube(fg.losses.Loss):
        def call(self, y_true, y_pred):
            return fg.ops.mean(fg.ops.abs(y_pred - y_true) ** 3, axis=-1)

    class TheirsCube(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return keras.ops.mean(keras.ops.abs(y_pred - y_true) ** 3, axis=-1)

    rng = np.random.default_rng(6)
    y_true, y_pred = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    weights = rng.random(5)
    for reduction in ("sum_over_batch_size", "sum"):
        ours = OursCube(reduction=reduction)(y_true, fg.tensor(y_pred), sample_weight=weights)
        theirs = TheirsCube(reduction=reduction)(y_true, y_pred, sample_weight=weights)
        assert ours.item() == pytest.approx(float(theirs), rel=1e-5)


def test_the_guides_train_step_equals_keras_on_copied_weights():
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")

    def train_step(self, data, no_grad):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    class Ours(fg.Model):
        def train_step(self, data):
            return train_step(self, data, fg.no_grad)

    class Theirs(keras.Model):
        def train_step(self, data):
            return train_step(self, data, torch.no_grad)

    rng = np.random.default_rng(7)
    x = rng.random((100, 8)).astype("float32")
    y = rng.random((100, 1)).astype("float32")
    inputs = keras.Input(shape=(8,))
    theirs = Theirs(inputs, keras.layers.Dense(1)(keras.layers.Dense(4, activation="tanh")(inputs)))
    inputs = fg.Input(shape=(8,))
    ours = Ours(inputs, layers.Dense(1)(layers.Dense(4, activation="tanh")(inputs)))
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    results = []
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        history = model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        results.append((history.history, [np.asarray(w) for w in model.get_weights()]))
    (ours_history, ours_weights), (theirs_history, theirs_weights) = results
    for name in ("loss", "mae"):
        np.testing.assert_allclose(ours_history[name], theirs_history[name], rtol=1e-5)
    for a, b in zip(ours_weights, theirs_weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_model_compiled_without_a_loss_saves_and_loads(tmp_path):
    inputs = layers.Input(shape=(3,))
    model = fg.Model(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="adam")
    model.save(str(tmp_path / "m.fgm"))
    loaded = fg.models.load_model(str(tmp_path / "m.fgm"))
    assert loaded.loss is None and loaded.optimizer is not None
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])
