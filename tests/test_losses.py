"""Losses against numpy versions of Keras's formulas, with finite-difference gradients."""

import pickle

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import losses
from ferrograd.errors import ShapeError

EPS = 1e-7


# Keras 3's formulas, per sample, written with numpy.
def np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def ref_bce(y, p, from_logits=False, label_smoothing=0.0):
    y = y * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        # TensorFlow's sigmoid_cross_entropy_with_logits.
        terms = np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
    else:
        q = np.clip(p, EPS, 1 - EPS)
        terms = -(y * np.log(q) + (1 - y) * np.log(1 - q))
    return terms.mean(axis=-1)


def ref_cce(y, p, from_logits=False, label_smoothing=0.0):
    classes = p.shape[-1]
    y = y * (1 - label_smoothing) + label_smoothing / classes
    if from_logits:
        log_p = np_log_softmax(p)
    else:
        log_p = np.log(np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS))
    return -(y * log_p).sum(axis=-1)


def ref_scce(labels, p, from_logits=False):
    onehot = np.eye(p.shape[-1])[labels.astype(int).reshape(p.shape[:-1])]
    return ref_cce(onehot, p, from_logits)


def ref_mse(y, p):
    return ((y - p) ** 2).mean(axis=-1)


def ref_mae(y, p):
    return np.abs(y - p).mean(axis=-1)


def ref_huber(y, p, delta=1.0):
    d = np.abs(p - y)
    return np.where(d <= delta, 0.5 * d**2, delta * d - 0.5 * delta**2).mean(axis=-1)


SHAPES = [(8, 3), (5, 1), (2, 4, 6), (1, 7)]


def make_case(kind, shape, rng, from_logits=False):
    """(y_true, y_pred) fit for a loss kind."""
    if kind == "sparse":
        labels = rng.integers(0, shape[-1], size=shape[:-1]).astype(np.float64)
        pred = rng.normal(0, 3, size=shape) if from_logits else rng.uniform(0.05, 1, size=shape)
        return labels, pred
    if kind == "categorical":
        labels = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
        pred = rng.normal(0, 3, size=shape) if from_logits else rng.uniform(0.05, 1, size=shape)
        return labels, pred
    if kind == "binary":
        labels = rng.integers(0, 2, size=shape).astype(np.float64)
        pred = rng.normal(0, 3, size=shape) if from_logits else rng.uniform(0.02, 0.98, size=shape)
        return labels, pred
    return rng.normal(size=shape), rng.normal(size=shape)


CASES = [
    # (loss factory, per-sample reference, input kind)
    ("mse", lambda: losses.MeanSquaredError(), ref_mse, "regression"),
    ("mae", lambda: losses.MeanAbsoluteError(), ref_mae, "regression"),
    ("huber", lambda: losses.Huber(delta=0.5), lambda y, p: ref_huber(y, p, 0.5), "regression"),
]
for logits in (False, True):
    for smoothing in (0.0, 0.1):
        CASES.append(
            (
                f"bce-logits={logits}-ls={smoothing}",
                lambda lg=logits, s=smoothing: losses.BinaryCrossentropy(lg, s),
                lambda y, p, lg=logits, s=smoothing: ref_bce(y, p, lg, s),
                "binary",
            )
        )
        CASES.append(
            (
                f"cce-logits={logits}-ls={smoothing}",
                lambda lg=logits, s=smoothing: losses.CategoricalCrossentropy(lg, s),
                lambda y, p, lg=logits, s=smoothing: ref_cce(y, p, lg, s),
                "categorical",
            )
        )
    CASES.append(
        (
            f"scce-logits={logits}",
            lambda lg=logits: losses.SparseCategoricalCrossentropy(lg),
            lambda y, p, lg=logits: ref_scce(y, p, lg),
            "sparse",
        )
    )
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_values_match_keras_formulas(case, shape, rng):
    _, make, ref, kind = case
    loss = make()
    y, p = make_case(kind, shape, rng, from_logits=loss._core.from_logits)
    expected = ref(y, p).mean()
    got = loss(y, fg.tensor(p, dtype="float64"))
    assert got.shape == ()
    assert got.dtype == "float64"
    np.testing.assert_allclose(got.item(), expected, rtol=1e-12, atol=1e-12)
    # float32 agrees to float32 precision.
    got32 = loss(y, fg.tensor(p, dtype="float32"))
    assert got32.dtype == "float32"
    np.testing.assert_allclose(got32.item(), expected, rtol=1e-5, atol=1e-6)
    # The functions give the per-sample values; reduction="none" and "sum" too.
    per_sample = loss._core.compute(y, fg.tensor(p, dtype="float64"), "none")
    np.testing.assert_allclose(per_sample.numpy(), ref(y, p), rtol=1e-12, atol=1e-12)
    summed = loss._core.compute(y, fg.tensor(p, dtype="float64"), "sum")
    np.testing.assert_allclose(summed.item(), ref(y, p).sum(), rtol=1e-12)


