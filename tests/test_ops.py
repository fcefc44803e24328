"""``ferrograd.ops``: forward values equal numpy's (and ``keras.ops``' where Keras is
installed), float64 finite-difference gradients for every differentiable op with broadcast
shapes and negative axes, and a ValueError naming the op and the shapes for bad input."""

import numpy as np
import pytest
from gradcheck import check_gradients

import ferrograd as fg
from ferrograd import ops

# Keras is optional: its comparison is skipped without it. tests/conftest.py picks its backend
# (PyTorch, from the test extra).
try:
    import keras
    import keras.ops as kops
except ImportError:  # pragma: no cover - depends on the environment
    keras = None
    kops = None

RNG = np.random.default_rng(7)


def arr(*shape, low=-1.5, high=1.5):
    return RNG.uniform(low, high, size=shape)


def positive(*shape):
    return RNG.uniform(0.3, 2.0, size=shape)


def unit(*shape):
    return RNG.uniform(-0.8, 0.8, size=shape)


def close(actual, expected, tol=1e-12):
    actual = actual.numpy() if isinstance(actual, fg.Tensor) else np.asarray(actual)
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=np.float64), rtol=tol, atol=tol)


def against_keras(name, *args, **kwargs):
    """The same op in keras.ops on the same inputs, when Keras is installed."""
    if kops is None:
        return
    ours = getattr(ops, name)(*args, **kwargs)
    theirs = keras.ops.convert_to_numpy(getattr(kops, name)(*args, **kwargs))
    np.testing.assert_allclose(
        np.asarray(ours.numpy(), dtype=np.float64), theirs, rtol=1e-5, atol=1e-6
    )


UNARY = {
    "negative": (np.negative, arr),
    "abs": (np.abs, arr),
    "square": (np.square, arr),
    "sqrt": (np.sqrt, positive),
    "rsqrt": (lambda v: 1 / np.sqrt(v), positive),
    "exp": (np.exp, arr),
    "expm1": (np.expm1, arr),
    "log": (np.log, positive),
    "log1p": (np.log1p, positive),
    "log2": (np.log2, positive),
    "sin": (np.sin, arr),
    "cos": (np.cos, arr),
    "tan": (np.tan, unit),
    "arcsin": (np.arcsin, unit),
    "arccos": (np.arccos, unit),
    "arctan": (np.arctan, arr),
    "tanh": (np.tanh, arr),
    "sinh": (np.sinh, arr),
    "cosh": (np.cosh, arr),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_numpy_and_their_gradients(name):
    reference, make = UNARY[name]
    x = make(3, 4)
    op = getattr(ops, name)
    close(op(fg.tensor(x, dtype="float64")), reference(x))
    close(op(x), reference(x))  # a numpy float64 array keeps its dtype
    check_gradients(op, x)
    against_keras(name, x.astype(np.float32))


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round"])
def test_piecewise_constant_ops_match_numpy_and_have_zero_gradient(name):
    x = np.array([-2.5, -1.2, -0.0, 0.5, 1.5, 2.7])
    out = getattr(ops, name)(fg.tensor(x, dtype="float64"))
    close(out, getattr(np, name)(x))
    t = fg.tensor(x, dtype="float64", requires_grad=True)
    getattr(ops, name)(t).sum().backward()
    close(t.grad, np.zeros_like(x))


def test_round_with_decimals():
    close(ops.round(fg.tensor([1.234, 5.675], dtype="float64"), decimals=2), [1.23, 5.68], 1e-9)


BINARY = {
    "add": np.add,
    "subtract": np.subtract,
    "multiply": np.multiply,
    "divide": np.divide,
    "true_divide": np.true_divide,
    "maximum": np.maximum,
    "minimum": np.minimum,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4))])
def test_binary_ops_broadcast_match_numpy_and_their_gradients(name, shapes):
    a, b = arr(*shapes[0]), arr(*shapes[1])
    if name in ("divide", "true_divide"):
        b = positive(*shapes[1])
    op = getattr(ops, name)
    close(op(fg.tensor(a, dtype="float64"), b), BINARY[name](a, b))
    check_gradients(op, a, b)
    if len(shapes[1]) == 1:
        against_keras(name, a.astype(np.float32), b.astype(np.float32))


