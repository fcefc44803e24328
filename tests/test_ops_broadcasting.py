"""Property-based tests (hypothesis) of broadcasting arithmetic against numpy: the values, the
shapes, the gradients summed back to each operand's shape, and the shapes that cannot broadcast."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ferrograd as fg
from ferrograd.errors import ShapeError

OPERATORS = {
    "+": (lambda a, b: a + b, np.add),
    "-": (lambda a, b: a - b, np.subtract),
    "*": (lambda a, b: a * b, np.multiply),
    "/": (lambda a, b: a / b, np.divide),
}

SETTINGS = settings(max_examples=100, deadline=None)


@st.composite
def broadcastable_operands(draw, dtype):
    shapes = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)
    )
    lhs_shape, rhs_shape = shapes.input_shapes
    values = st.floats(-100, 100, allow_nan=False, width=np.dtype(dtype).itemsize * 8)
    nonzero = values.filter(lambda v: abs(v) > 1e-3)
    lhs = draw(hnp.arrays(dtype, lhs_shape, elements=values))
    rhs = draw(hnp.arrays(dtype, rhs_shape, elements=nonzero))
    return lhs, rhs, shapes.result_shape


@SETTINGS
@given(
    operands=st.sampled_from(["float32", "float64"]).flatmap(broadcastable_operands),
    symbol=st.sampled_from(sorted(OPERATORS)),
    tensors=st.sampled_from(["both", "left", "right"]),
)
def test_arithmetic_broadcasts_exactly_as_numpy(operands, symbol, tensors):
    """With tensors on both sides, or a tensor and a numpy array either way round."""
    lhs, rhs, shape = operands
    ours, reference = OPERATORS[symbol]
    dtype = lhs.dtype.name
    left = fg.tensor(lhs, dtype=dtype) if tensors in ("both", "left") else lhs
    right = fg.tensor(rhs, dtype=dtype) if tensors in ("both", "right") else rhs
    got = ours(left, right)
    expected = reference(lhs, rhs)
    assert isinstance(got, fg.Tensor)
    assert got.shape == shape == expected.shape
    assert got.dtype == expected.dtype
    # Elementwise IEEE arithmetic in the same precision: bit for bit what numpy computes.
    np.testing.assert_array_equal(got.numpy(), expected)


@SETTINGS
@given(operands=broadcastable_operands("float64"), symbol=st.sampled_from(sorted(OPERATORS)))
def test_gradients_sum_back_over_the_broadcast_axes(operands, symbol):
    lhs, rhs, shape = operands
    ours, _ = OPERATORS[symbol]
    a = fg.tensor(lhs, dtype="float64", requires_grad=True)
    b = fg.tensor(rhs, dtype="float64", requires_grad=True)
    ours(a, b).sum().backward()

    full_lhs, full_rhs = np.broadcast_to(lhs, shape), np.broadcast_to(rhs, shape)
    partials = {
        "+": (np.ones(shape), np.ones(shape)),
        "-": (np.ones(shape), -np.ones(shape)),
        "*": (full_rhs, full_lhs),
        "/": (1 / full_rhs, -full_lhs / full_rhs**2),
    }[symbol]
    for tensor, own_shape, partial in zip((a, b), (lhs.shape, rhs.shape), partials, strict=True):
        expected = sum_to_shape(partial, own_shape)
        assert tensor.grad.shape == own_shape
        np.testing.assert_allclose(tensor.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def sum_to_shape(values, shape):
    """numpy's reduction of a broadcast gradient back to an operand's shape."""
    extra = values.ndim - len(shape)
    values = values.sum(axis=tuple(range(extra))) if extra else values
    stretched = tuple(i for i, d in enumerate(shape) if d == 1 and values.shape[i] != 1)
    return values.sum(axis=stretched, keepdims=True) if stretched else values


@SETTINGS
@given(
    lhs_shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
    rhs_shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
)
def test_shapes_fail_to_broadcast_exactly_when_numpy_says_so(lhs_shape, rhs_shape):
    try:
        expected = np.broadcast_shapes(lhs_shape, rhs_shape)
    except ValueError:
        expected = None
    a, b = fg.zeros(lhs_shape), fg.zeros(rhs_shape)
    if expected is None:
        try:
            a * b
        except ShapeError as error:
            assert "multiply" in str(error)
            assert str(list(lhs_shape)) in str(error) and str(list(rhs_shape)) in str(error)
        else:
            raise AssertionError(f"{lhs_shape} * {rhs_shape} should not broadcast")
    else:
        assert (a * b).shape == expected
