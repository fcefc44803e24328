"""Keras 3's everyday reshaping and activation layers: shapes, values against numpy and
PyTorch, float64 gradients against finite differences, bad arguments, configs, saving and
training."""

import numpy as np
import pytest
import torch
from gradcheck import check_gradients
from test_layers import finite_difference_check

import ferrograd as fg
from ferrograd import layers


@pytest.fixture
def rng():
    return np.random.default_rng(16)


def call(layer, x, training=False):
    """The layer's float64 output on ``x`` as an array."""
    return layer(fg.tensor(np.asarray(x), dtype="float64"), training=training).numpy()


# --- shapes ---------------------------------------------------------------------------------

SHAPE_CASES = [
    (lambda: layers.Reshape((3, -1)), (None, 2, 6), (None, 3, 4)),
    (lambda: layers.Reshape((12,)), (None, 3, 4), (None, 12)),
    (lambda: layers.Reshape((-1, 2)), (None, None), (None, None, 2)),
    (lambda: layers.Permute((2, 1)), (None, 3, 4), (None, 4, 3)),
    (lambda: layers.Permute((3, 1, 2)), (None, 2, 3, 4), (None, 4, 2, 3)),
    (lambda: layers.RepeatVector(5), (None, 4), (None, 5, 4)),
    (lambda: layers.Identity(), (None, 3, 4), (None, 3, 4)),
    (lambda: layers.Softmax(axis=1), (None, 3, 4), (None, 3, 4)),
    (lambda: layers.ReLU(), (None, 7), (None, 7)),
    (lambda: layers.LeakyReLU(), (None, 7), (None, 7)),
    (lambda: layers.ELU(), (None, 7), (None, 7)),
    (lambda: layers.PReLU(shared_axes=[1]), (None, None, 7), (None, None, 7)),
    (lambda: layers.LayerNormalization(axis=(1, 2)), (None, 3, 4), (None, 3, 4)),
]


@pytest.mark.parametrize(("make", "input_shape", "output_shape"), SHAPE_CASES)
def test_compute_output_shape_and_calls_agree(make, input_shape, output_shape, rng):
    layer = make()
    assert layer.compute_output_shape(input_shape) == output_shape
    concrete = tuple(2 if d is None else d for d in input_shape)
    y = layer(rng.standard_normal(concrete).astype("float32"))
    assert y.shape[0] == 2 and len(y.shape) == len(output_shape)
    for got, wanted in zip(y.shape[1:], output_shape[1:], strict=True):
        assert wanted is None or got == wanted, (y.shape, output_shape)