def test_binary_ops_take_python_numbers_in_the_tensors_dtype():
    x = fg.tensor([1.0, 2.0], dtype="float64")
    for out in (ops.add(x, 1), ops.multiply(2.0, x), ops.subtract(3, x), ops.divide(x, 4.0)):
        assert out.dtype == np.float64
    close(ops.subtract(3, x), [2.0, 1.0])
    close(ops.add(1.0, 2.0), 3.0, 1e-6)
    assert ops.add(np.float32(1.0), [1.0]).dtype == np.float32


def test_power_in_both_arguments():
    base, exponent = positive(3, 4), arr(4)
    close(ops.power(fg.tensor(base, dtype="float64"), exponent), np.power(base, exponent))
    check_gradients(ops.power, base, exponent)
    check_gradients(lambda x: ops.power(x, 3), arr(2, 3))
    close(ops.power(2.0, fg.tensor([3.0], dtype="float64")), [8.0])


def test_clip_and_where():
    x = arr(3, 4)
    close(ops.clip(fg.tensor(x, dtype="float64"), -0.5, 0.5), np.clip(x, -0.5, 0.5))
    check_gradients(lambda t: ops.clip(t, -0.5, 0.5), x)
    lo = arr(4) - 1.0
    check_gradients(lambda t, low: ops.clip(t, low, 0.7), x, lo)
    cond = (arr(3, 1) > 0).astype(np.float64)
    close(ops.where(cond, fg.tensor(x, dtype="float64"), -x), np.where(cond > 0, x, -x))
    check_gradients(lambda a, b: ops.where(cond, a, b), x, arr(4))


REDUCTIONS = {
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "prod": np.prod,
    "std": np.std,
    "var": np.var,
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (-1, -2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy_and_their_gradients(name, axis, keepdims):
    x = arr(2, 3, 4)
    op = getattr(ops, name)
    close(
        op(fg.tensor(x, dtype="float64"), axis=axis, keepdims=keepdims),
        REDUCTIONS[name](x, axis=axis, keepdims=keepdims),
    )
    check_gradients(lambda t: op(t, axis=axis, keepdims=keepdims), x)
    if not keepdims:  # each Keras call compiles; one keepdims setting is enough to compare
        against_keras(name, x.astype(np.float32), axis=axis, keepdims=keepdims)


def test_prod_gradient_with_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 3.0]])
    t = fg.tensor(x, dtype="float64", requires_grad=True)
    ops.prod(t, axis=-1).sum().backward()
    close(t.grad, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]])


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_argmax_argmin_cumsum(axis):
    x = arr(3, 4)
    close(ops.argmax(x, axis=axis), np.argmax(x, axis=axis))
    close(ops.argmin(x, axis=axis), np.argmin(x, axis=axis))
    close(ops.argmax(x, axis=axis, keepdims=True), np.argmax(x, axis=axis, keepdims=True))
    close(ops.cumsum(fg.tensor(x, dtype="float64"), axis=axis), np.cumsum(x, axis=axis))
    check_gradients(lambda t: ops.cumsum(t, axis=axis), x)


def test_argmax_takes_the_first_of_ties():
    close(ops.argmax([1.0, 3.0, 3.0]), 1)
    close(ops.argmin([[2.0, 1.0, 1.0]], axis=-1), [1])


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
def test_logsumexp(axis):
    x = arr(3, 4) * 5
    expected = np.log(np.sum(np.exp(x), axis=axis))
    close(ops.logsumexp(fg.tensor(x, dtype="float64"), axis=axis), expected, 1e-10)
    check_gradients(lambda t: ops.logsumexp(t, axis=axis), x)
    big = ops.logsumexp(fg.tensor([1000.0, 1000.0], dtype="float64"))
    close(big, 1000.0 + np.log(2.0))
    close(ops.logsumexp(fg.tensor([-np.inf, -np.inf], dtype="float64")), -np.inf)


@pytest.mark.parametrize(
    "ord_, axis",
    [
        (None, None),
        (None, -1),
        (1, 0),
        (3, -1),
        (np.inf, 1),
        (-np.inf, 1),
        (None, (0, 1)),
        ("fro", (-2, -1)),
        (1, (0, 1)),
        (np.inf, (0, 1)),
        (-1, (0, 1)),
    ],
)
def test_norm_matches_numpy(ord_, axis):
    x = arr(3, 4)
    close(
        ops.norm(fg.tensor(x, dtype="float64"), ord=ord_, axis=axis),
        np.linalg.norm(x, ord=ord_, axis=axis),
        1e-10,
    )
    check_gradients(lambda t: ops.norm(t, ord=ord_, axis=axis), x)


