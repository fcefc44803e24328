"""Every differentiable op's gradient against float64 central differences (see gradcheck.py),
on random inputs with broadcast shapes and negative axes.

Inputs keep away from the points where an op is not differentiable (0 for relu and abs, the
bounds of clip, ties for max) and from where it is not defined (log and sqrt of x <= 0).
"""

import numpy as np
import pytest
from gradcheck import check_gradients

import ferrograd as fg

rng = np.random.default_rng(20240611)


def normal(*shape):
    return rng.normal(size=shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


def away_from_zero(*shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 2.0, size=shape)


def case(name, f, *inputs):
    return pytest.param(f, inputs, id=name)


BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 1, 4)),
    ((), (2, 3)),
    ((2, 1, 3), (4, 1)),
]

BINARY = [
    ("add", lambda a, b: a + b, normal, normal),
    ("subtract", lambda a, b: a - b, normal, normal),
    ("multiply", lambda a, b: a * b, normal, normal),
    ("divide", lambda a, b: a / b, normal, away_from_zero),
    ("power", lambda a, b: a**b, positive, normal),
]

binary_cases = [
    case(f"{name}-{lhs}-{rhs}", f, make_lhs(*lhs), make_rhs(*rhs))
    for name, f, make_lhs, make_rhs in BINARY
    for lhs, rhs in BROADCAST_SHAPES
]

scalar_cases = [
    case("tensor+scalar", lambda x: x + 2.5, normal(3, 2)),
    case("scalar+tensor", lambda x: 2.5 + x, normal(3, 2)),
    case("tensor-scalar", lambda x: x - 2.5, normal(3, 2)),
    case("scalar-tensor", lambda x: 2.5 - x, normal(3, 2)),
    case("tensor*scalar", lambda x: x * -1.5, normal(3, 2)),
    case("scalar*tensor", lambda x: -1.5 * x, normal(3, 2)),
    case("tensor/scalar", lambda x: x / 3.0, normal(3, 2)),
    case("scalar/tensor", lambda x: 3.0 / x, away_from_zero(3, 2)),
    case("int-scalar", lambda x: 2 * x - 1, normal(3, 2)),
    case("negative", lambda x: -x, normal(3, 2)),
    case("numpy-array-on-the-left", lambda x: np.arange(1.0, 4.0) * x, normal(2, 3)),
    case("numpy-array-on-the-right", lambda x: x - np.arange(3.0), normal(2, 3)),
    case("x**2", lambda x: x**2, normal(3, 2)),
    case("x**3", lambda x: x**3, normal(3, 2)),
    case("x**0.5", lambda x: x**0.5, positive(3, 2)),
    case("x**-1.5", lambda x: x**-1.5, positive(3, 2)),
    case("x**0", lambda x: x**0, normal(3, 2)),
    case("2**x", lambda x: 2**x, normal(3, 2)),
    case("0.5**x", lambda x: 0.5**x, normal(3, 2)),
    case("x**y", lambda x, y: x**y, positive(3, 2), normal(3, 2)),
    case("x**x", lambda x: x**x, positive(4)),
    case("reused-input", lambda x: x * x + x / (x * x + 1.0), normal(2, 3)),
]

matmul_cases = [
    case(f"matmul-{lhs}-{rhs}", lambda a, b: a @ b, normal(*lhs), normal(*rhs))
    for lhs, rhs in [
        ((3, 4), (4, 2)),
        ((4,), (4, 3)),
        ((2, 4), (4,)),
        ((4,), (4,)),
        ((2, 3, 4), (4, 2)),
        ((3, 4), (2, 4, 5)),
        ((2, 1, 2, 3), (3, 3, 2)),
        ((2, 3, 4), (2, 4, 3)),
    ]
] + [case("matmul-method", lambda a, b: a.matmul(b), normal(2, 3), normal(3, 2))]