def numeric_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "none"])
def test_gradients_match_finite_differences(case, reduction, rng):
    _, make, _, kind = case
    loss = make()
    loss.reduction = reduction
    y, p = make_case(kind, (4, 3), rng, from_logits=loss._core.from_logits)
    weights = rng.normal(size=(4,)) if reduction == "none" else np.array(1.0)

    def objective(x):
        return float((loss(y, fg.tensor(x, dtype="float64")).numpy() * weights).sum())

    x = fg.tensor(p, dtype="float64", requires_grad=True)
    out = loss(y, x)
    out.backward(fg.tensor(weights, dtype="float64") if reduction == "none" else None)
    np.testing.assert_allclose(x.grad.numpy(), numeric_gradient(objective, p), rtol=1e-6, atol=1e-8)


def test_functions_and_aliases_are_per_sample(rng):
    y, p = make_case("binary", (6, 2), rng)
    np.testing.assert_allclose(losses.bce(y, p).numpy(), ref_bce(y, p), rtol=1e-12)
    np.testing.assert_allclose(
        losses.binary_crossentropy(y, p, from_logits=False, label_smoothing=0.2).numpy(),
        ref_bce(y, p, False, 0.2),
        rtol=1e-12,
    )
    np.testing.assert_allclose(losses.mse(y, p).numpy(), ref_mse(y, p), rtol=1e-12)
    np.testing.assert_allclose(losses.mae(y, p).numpy(), ref_mae(y, p), rtol=1e-12)
    assert losses.mse is losses.mean_squared_error
    assert losses.mae is losses.mean_absolute_error
    assert losses.bce is losses.binary_crossentropy
    z = rng.normal(size=(5, 4))
    labels = rng.integers(0, 4, size=5)
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy(labels, z, from_logits=True).numpy(),
        ref_scce(labels, z, True),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        losses.categorical_crossentropy(np.eye(4)[labels], z, from_logits=True).numpy(),
        ref_cce(np.eye(4)[labels], z, True),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        losses.huber(y, p, delta=0.1).numpy(), ref_huber(y, p, 0.1), rtol=1e-12
    )


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_fused_logits_equal_probabilities(smoothing, rng):
    z = rng.normal(0, 2, size=(16, 5))  # moderate: no probability near the clipping bounds
    labels = rng.integers(0, 5, size=16)
    onehot = np.eye(5)[labels]
    bits = rng.integers(0, 2, size=(16, 5)).astype(float)
    softmax = np_softmax(z)
    sigmoid = 1 / (1 + np.exp(-z))
    pairs = [
        (losses.CategoricalCrossentropy, onehot, softmax, {"label_smoothing": smoothing}),
        (losses.BinaryCrossentropy, bits, sigmoid, {"label_smoothing": smoothing}),
        (losses.SparseCategoricalCrossentropy, labels, softmax, {}),
    ]
    for cls, y, probs, kwargs in pairs:
        fused = cls(from_logits=True, **kwargs)(y, fg.tensor(z, dtype="float64")).item()
        unfused = cls(**kwargs)(y, fg.tensor(probs, dtype="float64")).item()
        np.testing.assert_allclose(fused, unfused, rtol=1e-9)
        # The core offers the fused form for the matching activation only.
        activation = "sigmoid" if cls is losses.BinaryCrossentropy else "softmax"
        other = "softmax" if activation == "sigmoid" else "sigmoid"
        core = cls(**kwargs)._core
        assert core.fused_with(activation) == cls(from_logits=True, **kwargs)._core
        assert core.fused_with(other) is None
        assert core.fused_with("linear") is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_logits_stay_finite(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    labels = np.array([1, 0])
    cases = [
        (losses.SparseCategoricalCrossentropy(from_logits=True), labels),
        (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), np.eye(3)[labels]),
        (losses.BinaryCrossentropy(from_logits=True), np.array([[0, 1, 1], [1, 0, 1.0]])),
    ]
    for loss, y in cases:
        x = fg.tensor(z, dtype=dtype, requires_grad=True)
        out = loss(y, x)
        out.backward()
        assert np.isfinite(out.item())
        assert np.all(np.isfinite(x.grad.numpy()))
    # The sparse loss is exactly logsumexp - z[label].
    out = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, fg.tensor(z, dtype=dtype))
    np.testing.assert_allclose(out.item(), 2000 + np.log(2) / 2, rtol=1e-6)
    # Probabilities of exactly 0 and 1 are clipped, with finite gradients.
    p = fg.tensor(np.eye(3)[[0, 2]], dtype=dtype, requires_grad=True)
    out = losses.CategoricalCrossentropy()(np.eye(3)[[1, 2]], p)
    out.backward()
    np.testing.assert_allclose(out.item(), -np.log(EPS) / 2 - np.log(1 - EPS) / 2, rtol=1e-4)
    assert np.all(np.isfinite(p.grad.numpy()))