def test_shape_ops_match_numpy():
    x = arr(2, 3, 4)
    t = fg.tensor(x, dtype="float64")
    close(ops.reshape(t, (4, -1)), x.reshape(4, -1))
    close(ops.transpose(t, (2, 0, 1)), np.transpose(x, (2, 0, 1)))
    close(ops.transpose(t, (-1, 0, 1)), np.transpose(x, (2, 0, 1)))
    close(ops.transpose(t), x.T)
    close(ops.expand_dims(t, -1), np.expand_dims(x, -1))
    close(ops.expand_dims(t, (0, 2)), np.expand_dims(x, (0, 2)))
    close(ops.squeeze(ops.expand_dims(t, 1)), x)
    close(ops.squeeze(x[:, :1], axis=-2), np.squeeze(x[:, :1], axis=-2))
    close(ops.concatenate([t, x], axis=-1), np.concatenate([x, x], axis=-1))
    close(ops.stack([t, x], axis=-1), np.stack([x, x], axis=-1))
    for pieces, expected in (
        (ops.split(t, 2, axis=-1), np.split(x, 2, axis=-1)),
        (ops.split(t, [1, 2], axis=1), np.split(x, [1, 2], axis=1)),
    ):
        assert len(pieces) == len(expected)
        for p, e in zip(pieces, expected, strict=True):
            close(p, e)
    close(ops.tile(t, (2, 1, 3)), np.tile(x, (2, 1, 3)))
    close(ops.tile(t, (2, 1, 1, 2)), np.tile(x, (2, 1, 1, 2)))
    close(ops.repeat(t, 2, axis=-1), np.repeat(x, 2, axis=-1))
    close(ops.repeat(t, [1, 0, 2], axis=1), np.repeat(x, [1, 0, 2], axis=1))
    close(ops.repeat(t, 2), np.repeat(x, 2))
    idx = np.array([[2, 0], [-1, 1]])
    close(ops.take(t, idx, axis=-1), np.take(x, idx, axis=-1))
    close(ops.take(t, idx), np.take(x, idx))
    along = RNG.integers(0, 4, size=(2, 3, 5))
    close(ops.take_along_axis(t, along, axis=-1), np.take_along_axis(x, along, axis=-1))
    along = RNG.integers(0, 3, size=(2, 1, 4))
    close(ops.take_along_axis(t, along, axis=1), np.take_along_axis(x, along, axis=1))
    close(ops.slice(t, (0, 1, 2), (2, 2, 1)), x[0:2, 1:3, 2:3])
    close(ops.pad(t, ((0, 1), (2, 0), (1, 1))), np.pad(x, ((0, 1), (2, 0), (1, 1))))
    close(ops.pad(t, (1, 2), constant_values=3.0), np.pad(x, (1, 2), constant_values=3.0))
    close(ops.flip(t, -1), np.flip(x, -1))
    close(ops.flip(t, (0, 2)), np.flip(x, (0, 2)))
    close(ops.flip(t), np.flip(x))


SHAPE_GRADS = {
    "reshape": lambda t: ops.reshape(t, (4, -1)),
    "transpose": lambda t: ops.transpose(t, (2, -3, 1)),
    "expand_dims": lambda t: ops.expand_dims(t, -2),
    "squeeze": lambda t: ops.squeeze(ops.expand_dims(t, 0), 0),
    "concatenate": lambda t: ops.concatenate([t, t * 2], axis=-2),
    "stack": lambda t: ops.stack([t, t * 2], axis=-1),
    "split": lambda t: ops.split(t, [1], axis=-1)[1] * 3,
    "tile": lambda t: ops.tile(t, (1, 2, 2)),
    "repeat": lambda t: ops.repeat(t, [2, 0, 1], axis=1),
    "take": lambda t: ops.take(t, [[0, 2], [2, 2]], axis=-1),
    "take_along_axis": lambda t: ops.take_along_axis(t, np.array([[[1], [0], [3]]]), axis=-1),
    "slice": lambda t: ops.slice(t, (1, 0, 1), (1, 2, 3)),
    "pad": lambda t: ops.pad(t, ((1, 0), (0, 2), (1, 1)), constant_values=1.0),
    "flip": lambda t: ops.flip(t, (0, -1)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_GRADS))
