"""Property-based test (hypothesis) of indexing against numpy: random combinations of integers,
slices (any step), None, ..., one integer array or boolean mask select what numpy selects, fail
where numpy fails, and scatter their gradient back to the positions they took."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrograd as fg

SHAPE = (2, 3, 4)
VALUES = np.arange(np.prod(SHAPE), dtype=np.float64).reshape(SHAPE)

bounds = st.none() | st.integers(-6, 6)
basic_items = st.one_of(
    st.integers(-4, 3),
    st.builds(slice, bounds, bounds, st.none() | st.integers(-3, 3).filter(bool)),
    st.none(),
    st.just(Ellipsis),
)
advanced_items = st.one_of(
    st.lists(st.integers(-4, 3), max_size=4).map(lambda v: np.array(v, dtype=np.int64)),
    st.lists(st.booleans(), min_size=2, max_size=4).map(np.array),
)


@st.composite
def indices(draw):
    items = draw(st.lists(basic_items, max_size=4))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), draw(advanced_items))
    return tuple(items)


@settings(max_examples=300, deadline=None)
@given(key=indices())
def test_indexing_selects_and_fails_as_numpy_does(key):
    try:
        expected = VALUES[key]
    except IndexError:
        expected = None
    x = fg.tensor(VALUES, dtype="float64", requires_grad=True)
    if expected is None:
        try:
            x[key]
        except (IndexError, ValueError):
            return
        raise AssertionError(f"numpy refuses x[{key!r}], ferrograd does not")
    got = x[key]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.numpy(), expected)

    # The gradient of sum(y * w) is w scattered back, added where a position repeats.
    weights = np.random.default_rng(0).normal(size=expected.shape)
    (got * fg.tensor(weights, dtype="float64")).sum().backward()
    scattered = np.zeros(SHAPE)
    positions = np.arange(VALUES.size).reshape(SHAPE)[key]
    np.add.at(scattered.reshape(-1), positions.reshape(-1), weights.reshape(-1))
    np.testing.assert_allclose(x.grad.numpy(), scattered, rtol=1e-12, atol=1e-12)
