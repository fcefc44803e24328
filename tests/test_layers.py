"""Layers: values against numpy, float64 gradients against finite differences, settings,
initializers, regularizers and the errors of bad arguments."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers


def numpy_activation(name, z):
    from scipy.special import erf

    return {
        "linear": lambda v: v,
        "relu": lambda v: np.maximum(v, 0),
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "tanh": np.tanh,
        "softmax": lambda v: (
            np.exp(v - v.max(-1, keepdims=True))
            / np.exp(v - v.max(-1, keepdims=True)).sum(-1, keepdims=True)
        ),
        "leaky_relu": lambda v: np.where(v > 0, v, 0.2 * v),
        "elu": lambda v: np.where(v > 0, v, np.expm1(v)),
        "gelu": lambda v: 0.5 * v * (1 + erf(v / np.sqrt(2))),
        "softplus": lambda v: np.log1p(np.exp(v)),
        "silu": lambda v: v / (1 + np.exp(-v)),
    }[name](z)


def finite_difference_check(function, tensors, eps=1e-6, rtol=1e-6, atol=1e-8):
    """Central differences of ``sum(function() * w)`` for a fixed random ``w``, against
    backward, for every float64 tensor in ``tensors``."""
    out = function()
    weights = np.random.default_rng(7).standard_normal(out.shape)
    for t in tensors:
        t.grad = None
    (out * fg.tensor(weights, dtype="float64")).sum().backward()
    for t in tensors:
        analytic = t.grad.numpy()
        values = t.numpy().copy()
        numeric = np.zeros_like(values)
        for index in np.ndindex(values.shape):
            for sign in (1, -1):
                moved = values.copy()
                moved[index] += sign * eps
                fg._core.assign(t, moved)
                with fg.no_grad():
                    numeric[index] += sign * float((function().numpy() * weights).sum())
            numeric[index] /= 2 * eps
        fg._core.assign(t, values)
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    "activation",
    [
        "linear",
        "relu",
        "sigmoid",
        "tanh",
        "softmax",
        "leaky_relu",
        "elu",
        "gelu",
        "softplus",
        "silu",
    ],
)
def test_dense_matches_numpy(activation, rng):
    x = rng.standard_normal((5, 4)).astype("float32")
    layer = layers.Dense(3, activation=activation)
    out = layer(x).numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (4, 3) and bias.shape == (3,)
    np.testing.assert_allclose(
        out, numpy_activation(activation, x @ kernel + bias), rtol=1e-5, atol=1e-6
    )


def test_dense_on_a_sequence_acts_on_the_last_axis(rng):
    x = rng.standard_normal((2, 7, 4)).astype("float32")
    layer = layers.Dense(5)
    layer.build((None, 7, 4))
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(layer(x).numpy(), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 7, 4)) == (None, 7, 5)


@pytest.mark.parametrize("activation", ["linear", "relu", "softmax", "tanh", "gelu"])
def test_dense_gradients_match_finite_differences(activation, rng):
    layer = layers.Dense(3, activation=activation, dtype="float64")
    x = fg.tensor(rng.standard_normal((4, 5)), dtype="float64", requires_grad=True)
    layer.build((None, 5))
    finite_difference_check(lambda: layer(x), [x, layer.kernel, layer.bias])


def test_batch_normalization_gradients_match_finite_differences(rng):
    layer = layers.BatchNormalization(dtype="float64")
    x = fg.tensor(rng.standard_normal((6, 3)), dtype="float64", requires_grad=True)
    layer.build((None, 3))
    gamma, beta = layer.trainable_weights
    fg._core.assign(gamma, rng.standard_normal(3))
    finite_difference_check(lambda: layer(x, training=True), [x, gamma, beta])
    finite_difference_check(lambda: layer(x, training=False), [x, gamma, beta])


def test_batch_normalization_statistics(rng):
    x = (rng.standard_normal((256, 4)) * 3 + 5).astype("float32")
    layer = layers.BatchNormalization(momentum=0.9)
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(y.std(0), 1, atol=1e-3)
    moving_mean, moving_var = (w.numpy() for w in layer.non_trainable_weights)
    np.testing.assert_allclose(moving_mean, 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(moving_var, 0.9 + 0.1 * x.var(0), rtol=1e-5)
    inference = layer(x, training=False).numpy()
    expected = (x - moving_mean) / np.sqrt(moving_var + 1e-3)
    np.testing.assert_allclose(inference, expected, rtol=1e-4, atol=1e-5)


def test_dropout_is_active_only_in_training():
    x = np.ones((200, 50), dtype="float32")
    layer = layers.Dropout(0.4)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    dropped = layer(x, training=True).numpy()
    kept = dropped != 0
    assert abs(kept.mean() - 0.6) < 0.02
    np.testing.assert_allclose(dropped[kept], 1 / 0.6, rtol=1e-6)
    with pytest.raises(ValueError, match="rate=1"):
        layers.Dropout(1)


def test_flatten_and_activation_layers(rng):
    x = rng.standard_normal((3, 4, 5)).astype("float32")
    assert layers.Flatten()(x).shape == (3, 20)
    assert layers.Flatten().compute_output_shape((None, 4, 5)) == (None, 20)
    np.testing.assert_allclose(layers.Activation("relu")(x).numpy(), np.maximum(x, 0))


def test_dense_settings_and_errors():
    with pytest.raises(ValueError, match="units=0"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="relu6"):
        layers.Dense(3, activation="relu6")
    with pytest.raises(ValueError, match="glorot_uniform"):
        layers.Dense(3, kernel_initializer="xavier")
    layer = layers.Dense(4, use_bias=False, activation=fg.activations.tanh)
    layer.build((None, 2))
    assert len(layer.weights) == 1 and layer.bias is None
    assert layer.get_config()["activation"] == "tanh"
    with pytest.raises(ValueError, match="last dimension must be known"):
        layers.Dense(3).build((None, None))


def test_layer_names_are_unique():
    fg.clear_session()
    names = [layers.Dense(1).name for _ in range(3)]
    assert names == ["dense", "dense_1", "dense_2"]
    assert layers.BatchNormalization().name == "batch_normalization"


def test_seeded_initialisation_is_repeatable():
    def weights():
        fg.set_seed(42)
        layer = layers.Dense(8)
        layer.build((None, 5))
        return layer.get_weights()[0]

    np.testing.assert_array_equal(weights(), weights())
    fg.set_seed(43)
    assert not np.array_equal(weights(), fg.initializers.GlorotUniform()((5, 8)).numpy())


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("zeros", lambda w: np.all(w == 0)),
        ("ones", lambda w: np.all(w == 1)),
        ("glorot_uniform", lambda w: np.abs(w).max() <= np.sqrt(6 / (400 + 300))),
        ("he_uniform", lambda w: np.abs(w).max() <= np.sqrt(6 / 400)),
        ("random_uniform", lambda w: np.abs(w).max() <= 0.05),
        ("random_normal", lambda w: abs(w.std() - 0.05) < 0.002),
        ("he_normal", lambda w: abs(w.std() - np.sqrt(2 / 400)) < 0.003),
        ("glorot_normal", lambda w: abs(w.std() - np.sqrt(2 / 700)) < 0.003),
        ("lecun_normal", lambda w: abs(w.std() - np.sqrt(1 / 400)) < 0.003),
    ],
)
def test_initializers_follow_keras(name, check):
    w = fg.initializers.get(name)((400, 300)).numpy()
    assert w.shape == (400, 300) and check(w)


def test_orthogonal_initializer():
    q = fg.initializers.Orthogonal()((64, 32)).numpy().astype("float64")
    np.testing.assert_allclose(q.T @ q, np.eye(32), atol=1e-5)


def test_regularizers_add_their_penalty(rng):
    layer = layers.Dense(3, kernel_regularizer=fg.regularizers.l1_l2(l1=0.1, l2=0.01))
    layer.build((None, 4))
    kernel = layer.kernel.numpy()
    (penalty,) = layer.losses
    expected = 0.1 * np.abs(kernel).sum() + 0.01 * (kernel**2).sum()
    assert penalty.item() == pytest.approx(expected, rel=1e-5)
    assert fg.regularizers.l2(0.5)(layer.kernel).item() == pytest.approx(
        0.5 * (kernel**2).sum(), rel=1e-5
    )
    with pytest.raises(ValueError):
        fg.regularizers.L1L2(l1=-1)
    assert layers.Dense(3).losses == []


def test_regularizer_configs_are_keras_and_round_trip(rng):
    # Keras's configs: each class names the factors it takes, and from_config rebuilds it.
    assert fg.regularizers.L1(0.005).get_config() == {"l1": 0.005}
    assert fg.regularizers.L2(0.5).get_config() == {"l2": 0.5}
    assert fg.regularizers.L1L2(l1=0.1, l2=0.2).get_config() == {"l1": 0.1, "l2": 0.2}
    kernel = fg.tensor(rng.standard_normal((4, 3)).astype("float32"))
    for reg in (fg.regularizers.L1(0.3), fg.regularizers.L2(0.2), fg.regularizers.l1_l2()):
        copy = type(reg).from_config(reg.get_config())
        assert type(copy) is type(reg) and copy.get_config() == reg.get_config()
        assert copy(kernel).item() == pytest.approx(reg(kernel).item(), rel=1e-6)
    # A layer's L1 penalty keeps its L2 factor at zero.
    layer = layers.Dense(3, kernel_regularizer=fg.regularizers.L1(0.1))
    layer.build((None, 4))
    (penalty,) = layer.losses
    assert penalty.item() == pytest.approx(0.1 * np.abs(layer.kernel.numpy()).sum(), rel=1e-5)


def test_frozen_layers_have_no_trainable_weights():
    layer = layers.Dense(2, trainable=False)
    layer.build((None, 3))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    layer.trainable = True
    assert len(layer.trainable_weights) == 2


def test_set_weights_checks_every_shape_before_changing_anything():
    layer = layers.Dense(2)
    layer.build((None, 3))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"\(2,\)"):
        layer.set_weights([np.ones((3, 2)), np.ones(5)])
    for a, b in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    layer.set_weights([np.ones((3, 2)), np.zeros(2)])
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones((3, 2)))


def test_activation_functions_match_numpy(rng):
    x = rng.standard_normal((4, 5)).astype("float32")
    for name in [
        "relu",
        "sigmoid",
        "tanh",
        "softmax",
        "elu",
        "gelu",
        "softplus",
        "silu",
        "leaky_relu",
    ]:
        function = fg.activations.get(name)
        np.testing.assert_allclose(
            function(fg.tensor(x)).numpy(), numpy_activation(name, x), rtol=1e-5, atol=1e-6
        )
    np.testing.assert_allclose(
        fg.activations.leaky_relu(fg.tensor(x), negative_slope=0.1).numpy(),
        np.where(x > 0, x, 0.1 * x),
    )