def test_shape_op_gradients(name):
    check_gradients(SHAPE_GRADS[name], arr(2, 3, 4))


def test_creation_ops_match_numpy():
    close(ops.zeros((2, 3)), np.zeros((2, 3)))
    close(ops.ones(3), np.ones(3))
    assert ops.ones((2,), dtype="float64").dtype == np.float64
    x = fg.tensor(arr(2, 2), dtype="float64")
    assert ops.zeros_like(x).dtype == np.float64
    close(ops.ones_like(x), np.ones((2, 2)))
    close(ops.full((2, 2), 7.0), np.full((2, 2), 7.0))
    close(ops.full((2, 2), [1.0, 2.0]), np.full((2, 2), [1.0, 2.0]))
    close(ops.arange(5), np.arange(5))
    close(ops.arange(1, 2, 0.25), np.arange(1, 2, 0.25))
    close(ops.linspace(-np.pi, np.pi, 7, dtype="float64"), np.linspace(-np.pi, np.pi, 7))
    close(ops.linspace(0, 1, 4, endpoint=False), np.linspace(0, 1, 4, endpoint=False), 1e-7)
    close(ops.eye(3, 4, k=1), np.eye(3, 4, k=1))
    labels = np.array([[0, 2], [1, 5]])
    expected = (labels[..., None] == np.arange(3)).astype(float)
    close(ops.one_hot(labels, 3), expected)
    close(ops.one_hot(labels, 3, axis=0), np.moveaxis(expected, -1, 0))


COMPARISONS = {
    "equal": np.equal,
    "not_equal": np.not_equal,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
    "less": np.less,
    "less_equal": np.less_equal,
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_and_logicals_match_numpy(name):
    a = RNG.integers(-1, 2, size=(3, 4)).astype(np.float64)
    b = RNG.integers(-1, 2, size=(4,)).astype(np.float64)
    close(getattr(ops, name)(fg.tensor(a, dtype="float64"), b), COMPARISONS[name](a, b))
    close(getattr(ops, name)(fg.tensor(a, dtype="float64"), 0.0), COMPARISONS[name](a, 0.0))


def test_logical_not_isnan_isfinite():
    x = np.array([0.0, 1.0, np.nan, np.inf, -np.inf])
    close(ops.logical_not(x), np.logical_not(x))
    close(ops.isnan(x), np.isnan(x))
    close(ops.isfinite(x), np.isfinite(x))


@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (4, 5)),
        ((2, 3, 4), (4, 2)),
        ((4,), (4, 3)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((4,), (4,)),
    ],
)
def test_matmul_matches_numpy_and_its_gradients(shapes):
    a, b = arr(*shapes[0]), arr(*shapes[1])
    close(ops.matmul(fg.tensor(a, dtype="float64"), b), np.matmul(a, b), 1e-10)
    check_gradients(ops.matmul, a, b)


@pytest.mark.parametrize(
    "shapes", [((), (3,)), ((3,), (3,)), ((2, 3), (3, 4)), ((2, 3), (4, 3, 5))]
)
def test_dot_matches_numpy(shapes):
    a, b = arr(*shapes[0]), arr(*shapes[1])
    close(ops.dot(fg.tensor(a, dtype="float64"), b), np.dot(a, b), 1e-10)
    check_gradients(ops.dot, a, b)


@pytest.mark.parametrize(
    "subscripts, shapes",
    [
        ("ij,jk->ik", ((2, 3), (3, 4))),
        ("bij,bjk->bik", ((2, 3, 4), (2, 4, 5))),
        ("ij,ij->i", ((3, 4), (3, 4))),
        ("i,j->ij", ((3,), (4,))),
        ("ij,kj", ((2, 3), (4, 3))),
        ("bij->bji", ((2, 3, 4),)),
        ("ij->", ((3, 4),)),
        ("abc,cd->dba", ((2, 3, 4), (4, 2))),
    ],
)
def test_einsum_matches_numpy_and_its_gradients(subscripts, shapes):
    arrays = [arr(*s) for s in shapes]
    tensors = [fg.tensor(a, dtype="float64") for a in arrays]
    close(ops.einsum(subscripts, *tensors), np.einsum(subscripts, *arrays), 1e-10)
    check_gradients(lambda *ts: ops.einsum(subscripts, *ts), *arrays)