def test_a_sequential_summary_lists_every_new_layer():
    model = fg.models.Sequential(
        [
            layers.Input((12,)),
            layers.Reshape((3, 4), name="reshape_a"),
            layers.Permute((2, 1), name="permute_a"),
            layers.PReLU(name="prelu_a"),
            layers.Softmax(name="softmax_a"),
            layers.Reshape((-1,), name="flat_a"),
            layers.RepeatVector(2, name="repeat_a"),
            layers.ReLU(name="relu_a"),
            layers.LeakyReLU(name="leaky_a"),
            layers.ELU(name="elu_a"),
            layers.Identity(name="identity_a"),
            layers.LayerNormalization(name="norm_a"),
        ]
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    rows = {
        "reshape_a": "(None, 3, 4)",
        "permute_a": "(None, 4, 3)",
        "prelu_a": "(None, 4, 3)",
        "softmax_a": "(None, 4, 3)",
        "flat_a": "(None, 12)",
        "repeat_a": "(None, 2, 12)",
        "identity_a": "(None, 2, 12)",
    }
    for name, shape in rows.items():
        (row,) = [line for line in text.splitlines() if name in line]
        assert shape in row, row
    (prelu_row,) = [line for line in text.splitlines() if "prelu_a" in line]
    assert prelu_row.rstrip(" │").endswith(" 12"), prelu_row  # alpha: 4 * 3 slopes
    (norm_row,) = [line for line in text.splitlines() if "norm_a" in line]
    assert norm_row.rstrip(" │").endswith(" 24"), norm_row  # gamma and beta: 12 each


# --- values ---------------------------------------------------------------------------------


def test_reshape_permute_and_repeat_vector_match_numpy(rng):
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(call(layers.Reshape((4, -1)), x), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(call(layers.Permute((2, 1)), x), x.transpose(0, 2, 1))
    v = rng.standard_normal((2, 5))
    np.testing.assert_array_equal(call(layers.RepeatVector(3), v), np.repeat(v[:, None], 3, 1))
    np.testing.assert_array_equal(call(layers.Identity(), x), x)


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_softmax_matches_torch(axis, rng):
    x = rng.standard_normal((2, 3, 4))
    expected = torch.softmax(torch.tensor(x), dim=axis).numpy()
    np.testing.assert_allclose(call(layers.Softmax(axis=axis), x), expected, rtol=1e-12)


def test_relu_family_matches_torch(rng):
    x = rng.standard_normal((4, 6)) * 3
    t = torch.tensor(x)
    np.testing.assert_array_equal(call(layers.ReLU(), x), torch.nn.ReLU()(t).numpy())
    np.testing.assert_array_equal(call(layers.ReLU(max_value=6.0), x * 3), torch.nn.ReLU6()(t * 3))
    np.testing.assert_allclose(
        call(layers.LeakyReLU(), x), torch.nn.LeakyReLU(0.3)(t).numpy(), rtol=1e-15
    )
    np.testing.assert_allclose(
        call(layers.LeakyReLU(negative_slope=0.05), x),
        torch.nn.LeakyReLU(0.05)(t).numpy(),
        rtol=1e-15,
    )
    np.testing.assert_allclose(call(layers.ELU(), x), torch.nn.ELU()(t).numpy(), rtol=1e-14)
    np.testing.assert_allclose(
        call(layers.ELU(alpha=0.4), x), torch.nn.ELU(alpha=0.4)(t).numpy(), rtol=1e-14
    )


def test_relu_with_cap_slope_and_threshold_matches_keras_formula(rng):
    x = rng.standard_normal((5, 6)) * 2
    layer = layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5)
    expected = np.where(x > 0.5, np.minimum(x, 1.5), 0.1 * (x - 0.5))
    np.testing.assert_allclose(call(layer, x), expected, rtol=1e-15, atol=1e-15)
    # torch's Threshold is the slope-free case: x above the threshold, 0 elsewhere.
    threshold = call(layers.ReLU(threshold=0.5), x)
    np.testing.assert_array_equal(threshold, torch.nn.Threshold(0.5, 0.0)(torch.tensor(x)))


def test_prelu_matches_torch_on_copied_slopes(rng):
    x = rng.standard_normal((4, 5))
    layer = layers.PReLU(dtype="float64")
    layer.build((None, 5))
    assert layer.alpha.shape == (5,)
    np.testing.assert_array_equal(layer.alpha.numpy(), np.zeros(5))
    slopes = rng.uniform(0.0, 0.5, 5)
    layer.set_weights([slopes])
    prelu = torch.nn.PReLU(num_parameters=5, dtype=torch.float64)
    with torch.no_grad():
        prelu.weight.copy_(torch.tensor(slopes))
    expected = prelu(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(call(layer, x), expected, rtol=1e-15)


def test_prelu_shares_slopes_along_shared_axes(rng):
    x = rng.standard_normal((2, 3, 4))
    layer = layers.PReLU(alpha_initializer=fg.initializers.Constant(0.25), shared_axes=[1])
    layer.build((None, 3, 4))
    assert layer.alpha.shape == (1, 4)
    np.testing.assert_allclose(
        layer(x.astype("float32")).numpy(), np.where(x > 0, x, 0.25 * x), rtol=1e-6
    )
    regularized = layers.PReLU(
        alpha_initializer=fg.initializers.Constant(0.5), alpha_regularizer=fg.regularizers.l2(0.1)
    )
    regularized.build((None, 3))
    (penalty,) = regularized.losses
    assert penalty.item() == pytest.approx(0.1 * 3 * 0.25)


@pytest.mark.parametrize("axis", [-1, (1, 2)])
def test_layer_normalization_matches_torch_on_copied_weights(axis, rng):
    x = rng.standard_normal((3, 4, 5)) * 2 + 1
    layer = layers.LayerNormalization(axis=axis, dtype="float64")
    layer.build((None, 4, 5))
    shape = (5,) if axis == -1 else (4, 5)
    gamma, beta = rng.standard_normal(shape), rng.standard_normal(shape)
    layer.set_weights([gamma, beta])
    expected = torch.nn.functional.layer_norm(
        torch.tensor(x), shape, torch.tensor(gamma), torch.tensor(beta), eps=1e-3
    ).numpy()
    np.testing.assert_allclose(call(layer, x), expected, rtol=1e-12, atol=1e-12)
    module = torch.nn.LayerNorm(shape, eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.tensor(gamma))
        module.bias.copy_(torch.tensor(beta))
    np.testing.assert_allclose(
        call(layer, x), module(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12
    )


def test_layer_normalization_options(rng):
    x = rng.standard_normal((2, 6))
    plain = layers.LayerNormalization(center=False, scale=False, epsilon=1e-5)
    plain.build((None, 6))
    assert plain.get_weights() == []
    expected = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(plain(x.astype("float32")).numpy(), expected, rtol=1e-5)
    # The middle axis of a sequence: one mean and variance per sample and feature.
    seq = rng.standard_normal((2, 3, 4))
    middle = layers.LayerNormalization(axis=1, dtype="float64")
    mean, var = seq.mean(1, keepdims=True), seq.var(1, keepdims=True)
    np.testing.assert_allclose(call(middle, seq), (seq - mean) / np.sqrt(var + 1e-3), rtol=1e-12)
    assert middle.gamma.shape == (3,)
    regularized = layers.LayerNormalization(gamma_regularizer=fg.regularizers.l2(0.5))
    regularized.build((None, 4))
    (penalty,) = regularized.losses
    assert penalty.item() == pytest.approx(0.5 * 4)


# --- gradients ------------------------------------------------------------------------------

GRADIENT_CASES = {
    "reshape": (lambda: layers.Reshape((2, -1), dtype="float64"), (3, 6)),
    "permute": (lambda: layers.Permute((2, 3, 1), dtype="float64"), (2, 2, 3, 2)),
    "repeat_vector": (lambda: layers.RepeatVector(3, dtype="float64"), (2, 4)),
    "identity": (lambda: layers.Identity(dtype="float64"), (2, 4)),
    "softmax": (lambda: layers.Softmax(axis=1, dtype="float64"), (2, 3, 4)),
    "relu": (lambda: layers.ReLU(dtype="float64"), (3, 5)),
    "relu_capped": (
        lambda: layers.ReLU(max_value=1.0, negative_slope=0.2, threshold=0.3, dtype="float64"),
        (3, 5),
    ),
    "leaky_relu": (lambda: layers.LeakyReLU(dtype="float64"), (3, 5)),
    "elu": (lambda: layers.ELU(alpha=0.7, dtype="float64"), (3, 5)),
}


def test_layer_normalization_gradients_reach_input_gamma_and_beta(rng):
    layer = layers.LayerNormalization(axis=(1, 2), dtype="float64")
    layer.build((None, 3, 2))
    layer.set_weights([rng.standard_normal((3, 2)), rng.standard_normal((3, 2))])
    x = fg.tensor(rng.standard_normal((2, 3, 2)), dtype="float64", requires_grad=True)
    finite_difference_check(lambda: layer(x), [x, layer.gamma, layer.beta])


@pytest.mark.parametrize("case", sorted(GRADIENT_CASES))
def test_gradients_match_finite_differences(case, rng):
    make, shape = GRADIENT_CASES[case]
    layer = make()
    x = rng.standard_normal(shape)
    # Keep the probes away from kinks (0, the threshold 0.3 and the cap 1.0).
    x = np.where(np.abs(x) < 0.05, 0.5, x)
    x = np.where(np.abs(x - 0.3) < 0.05, 0.6, x)
    x = np.where(np.abs(x - 1.0) < 0.05, 1.4, x)
    check_gradients(lambda t: layer(t), x)


def test_prelu_gradients_reach_input_and_slopes(rng):
    layer = layers.PReLU(shared_axes=[1], dtype="float64")
    layer.build((None, 3, 4))
    layer.set_weights([rng.uniform(0.1, 0.5, (1, 4))])
    x = fg.tensor(rng.standard_normal((2, 3, 4)), dtype="float64", requires_grad=True)
    finite_difference_check(lambda: layer(x), [x, layer.alpha])


# --- bad arguments --------------------------------------------------------------------------

BAD_ARGUMENTS = [
    (lambda: layers.Reshape((2, -1, -1)), r"Reshape.*target_shape=\(2, -1, -1\)"),
    (lambda: layers.Reshape((0, 3)), r"Reshape.*target_shape=\(0, 3\)"),
    (lambda: layers.Permute((1, 1)), r"Permute.*dims=\(1, 1\)"),
    (lambda: layers.Permute((0, 1)), r"Permute.*dims=\(0, 1\)"),
    (lambda: layers.RepeatVector(0), "RepeatVector.*n=0"),
    (lambda: layers.Softmax(axis=(1, 2)), r"Softmax.*axis=\(1, 2\)"),
    (lambda: layers.ReLU(max_value=-1.0), "ReLU.*max_value=-1.0"),
    (lambda: layers.ReLU(negative_slope=-0.1), "ReLU.*negative_slope=-0.1"),
    (lambda: layers.ReLU(threshold=-2), "ReLU.*threshold=-2"),
    (lambda: layers.LeakyReLU(negative_slope=-0.3), "LeakyReLU.*negative_slope=-0.3"),
    (lambda: layers.ELU(alpha=float("nan")), "ELU.*alpha=nan"),
    (lambda: layers.PReLU(shared_axes=[0]), r"PReLU.*shared_axes=\[0\]"),
    (lambda: layers.PReLU(alpha_constraint="non_neg"), "PReLU.*alpha_constraint"),
    (lambda: layers.LayerNormalization(epsilon=0), "LayerNormalization.*epsilon=0"),
    (lambda: layers.LayerNormalization(axis="x"), "LayerNormalization.*axis='x'"),
    (lambda: layers.LayerNormalization(rms_scaling=True), "LayerNormalization.*rms_scaling"),
]


@pytest.mark.parametrize(("make", "message"), BAD_ARGUMENTS)
def test_bad_arguments_raise_value_errors_naming_layer_and_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_shapes_that_do_not_fit_are_refused_when_building():
    with pytest.raises(ValueError, match=r"Reshape.*\(6\).*target_shape=\(5,\)"):
        layers.Reshape((5,))(np.ones((2, 6), dtype="float32"))
    with pytest.raises(ValueError, match=r"Reshape.*\(6\).*target_shape=\(4, -1\)"):
        layers.Reshape((4, -1)).compute_output_shape((None, 2, 3))
    with pytest.raises(ValueError, match=r"Permute.*rank 3.*\(None, 4\)"):
        layers.Permute((2, 1)).compute_output_shape((None, 4))
    with pytest.raises(ValueError, match=r"RepeatVector.*\(None, 2, 3\)"):
        layers.RepeatVector(2).compute_output_shape((None, 2, 3))
    with pytest.raises(ValueError, match="Softmax: axis=3"):
        layers.Softmax(axis=3).compute_output_shape((None, 2, 3))
    with pytest.raises(ValueError, match=r"PReLU: shared_axes.*\[2\]"):
        layers.PReLU(shared_axes=[2]).compute_output_shape((None, 3))
    with pytest.raises(ValueError, match=r"LayerNormalization: axis=\[1, -1\]"):
        layers.LayerNormalization(axis=[1, -1]).compute_output_shape((None, 3))
    with pytest.raises(ValueError, match="LayerNormalization: axis=0"):
        layers.LayerNormalization(axis=0).compute_output_shape((None, 3))
    with pytest.raises(ValueError, match="PReLU.*axis 1.*must be known"):
        layers.PReLU().compute_output_shape((None, None, 3))


# --- configs, saving, training --------------------------------------------------------------

CONFIG_CASES = [
    (layers.Reshape, {"target_shape": (3, -1)}),
    (layers.Permute, {"dims": (2, 1)}),
    (layers.RepeatVector, {"n": 4}),
    (layers.Identity, {}),
    (layers.Softmax, {"axis": 1}),
    (layers.ReLU, {"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.5}),
    (layers.LeakyReLU, {"negative_slope": 0.2}),
    (layers.ELU, {"alpha": 0.5}),
    (layers.PReLU, {"shared_axes": [1]}),
    (layers.LayerNormalization, {"axis": [1, 2], "epsilon": 1e-5, "center": False}),
]


@pytest.mark.parametrize(("cls", "arguments"), CONFIG_CASES)
def test_get_config_round_trips(cls, arguments):
    layer = cls(**arguments, name=f"my_{cls.__name__.lower()}")
    config = layer.get_config()
    for key, value in arguments.items():
        assert config[key] == (list(value) if isinstance(value, tuple) else value)
    clone = cls.from_config(config)
    assert type(clone) is cls
    assert clone.get_config() == config


def test_keras_defaults():
    assert layers.LeakyReLU().negative_slope == 0.3
    assert layers.ELU().alpha == 1.0
    assert layers.Softmax().axis == -1
    relu = layers.ReLU()
    assert (relu.max_value, relu.negative_slope, relu.threshold) == (None, 0.0, 0.0)
    norm = layers.LayerNormalization()
    assert (norm.axis, norm.epsilon, norm.center, norm.scale) == (-1, 1e-3, True, True)
    assert layers.PReLU().get_config()["alpha_initializer"] == {"name": "zeros"}
    with pytest.warns(UserWarning, match="negative_slope"):
        assert layers.LeakyReLU(alpha=0.1).negative_slope == 0.1


def keras_model():
    return fg.models.Sequential(
        [
            layers.Input((12,)),
            layers.Reshape((3, 4)),
            layers.Permute((2, 1)),
            layers.PReLU(alpha_initializer=fg.initializers.Constant(0.1), shared_axes=[1]),
            layers.Reshape((-1,)),
            layers.RepeatVector(2),
            layers.Identity(),
            layers.ELU(alpha=0.5),
            layers.Reshape((24,)),
            layers.Dense(8),
            layers.LayerNormalization(),
            layers.LeakyReLU(negative_slope=0.1),
            layers.ReLU(max_value=6.0),
            layers.Dense(3),
            layers.Softmax(),
        ]
    )


def test_a_model_of_the_new_layers_trains_saves_and_loads(tmp_path, rng):
    fg.set_seed(3)
    x = rng.standard_normal((64, 12)).astype("float32")
    y = (x[:, :3] + 0.3 * x[:, 3:6]).argmax(axis=1)
    model = keras_model()
    model.compile(optimizer=fg.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses
    prelu = model.layers[2]
    assert not np.allclose(prelu.alpha.numpy(), 0.1), "the slopes did not train"
    model.save(tmp_path / "keras_layers.fgm")
    loaded = fg.models.load_model(tmp_path / "keras_layers.fgm")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.get_config() for layer in loaded.layers] == [
        layer.get_config() for layer in model.layers
    ]
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
