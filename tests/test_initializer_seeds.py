"""Seeded initializers give the same values at every call (as Keras 3's do) without moving the
library's stream; ``VarianceScaling`` follows Keras's formula; seeds survive configs."""

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import initializers, layers

SEEDED = [
    initializers.RandomNormal(mean=1.0, stddev=0.5, seed=3),
    initializers.RandomUniform(minval=-2.0, maxval=1.0, seed=3),
    initializers.TruncatedNormal(seed=3),
    initializers.GlorotUniform(seed=3),
    initializers.GlorotNormal(seed=3),
    initializers.HeNormal(seed=3),
    initializers.HeUniform(seed=3),
    initializers.LecunNormal(seed=3),
    initializers.LecunUniform(seed=3),
    initializers.Orthogonal(gain=2.0, seed=3),
    initializers.VarianceScaling(scale=2.0, mode="fan_avg", distribution="uniform", seed=3),
]


@pytest.mark.parametrize("init", SEEDED, ids=lambda i: type(i).__name__)
def test_a_seeded_initializer_draws_the_same_values_at_every_call(init):
    fg.set_seed(0)
    first = init((6, 5)).numpy()
    stream_after = fg.initializers.RandomNormal()((3,)).numpy()
    second = init((6, 5)).numpy()
    np.testing.assert_array_equal(first, second)
    fg.set_seed(0)
    stream = fg.initializers.RandomNormal()((3,)).numpy()
    np.testing.assert_array_equal(stream, stream_after)  # the library's stream did not move
    other = type(init)(**{**init.get_config(), "seed": 4})((6, 5)).numpy()
    assert not np.array_equal(first, other)
    assert init.get_config()["seed"] == 3
    assert initializers.get({"name": type(init).__name__, **init.get_config()}).seed == 3


def test_unseeded_initializers_follow_the_library_seed_and_differ_between_calls():
    init = initializers.GlorotUniform()
    fg.set_seed(1)
    a, b = init((4, 4)).numpy(), init((4, 4)).numpy()
    fg.set_seed(1)
    np.testing.assert_array_equal(init((4, 4)).numpy(), a)
    assert not np.array_equal(a, b)
    assert "seed" not in init.get_config()


def test_layers_with_seeded_initializers_are_built_the_same_and_keep_the_seed():
    def build():
        layer = layers.Dense(3, kernel_initializer=initializers.HeNormal(seed=11))
        layer(np.ones((1, 4), dtype="float32"))
        return layer

    first, second = build(), build()
    np.testing.assert_array_equal(first.get_weights()[0], second.get_weights()[0])
    copy = layers.Dense.from_config(first.get_config())
    copy(np.ones((1, 4), dtype="float32"))
    np.testing.assert_array_equal(copy.get_weights()[0], first.get_weights()[0])


@pytest.mark.parametrize(
    "mode, distribution, fan",
    [
        ("fan_in", "untruncated_normal", 400),
        ("fan_out", "truncated_normal", 300),
        ("fan_avg", "uniform", 350),
    ],
)
def test_variance_scaling_has_keras_variance(mode, distribution, fan):
    init = initializers.VarianceScaling(scale=2.0, mode=mode, distribution=distribution, seed=0)
    values = init((400, 300), dtype="float64").numpy()
    assert abs(values.mean()) < 0.005
    np.testing.assert_allclose(values.std(), np.sqrt(2.0 / fan), rtol=0.03)
    if distribution == "uniform":
        assert np.abs(values).max() <= np.sqrt(3 * 2.0 / fan)
    if distribution == "truncated_normal":
        # Truncated at two standard deviations of the untruncated draw.
        assert np.abs(values).max() <= 2 * np.sqrt(2.0 / fan) / 0.8796256610342398 + 1e-12


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scale": 0}, "scale must be a positive number"),
        ({"mode": "fan_sideways"}, "mode must be"),
        ({"distribution": "cauchy"}, "distribution must be"),
        ({"seed": -1}, "seed must be None or a non-negative integer"),
        ({"seed": 1.5}, "seed must be None or a non-negative integer"),
    ],
)
def test_bad_initializer_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        initializers.VarianceScaling(**kwargs)


def test_the_keras_initializers_exist():
    for name in ["Constant", "TruncatedNormal", "VarianceScaling", "LecunNormal", "LecunUniform"]:
        assert isinstance(initializers.get(name), initializers.Initializer)
    np.testing.assert_array_equal(initializers.Constant(0.25)((2,)).numpy(), [0.25, 0.25])
