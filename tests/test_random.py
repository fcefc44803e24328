"""``ferrograd.random``: Keras's random ops with its seeding rules, drawn from the library's
generator so that ``fg.set_seed`` makes them repeatable."""

import numpy as np
import pytest
from gradcheck import check_gradients

import ferrograd as fg
from ferrograd import random


def draws(make):
    fg.set_seed(5)
    first = make().numpy()
    fg.set_seed(5)
    second = make().numpy()
    return first, second


@pytest.mark.parametrize(
    "make",
    [
        lambda: random.normal((3, 4)),
        lambda: random.uniform((3, 4), -1, 2),
        lambda: random.truncated_normal((3, 4)),
        lambda: random.randint((3, 4), 0, 10),
        lambda: random.dropout(fg.ones((3, 4)), 0.5),
        lambda: random.shuffle(fg.arange(12)),
        lambda: random.normal((3,), seed=random.SeedGenerator()),
    ],
)
def test_set_seed_makes_draws_repeatable(make):
    first, second = draws(make)
    np.testing.assert_array_equal(first, second)
    fg.set_seed(6)
    assert not np.array_equal(make().numpy(), first)


def test_an_int_seed_gives_the_same_values_on_every_call():
    a = random.normal((5,), seed=3)
    b = random.normal((5,), seed=3)
    c = random.normal((5,), seed=4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())


def test_a_seed_generator_advances():
    gen = random.SeedGenerator(42)
    a, b = random.uniform((4,), seed=gen), random.uniform((4,), seed=gen)
    assert not np.array_equal(a.numpy(), b.numpy())
    again = random.SeedGenerator(42)
    np.testing.assert_array_equal(random.uniform((4,), seed=again).numpy(), a.numpy())
    assert gen.state == (42, 2)


def test_distributions():
    n = 200_000
    normal = random.normal((n,), mean=2.0, stddev=3.0, dtype="float64", seed=1).numpy()
    assert normal.dtype == np.float64
    assert abs(normal.mean() - 2.0) < 0.05 and abs(normal.std() - 3.0) < 0.05
    uniform = random.uniform((n,), minval=-1.0, maxval=3.0, seed=2).numpy()
    assert uniform.dtype == np.float32
    assert uniform.min() >= -1.0 and uniform.max() < 3.0 and abs(uniform.mean() - 1.0) < 0.02
    truncated = random.truncated_normal((n,), mean=1.0, stddev=0.5, seed=3).numpy()
    assert truncated.min() >= 0.0 and truncated.max() <= 2.0
    assert abs(truncated.std() - 0.5 * 0.8796) < 0.01  # a normal cut at 2 sigma
    ints = random.randint((n,), 2, 6, seed=4).numpy()
    assert set(np.unique(ints).tolist()) == {2.0, 3.0, 4.0, 5.0}
    assert np.all(np.bincount(ints.astype(int))[2:] > n / 4 * 0.95)


def test_dropout():
    x = fg.ones((1000, 10), dtype="float64")
    out = random.dropout(x, 0.3, seed=0).numpy()
    kept = out != 0.0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.7)
    shared = random.dropout(x, 0.5, noise_shape=(1, 10), seed=1).numpy()
    assert np.all(shared == shared[0])
    shared = random.dropout(x, 0.5, noise_shape=(None, 1), seed=1).numpy()
    assert np.all(shared == shared[:, :1])
    check_gradients(lambda t: random.dropout(t, 0.4, seed=7), np.ones((4, 5)))
    assert random.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match="rate"):
        random.dropout(x, 1.0)
    with pytest.raises(ValueError, match=r"noise_shape.*\(3, 1\).*\(1000, 10\)"):
        random.dropout(x, 0.5, noise_shape=(3, 1))


def test_shuffle():
    x = np.arange(12.0).reshape(3, 4)
    out = random.shuffle(fg.tensor(x, dtype="float64"), axis=1, seed=0).numpy()
    assert sorted(out[0].tolist()) == x[0].tolist()
    order = (out[0] - x[0, 0]).astype(int)
    np.testing.assert_array_equal(out, x[:, order])
    check_gradients(lambda t: random.shuffle(t, axis=-1, seed=3), x)
    with pytest.raises(ValueError, match=r"shuffle.*\(3, 4\)"):
        random.shuffle(x, axis=2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="stddev"):
        random.normal((2,), stddev=-1.0)
    with pytest.raises(ValueError, match="minval"):
        random.uniform((2,), 1.0, 1.0)
    with pytest.raises(ValueError, match="randint"):
        random.randint((2,), 3, 3)
    with pytest.raises(ValueError, match="negative"):
        random.normal((-1, 2))
    with pytest.raises(ValueError, match="seed"):
        random.normal((2,), seed=-5)
    with pytest.raises(ValueError, match="seed"):
        random.normal((2,), seed="abc")