def test_binary_labels_n_against_predictions_n_by_1(rng):
    y = rng.integers(0, 2, size=10).astype(float)
    p = rng.uniform(0.1, 0.9, size=(10, 1))
    expected = ref_bce(y[:, None], p).mean()
    assert losses.BinaryCrossentropy()(y, p).item() == pytest.approx(expected, rel=1e-12)
    assert losses.BinaryCrossentropy()(y[:, None], p[:, 0]).item() == pytest.approx(
        expected, rel=1e-12
    )
    assert losses.bce(y, p).shape == (10,)
    # Sparse labels of shape (N, 1).
    z = rng.normal(size=(10, 4))
    labels = rng.integers(0, 4, size=10)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert loss(labels[:, None], z).item() == pytest.approx(loss(labels, z).item(), rel=1e-15)


@pytest.mark.parametrize(
    "loss",
    [
        losses.MeanSquaredError(),
        losses.BinaryCrossentropy(),
        losses.CategoricalCrossentropy(from_logits=True),
    ],
    ids=lambda loss: loss.name,
)
def test_shape_mismatch_names_both_shapes(loss):
    with pytest.raises(ShapeError, match=r"\[4, 3\].*\[4, 2\]"):
        loss(np.zeros((4, 3)), fg.zeros(4, 2))
    with pytest.raises(ValueError, match=loss.name):
        loss(np.zeros((5, 2)), fg.zeros(4, 2))


def test_sparse_labels_are_checked():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    z = fg.zeros(3, 4)
    for bad, shown in [(4, "4"), (-1, "-1"), (2.5, "2.5"), (np.nan, "NaN")]:
        labels = np.array([0.0, bad, 1.0])
        with pytest.raises(ValueError, match=rf"label {shown} at position 1.*") as info:
            loss(labels, z)
        assert "[0, 4)" in str(info.value)
        assert not isinstance(info.value, ShapeError)
    with pytest.raises(ShapeError, match=r"\[2\].*\[3, 4\]"):
        loss([0, 1], z)


def test_hand_written_step_backpropagates_through_a_model(rng):
    x = rng.normal(size=(8, 5))
    w0 = rng.normal(size=(5, 3))
    labels = rng.integers(0, 3, size=8)
    w = fg.tensor(w0, dtype="float64", requires_grad=True)
    loss_fn = fg.losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = fg.tensor(x, dtype="float64") @ w
    loss = loss_fn(labels, logits)
    loss.backward()
    expected = x.T @ (np_softmax(x @ w0) - np.eye(3)[labels]) / 8
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert loss.grad_fn == "sparse_categorical_crossentropy"


def test_inputs_of_every_kind(rng):
    y = rng.integers(0, 2, size=(4, 2))
    p = rng.uniform(0.1, 0.9, size=(4, 2))
    expected = ref_bce(y, p).mean()
    loss = losses.BinaryCrossentropy()
    for y_in in (y, y.tolist(), fg.tensor(y), fg.tensor(y, dtype="float64")):
        assert loss(y_in, fg.tensor(p, dtype="float64")).item() == pytest.approx(expected)
    # A plain array of predictions gives a plain value.
    out = loss(y, p)
    assert not out.requires_grad
    assert out.item() == pytest.approx(expected)
    assert loss(y, p.astype(np.float32)).dtype == "float32"