unary_cases = [
    case("exp", lambda x: x.exp(), normal(3, 4)),
    case("log", lambda x: x.log(), positive(3, 4)),
    case("sqrt", lambda x: x.sqrt(), positive(3, 4)),
    case("abs", lambda x: x.abs(), away_from_zero(3, 4)),
    case("abs-builtin", lambda x: abs(x), away_from_zero(3, 4)),
    case("square", lambda x: x.square(), normal(3, 4)),
    case("relu", lambda x: x.relu(), away_from_zero(3, 4)),
    case("sigmoid", lambda x: x.sigmoid(), normal(3, 4)),
    case("tanh", lambda x: x.tanh(), normal(3, 4)),
]

softmax_cases = [
    case(
        f"{kind}-axis{axis}",
        lambda x, kind=kind, axis=axis: getattr(x, kind)(axis),
        normal(2, 3, 4),
    )
    for kind in ("softmax", "log_softmax")
    for axis in (0, 1, 2, -1, -2, -3)
] + [
    case("softmax-default-axis", lambda x: x.softmax(), normal(3, 4)),
    case("log_softmax-default-axis", lambda x: x.log_softmax(), normal(3, 4)),
    case("softmax-large-logits", lambda x: (x * 50.0).softmax(-1), normal(2, 5)),
    case("log_softmax-large-logits", lambda x: (x * 50.0).log_softmax(-1), normal(2, 5)),
]

REDUCTION_AXES = [None, 0, 1, -1, -2, (0, 2), (-1, 0), (0, 1, 2)]

reduction_cases = [
    case(
        f"{kind}-axis{axis}-keepdims{keepdims}",
        lambda x, kind=kind, axis=axis, keepdims=keepdims: getattr(x, kind)(
            axis=axis, keepdims=keepdims
        ),
        normal(2, 3, 4),
    )
    for kind in ("sum", "mean", "max")
    for axis in REDUCTION_AXES
    for keepdims in (False, True)
]

layout_cases = [
    case("reshape", lambda x: x.reshape(4, -1), normal(2, 3, 4)),
    case("reshape-tuple", lambda x: x.reshape((6, 2, 2)), normal(2, 3, 4)),
    case("reshape-flat", lambda x: x.reshape(-1), normal(2, 3, 4)),
    case("reshape-to-scalar", lambda x: x.reshape(()), normal(1, 1)),
    case("transpose-reversed", lambda x: x.transpose(), normal(2, 3, 4)),
    case("transpose-axes", lambda x: x.transpose(1, -1, 0), normal(2, 3, 4)),
    case("transpose-tuple", lambda x: x.transpose((2, 0, 1)), normal(2, 3, 4)),
    case(".T", lambda x: x.T, normal(3, 4)),
]

mask_1d = np.array([True, False, True, True])
mask_2d = rng.uniform(size=(4, 3)) > 0.5

index_cases = [
    case(f"index[{name}]", lambda x, key=key: x[key], normal(4, 3))
    for name, key in [
        ("1:3", slice(1, 3)),
        (":,0", (slice(None), 0)),
        ("-1", -1),
        ("1,-2", (1, -2)),
        ("::-1", slice(None, None, -1)),
        ("::-2,1:", (slice(None, None, -2), slice(1, None))),
        ("...,1", (Ellipsis, 1)),
        ("None", None),
        (":,None,::2", (slice(None), None, slice(None, None, 2))),
        ("rows-with-repeats", np.array([2, 0, 2, -1])),
        ("row-list", [3, 1]),
        ("1,cols", (1, [0, 2, 0])),
        (":,cols", (slice(None), np.array([2, 2, 1]))),
        ("mask", mask_1d),
        (":,mask", (slice(None), mask_1d[:3])),
        ("mask-2d", mask_2d),
        ("empty", slice(3, 1)),
    ]
] + [
    case("index-3d-...-mask", lambda x: x[..., mask_2d[:3, :2]], normal(2, 3, 2)),
    case("iterate-rows", lambda x: fg.stack([row * i for i, row in enumerate(x)]), normal(3, 2)),
]

