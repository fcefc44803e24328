"""Layers and models written in Python (Keras's subclassing), ``Lambda`` and Python losses:
traced once into the graph that the Rust loops run, and equal to the same code run eagerly."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers, ops
from ferrograd.errors import TracingError

RNG = np.random.default_rng(0)
X = RNG.normal(size=(96, 6)).astype("float64")
Y = (X[:, :1] * 2.0 - X[:, 1:2]).astype("float64")


class Linear(layers.Layer):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal", name="w"
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class Block(layers.Layer):
    """Sublayers in a list and a dict, a built-in layer, ops between them."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        dtype = self.dtype
        self.parts = [Linear(5, name="first", dtype=dtype), Linear(5, name="second", dtype=dtype)]
        self.heads = {"out": layers.Dense(1, name="head", dtype=dtype)}

    def call(self, inputs):
        h = ops.tanh(self.parts[0](inputs)) + ops.sigmoid(self.parts[1](inputs))
        return self.heads["out"](h)


class Net(fg.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = Block(name="block", dtype="float64")
        self.scale = Linear(1, name="scale", dtype="float64")

    def call(self, inputs, training=None):
        return self.block(inputs) + 0.5 * self.scale(inputs)


def _net(seed=3):
    fg.set_seed(seed)
    net = Net(dtype="float64")
    net.build((None, 6))
    return net


def test_weights_are_tracked_through_lists_dicts_and_nesting():
    net = _net()
    names = [name for name, _ in net.named_weights()]
    assert len(names) == len(set(names)) == 8
    # By attribute path, so that a new instance of the class loads saved weights.
    assert {"block/heads.out/kernel", "block/parts.1/w", "scale/b"} <= set(names)
    assert net.count_params() == (6 * 5 + 5) * 2 + (5 + 1) + (6 + 1)
    assert len(net.block.trainable_weights) == 6


def test_traced_graph_computes_what_the_eager_call_computes():
    net = _net()
    eager = net(X[:7]).numpy()  # the Python call(), op by op
    traced = net.predict(X[:7], verbose=0)  # the traced graph, in Rust
    np.testing.assert_allclose(traced, eager, rtol=1e-12, atol=1e-12)
    # Batches of sizes the tracer never saw (1, 5, 96) run too.
    for rows in (1, 5, 96):
        np.testing.assert_allclose(
            net.predict(X[:rows], verbose=0), net(X[:rows]).numpy(), rtol=1e-12, atol=1e-12
        )


def test_fit_of_a_subclassed_model_equals_a_hand_written_loop():
    net = _net()
    start = [w.numpy().copy() for w in net.weights]
    net.compile(optimizer=fg.optimizers.SGD(0.05), loss="mse")
    history = net.fit(X, Y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    trained = [w.numpy().copy() for w in net.weights]

    for weight, value in zip(net.weights, start, strict=True):
        fg._core.assign(weight, value)
    losses = []
    for _ in range(2):
        for begin in range(0, len(X), 32):
            net.zero_grad()
            loss = ops.mean(ops.square(net(X[begin : begin + 32]) - Y[begin : begin + 32]))
            loss.backward()
            losses.append(loss.item())
            with fg.no_grad():
                for weight in net.trainable_weights:
                    weight -= 0.05 * weight.grad
    for got, want in zip(trained, [w.numpy() for w in net.weights], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert history.history["loss"][-1] == pytest.approx(np.mean(losses[3:]), rel=1e-10)


def test_a_python_layer_in_functional_and_sequential_models_trains():
    fg.set_seed(0)
    inputs = layers.Input(shape=(6,))
    outputs = layers.Dense(1)(Linear(8, name="lin")(inputs))
    model = fg.Model(inputs, outputs)
    model.compile(fg.optimizers.Adam(0.02), "mse")
    lin_w = dict(model.named_weights())["lin/w"]
    before = lin_w.numpy().copy()
    first = model.fit(X.astype("float32"), Y.astype("float32"), epochs=1, verbose=0)
    later = model.fit(X.astype("float32"), Y.astype("float32"), epochs=20, verbose=0)
    assert later.history["loss"][-1] < first.history["loss"][0] * 0.1
    assert np.abs(lin_w.numpy() - before).max() > 0.05  # the Python layer's weight trained
    assert {"lin/w", "lin/b"} <= {name for name, _ in model.named_weights()}

    seq = fg.Sequential([layers.Input(shape=(6,)), Linear(3), layers.Lambda(ops.relu)])
    out = seq.predict(X[:4].astype("float32"), verbose=0)
    assert out.shape == (4, 3) and (out >= 0).all()


def test_lambda_and_reshapes_that_follow_the_batch():
    class Heads(layers.Layer):
        def call(self, x):
            batch = ops.shape(x)[0]
            y = ops.transpose(ops.reshape(x, (batch, 2, 3)), (0, 2, 1))
            return ops.reshape(y, (batch, -1))

    inputs = layers.Input(shape=(6,))
    model = fg.Model(inputs, layers.Lambda(lambda t: t * 2.0)(Heads()(inputs)))
    for rows in (1, 4, 11):
        want = X[:rows].reshape(rows, 2, 3).transpose(0, 2, 1).reshape(rows, -1) * 2.0
        got = model.predict(X[:rows].astype("float32"), verbose=0)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_random_draws_in_call_follow_the_batch_and_change_each_pass():
    class Noise(layers.Layer):
        def call(self, x, training=None):
            if training:
                return x + fg.random.normal((ops.shape(x)[0], 6), stddev=1.0)
            return x

    inputs = layers.Input(shape=(6,))
    model = fg.Model(inputs, Noise()(inputs))
    x = np.zeros((5, 6), dtype="float32")
    # Inference: the branch without noise.
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    # Training mode: noise of the batch's shape, new at each pass.
    first = model(x, training=True).numpy()
    model.compile("sgd", "mse")
    graph_train = [model._graph.forward([fg.tensor(x)], True).numpy() for _ in range(2)]
    assert first.shape == graph_train[0].shape == (5, 6)
    assert not np.array_equal(graph_train[0], graph_train[1])
    assert abs(graph_train[0].std() - 1.0) < 0.5


def test_python_control_flow_on_values_is_refused_naming_the_line():
    class Branchy(layers.Layer):
        def call(self, x):
            if ops.sum(x) > 0:  # the line the error names
                return x
            return -x

    inputs = layers.Input(shape=(6,))
    with pytest.raises(TracingError, match=r"test_subclassing.py:\d+ \(if ops.sum\(x\) > 0:"):
        Branchy()(inputs)
    with pytest.raises(TracingError, match="run_eagerly=True"):
        Branchy()(inputs)
    # Eagerly the same layer runs.
    assert Branchy()(np.ones((1, 6), dtype="float32")).numpy().sum() == 6.0


def test_python_losses_train_as_the_built_in_one():
    def squared(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    def via_builtin(y_true, y_pred):
        return fg.losses.mean_squared_error(y_true, y_pred) * 1.0

    histories = []
    for loss in ("mse", squared, via_builtin):
        fg.set_seed(1)
        model = fg.Sequential([layers.Dense(1, input_shape=(6,), dtype="float64")])
        model.compile("sgd", loss)
        histories.append(model.fit(X, Y, epochs=3, batch_size=32, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-12)
    np.testing.assert_allclose(histories[2], histories[0], rtol=1e-12)


def test_add_weight_validates_and_respects_trainable():
    layer = layers.Layer(name="holder")
    frozen = layer.add_weight(shape=(2,), initializer="ones", trainable=False, name="count")
    assert not frozen.requires_grad
    assert layer.non_trainable_weights[0] is frozen
    with pytest.raises(ValueError, match="negative"):
        layer.add_weight(shape=(-1,))
    with pytest.raises(ValueError, match="constraint"):
        layer.add_weight(shape=(1,), constraint="non_neg")


@fg.saving.register_keras_serializable(package="Tests")
class Saved(fg.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = [layers.Dense(units, activation="relu"), Linear(units)]
        self.out = layers.Dense(1)

    def call(self, x):
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)


class NotRegistered(Saved):
    pass


def test_a_subclassed_model_saves_and_loads_by_its_registered_class(tmp_path):
    fg.set_seed(0)
    x = X.astype("float32")
    model = Saved(units=6, name="saved")
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, Y.astype("float32"), epochs=2, verbose=0)
    model.save(tmp_path / "saved.fgm")
    loaded = fg.models.load_model(tmp_path / "saved.fgm")
    assert type(loaded) is Saved and loaded.units == 6 and loaded.name == "saved"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # The optimizer's state came along: training continues identically.
    again = [
        m.fit(x, Y.astype("float32"), epochs=1, shuffle=False, verbose=0) for m in (model, loaded)
    ]
    assert again[0].history == again[1].history


def test_loading_a_class_the_program_did_not_give_names_it(tmp_path):
    model = NotRegistered(units=3)
    model.build((None, 6))
    model.save(tmp_path / "other.fgm")
    with pytest.raises(fg.errors.FileFormatError, match=r"custom_objects=\{'NotRegistered'"):
        fg.models.load_model(tmp_path / "other.fgm")
    loaded = fg.models.load_model(
        tmp_path / "other.fgm", custom_objects={"NotRegistered": NotRegistered}
    )
    np.testing.assert_array_equal(
        loaded.predict(X[:4].astype("float32"), verbose=0),
        model.predict(X[:4].astype("float32"), verbose=0),
    )


def test_a_functional_model_with_a_python_layer_refuses_to_save_by_name(tmp_path):
    inputs = layers.Input(shape=(6,))
    model = fg.Model(inputs, Linear(2, name="lin")(inputs))
    with pytest.raises(ValueError, match="'lin' .* is written in Python"):
        model.save(tmp_path / "f.fgm")
    model.save_weights(tmp_path / "f.weights.safetensors")