def test_core_ops():
    x = fg.tensor([1.7, -1.7, 0.2], dtype="float64", requires_grad=True)
    close(ops.cast(x, "int32"), [1.0, -1.0, 0.0])
    assert ops.cast(x, "float32").dtype == np.float32
    assert ops.cast(x, "float64").dtype == np.float64
    assert ops.convert_to_tensor([1, 2]).dtype == np.float32
    assert ops.convert_to_tensor(np.zeros(2)).dtype == np.float64
    assert isinstance(ops.convert_to_numpy(x), np.ndarray)
    assert ops.shape(x) == (3,)
    assert ops.shape(np.zeros((2, 5))) == (2, 5)
    y = ops.stop_gradient(x * 2)
    assert not y.requires_grad
    (ops.stop_gradient(x) * x).sum().backward()
    close(x.grad, [1.7, -1.7, 0.2])


def test_top_k():
    x = np.array([[1.0, 4.0, 2.0, 4.0], [0.0, -1.0, 3.0, 2.0]])
    values, indices = ops.top_k(fg.tensor(x, dtype="float64"), 2)
    close(values, [[4.0, 4.0], [3.0, 2.0]])
    close(indices, [[1, 3], [2, 3]])
    check_gradients(lambda t: ops.top_k(t, 3)[0], arr(2, 5))
    _, unsorted = ops.top_k(x, 2, sorted=False)
    close(unsorted, [[1, 3], [2, 3]])


def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


NN = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": _np_sigmoid,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _np_sigmoid(x),
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "softmax": _np_softmax,
    "log_softmax": lambda x: np.log(_np_softmax(x)),
}


@pytest.mark.parametrize("name", sorted(NN))
def test_nn_functions_match_numpy_and_their_gradients(name):
    x = arr(3, 4) * 3
    op = getattr(ops, name)
    close(op(fg.tensor(x, dtype="float64")), NN[name](x), 1e-10)
    check_gradients(op, x)
    against_keras(name, x.astype(np.float32))


def test_nn_function_arguments():
    x = arr(3, 4) * 3
    close(ops.elu(x, alpha=0.5), np.where(x > 0, x, 0.5 * np.expm1(x)), 1e-10)
    close(ops.leaky_relu(x, negative_slope=0.1), np.where(x > 0, x, 0.1 * x), 1e-10)
    from math import erf

    exact = np.vectorize(lambda v: 0.5 * v * (1 + erf(v / np.sqrt(2))))(x)
    close(ops.gelu(x, approximate=False), exact, 1e-10)
    close(ops.softmax(x, axis=0), _np_softmax(x, axis=0), 1e-10)
    check_gradients(lambda t: ops.log_softmax(t, axis=-2), x)


def test_crossentropies():
    target = (RNG.uniform(size=(3, 4)) > 0.5).astype(np.float64)
    probs = RNG.uniform(0.05, 0.95, size=(3, 4))
    logits = arr(3, 4) * 3
    expected = -(target * np.log(probs) + (1 - target) * np.log(1 - probs))
    close(ops.binary_crossentropy(target, fg.tensor(probs, dtype="float64")), expected, 1e-10)
    sig = _np_sigmoid(logits)
    expected = -(target * np.log(sig) + (1 - target) * np.log(1 - sig))
    close(
        ops.binary_crossentropy(target, fg.tensor(logits, dtype="float64"), from_logits=True),
        expected,
        1e-10,
    )
    check_gradients(lambda p: ops.binary_crossentropy(target, p), probs)
    check_gradients(lambda z: ops.binary_crossentropy(target, z, from_logits=True), logits)

    onehot = np.eye(4)[[0, 3, 1]]
    dist = _np_softmax(logits)
    close(
        ops.categorical_crossentropy(onehot, fg.tensor(dist, dtype="float64")),
        -np.sum(onehot * np.log(dist), axis=-1),
        1e-10,
    )
    close(
        ops.categorical_crossentropy(onehot, fg.tensor(logits, dtype="float64"), from_logits=True),
        -np.sum(onehot * np.log(dist), axis=-1),
        1e-10,
    )
    check_gradients(lambda z: ops.categorical_crossentropy(onehot, z, from_logits=True), logits)
    check_gradients(lambda p: ops.categorical_crossentropy(onehot, p), dist)
    close(
        ops.sparse_categorical_crossentropy(
            [0, 3, 1], fg.tensor(logits, dtype="float64"), from_logits=True
        ),
        -np.sum(onehot * np.log(dist), axis=-1),
        1e-10,
    )
    check_gradients(
        lambda z: ops.sparse_categorical_crossentropy([0, 3, 1], z, from_logits=True), logits
    )
    if kops is not None:
        against_keras("binary_crossentropy", target.astype(np.float32), probs.astype(np.float32))
        against_keras(
            "categorical_crossentropy", onehot.astype(np.float32), dist.astype(np.float32)
        )