clip_cases = [
    case("clip", lambda x: x.clip(-0.5, 0.5), np.array([-1.2, -0.7, -0.3, 0.1, 0.45, 0.8, 2.0])),
    case("clip-lower-only", lambda x: x.clip(min=0.2), np.array([-1.0, 0.0, 0.3, 0.9])),
    case("clip-upper-only", lambda x: x.clip(max=0.2), np.array([-1.0, 0.0, 0.3, 0.9])),
]

join_cases = [
    case("concat-axis0", lambda a, b: fg.concat([a, b]), normal(2, 3), normal(1, 3)),
    case("concat-axis-1", lambda a, b: fg.concat([a, b], axis=-1), normal(2, 3), normal(2, 1)),
    case(
        "concat-three",
        lambda a, b, c: fg.concat((a, b, c), axis=1),
        normal(2, 1, 2),
        normal(2, 3, 2),
        normal(2, 2, 2),
    ),
    case("concat-same-tensor", lambda a: fg.concat([a, a * 2.0]), normal(2, 2)),
    case("stack-axis0", lambda a, b: fg.stack([a, b]), normal(2, 3), normal(2, 3)),
    case("stack-axis-1", lambda a, b: fg.stack([a, b], axis=-1), normal(2, 3), normal(2, 3)),
    case(
        "stack-axis1", lambda a, b, c: fg.stack([a, b, c], axis=1), *(normal(2, 3) for _ in "abc")
    ),
    case("stack-0d", lambda a, b: fg.stack([a.sum(), b.sum()]), normal(2), normal(3)),
]

condition = rng.uniform(size=(3, 1)) > 0.5
full_condition = rng.uniform(size=(3, 4)) > 0.5
where_cases = [
    case("where", lambda a, b: fg.where(full_condition, a, b), normal(3, 4), normal(3, 4)),
    case("where-broadcast", lambda a, b: fg.where(condition, a, b), normal(3, 4), normal(4)),
    case("where-scalar-branch", lambda a: fg.where(condition, a, 0.5), normal(3, 4)),
    case(
        "where-tensor-condition",
        lambda a, b: fg.where(a > b, a, b),
        normal(2, 3),
        normal(3),
    ),
]

composite_cases = [
    case("spec-example", lambda x, w: (x @ w).relu().sum(), normal(3, 4), normal(4, 2)),
    case(
        "mlp",
        lambda x, w1, b1, w2: ((x @ w1 + b1).tanh() @ w2).sigmoid().mean(),
        normal(5, 3),
        normal(3, 4),
        normal(4),
        normal(4, 2),
    ),
    case(
        "cross-entropy",
        lambda logits: -logits.log_softmax(-1)[np.eye(3, dtype=bool)[[0, 2, 1, 2]]].mean(),
        normal(4, 3),
    ),
    case(
        "layer-norm",
        lambda x: (
            (x - x.mean(axis=-1, keepdims=True))
            / ((x - x.mean(axis=-1, keepdims=True)) ** 2).mean(axis=-1, keepdims=True).sqrt()
        ),
        normal(2, 5),
    ),
    case(
        "max-pool-like",
        lambda x: x.reshape(2, 2, 3).max(axis=1) * x[::2].T.sum(axis=-1),
        normal(4, 3),
    ),
]


@pytest.mark.parametrize(
    ("f", "inputs"),
    binary_cases
    + scalar_cases
    + matmul_cases
    + unary_cases
    + softmax_cases
    + reduction_cases
    + layout_cases
    + index_cases
    + clip_cases
    + join_cases
    + where_cases
    + composite_cases,
)
def test_gradient_matches_central_differences(f, inputs):
    check_gradients(f, *inputs)


def test_the_checker_catches_a_wrong_gradient():
    """A check that cannot fail proves nothing: here backward differentiates 2x while the
    function the differences see is 2x + 1e-4 x**2, a gradient wrong by 2e-4 x."""

    def inconsistent(x):
        if fg.is_grad_enabled():
            return x * 2.0
        return x * 2.0 + 1e-4 * x * x

    with pytest.raises(AssertionError, match="analytic"):
        check_gradients(inconsistent, normal(3))