def test_get_and_configs():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("mean_absolute_error"), losses.MeanAbsoluteError)
    assert isinstance(losses.get("mae"), losses.MeanAbsoluteError)
    assert isinstance(losses.get("bce"), losses.BinaryCrossentropy)
    assert isinstance(losses.get("huber"), losses.Huber)
    for name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        loss = losses.get(name)
        assert loss.name == name
        assert loss.get_config()["from_logits"] is False
    assert isinstance(losses.get(losses.mse), losses.MeanSquaredError)
    assert isinstance(
        losses.get("SparseCategoricalCrossentropy"), losses.SparseCategoricalCrossentropy
    )
    assert losses.get(None) is None
    instance = losses.BinaryCrossentropy(from_logits=True)
    assert losses.get(instance) is instance

    with pytest.raises(ValueError, match=r"hubber.*mean_squared_error.*mse"):
        losses.get("hubber")
    with pytest.raises(ValueError, match="cannot interpret"):
        losses.get(42)

    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, name="cce")
    config = loss.get_config()
    assert config == {
        "name": "cce",
        "from_logits": True,
        "label_smoothing": 0.1,
        "reduction": "sum_over_batch_size",
    }
    again = losses.CategoricalCrossentropy.from_config(config)
    assert again._core == loss._core and again.name == "cce"
    keras_form = losses.serialize(loss)
    assert keras_form["class_name"] == "CategoricalCrossentropy"
    assert losses.deserialize(keras_form)._core == loss._core
    core_form = {"name": "binary_crossentropy", "from_logits": True}
    assert losses.get(core_form)._core == losses.BinaryCrossentropy(from_logits=True)._core
    with pytest.raises(ValueError, match="unknown field"):
        losses.get({"name": "mean_squared_error", "from_logits": True})
    with pytest.raises(ValueError, match="unknown loss class"):
        losses.get({"class_name": "Hubber", "config": {}})
    restored = pickle.loads(pickle.dumps(loss))
    assert restored._core == loss._core and restored.name == "cce"
    assert repr(losses.Huber(2.0)) == "Huber(delta=2.0)"


def test_bad_parameters_are_refused():
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="label_smoothing"):
            losses.BinaryCrossentropy(label_smoothing=bad)
        with pytest.raises(ValueError, match="label_smoothing"):
            losses.CategoricalCrossentropy(label_smoothing=bad)
    with pytest.raises(ValueError, match="delta"):
        losses.Huber(delta=0)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="max")


@pytest.mark.parametrize(
    "make",
    [
        lambda: losses.SparseCategoricalCrossentropy(from_logits=True),
        lambda: losses.BinaryCrossentropy(from_logits=True),
    ],
    ids=["scce", "bce"],
)
def test_large_batches_give_identical_results_on_any_thread_count(make, rng):
    z = rng.normal(size=(300, 500))
    labels = rng.integers(0, 500, size=300)
    y = labels if isinstance(make(), losses.SparseCategoricalCrossentropy) else (z > 0.3) * 1.0
    results = []
    before = fg.get_num_threads()
    try:
        for threads in (1, 2):
            fg.set_num_threads(threads)
            x = fg.tensor(z, dtype="float32", requires_grad=True)
            out = make()(y, x)
            out.backward()
            results.append((out.item(), x.grad.numpy()))
    finally:
        fg.set_num_threads(before)
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    if isinstance(make(), losses.SparseCategoricalCrossentropy):
        expected = (np_softmax(z) - np.eye(500)[labels]) / 300
    else:
        expected = (1 / (1 + np.exp(-z)) - y) / z.size
    np.testing.assert_allclose(results[0][1], expected, atol=1e-7)


def test_each_loss_is_one_module_registered_under_its_core_name():
    import importlib
    import re

    from ferrograd import _core

    classes = losses.Loss._classes
    assert sorted(classes) == [
        "binary_crossentropy",
        "categorical_crossentropy",
        "categorical_focal_crossentropy",
        "cosine_similarity",
        "hinge",
        "huber",
        "kl_divergence",
        "log_cosh",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_squared_error",
        "mean_squared_logarithmic_error",
        "poisson",
        "sparse_categorical_crossentropy",
        "squared_hinge",
    ]
    for name, cls in classes.items():
        # The module of a class is the snake_case of its name, and holds its function.
        assert cls.__module__ == f"ferrograd.losses.{name}"
        # (Keras spells the KL divergence's class KLDivergence.)
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower().replace("k_l_", "kl_")
        assert snake == name
        module = importlib.import_module(cls.__module__)
        function = getattr(module, name)
        assert getattr(losses, name) is function and losses.Loss._functions[function] == name
        assert getattr(losses, cls.__name__) is cls and cls.__name__ in losses.__all__
        assert _core.Loss.from_name(name).name == name
        assert type(losses.get(name)) is cls and type(losses.get(function)) is cls
    for alias in losses.Loss._aliases:
        assert getattr(losses, alias) in losses.Loss._functions


def test_docstring_examples_run():
    import doctest
    import importlib

    modules = [losses, importlib.import_module("ferrograd.losses.loss")]
    modules += [importlib.import_module(cls.__module__) for cls in losses.Loss._classes.values()]
    for module in modules:
        result = doctest.testmod(module, extraglobs={"fg": fg})
        assert result.failed == 0, module.__name__