def test_moments():
    x = arr(2, 3, 4)
    mean, variance = ops.moments(fg.tensor(x, dtype="float64"), axes=[0, -1])
    close(mean, x.mean(axis=(0, 2)))
    close(variance, x.var(axis=(0, 2)))
    mean, variance = ops.moments(x, axes=[-1], keepdims=True)
    assert mean.shape == (2, 3, 1) and variance.shape == (2, 3, 1)
    check_gradients(lambda t: ops.moments(t, axes=[1])[1], x)


BAD_BROADCAST = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "power",
    "maximum",
    "minimum",
    "equal",
    "less",
    "logical_and",
]


@pytest.mark.parametrize("name", BAD_BROADCAST)
def test_shapes_that_do_not_broadcast_name_the_op_and_shapes(name):
    with pytest.raises(ValueError, match=rf"{name}.*\(2, 3\).*\(4,\)"):
        getattr(ops, name)(fg.ones((2, 3)), fg.ones(4))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: ops.sum(x, axis=3),
        lambda x: ops.mean(x, axis=-4),
        lambda x: ops.max(x, axis=(0, 5)),
        lambda x: ops.argmax(x, axis=3),
        lambda x: ops.cumsum(x, axis=-4),
        lambda x: ops.softmax(x, axis=3),
        lambda x: ops.expand_dims(x, 5),
        lambda x: ops.squeeze(x, 0),
        lambda x: ops.flip(x, 3),
        lambda x: ops.take(x, [0], axis=3),
        lambda x: ops.concatenate([x, x], axis=3),
        lambda x: ops.logsumexp(x, axis=7),
        lambda x: ops.norm(x, axis=4),
        lambda x: ops.var(x, axis=3),
        lambda x: ops.split(x, 2, axis=3),
    ],
)
def test_bad_axes_name_the_op_and_shape(call):
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        call(fg.ones((2, 3, 4)))


def test_other_bad_input():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        ops.matmul(fg.ones((2, 3)), fg.ones((4, 5)))
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4, -1\)"):
        ops.reshape(fg.ones((2, 3)), (4, -1))
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(2, 4\)"):
        ops.concatenate([fg.ones((2, 3)), fg.ones((2, 4))], axis=0)
    with pytest.raises(ValueError, match=r"split.*5"):
        ops.split(fg.ones((5,)), 2)
    with pytest.raises(ValueError, match=r"einsum.*'j'"):
        ops.einsum("ij,jk->ik", fg.ones((2, 3)), fg.ones((4, 5)))
    with pytest.raises(ValueError, match="pad.*mode"):
        ops.pad(fg.ones(2), 1, mode="reflect")
    with pytest.raises(ValueError, match="top_k"):
        ops.top_k(fg.ones(3), 4)
    with pytest.raises(ValueError, match="max.*initial"):
        ops.max(fg.ones(3), initial=0.0)
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*\(2, 3\).*\(2, 4\)"):
        ops.categorical_crossentropy(fg.ones((2, 3)), fg.ones((2, 4)))
    with pytest.raises(ValueError, match="transpose"):
        ops.transpose(fg.ones((2, 3)), (0, 0))
    with pytest.raises(IndexError, match="take"):
        ops.take(fg.ones(3), [3])


def test_ops_namespace():
    assert fg.ops is ops
    from ferrograd.ops import sin  # noqa: F401 - `from ferrograd import ops` style imports

    for name in ops.__all__:
        assert callable(getattr(ops, name)), name
        assert getattr(ops, name).__doc__, f"{name} has no docstring"
