"""``ferrograd.random``: Keras 3's random ops, drawn from the library's seeded generator.

``seed`` is, as in Keras, None (the global stream: repeatable after ``ferrograd.set_seed``), an
int (the same values on every call with that seed) or a ``SeedGenerator`` (a new seed on each
call, from its own state).
"""

from typing import Any

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.ops._convert import normalize_axis, to_tensor

_MASK64 = (1 << 64) - 1


def _mix(value: int) -> int:
    """SplitMix64's finaliser: nearby states give unrelated seeds."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


class SeedGenerator:
    """A source of seeds for random ops: each ``next()`` gives a new one, and the sequence
    depends only on the generator's seed.

    Args:
        seed: An int, or None to draw one from the library's generator (so that
            ``ferrograd.set_seed`` fixes it too).

    Examples:
        >>> gen = fg.random.SeedGenerator(42)
        >>> a = fg.random.normal((2,), seed=gen)
        >>> b = fg.random.normal((2,), seed=gen)  # different values from a
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise ValueError(f"SeedGenerator: unsupported arguments {sorted(kwargs)}")
        if seed is None:
            seed = _core._draw_seed()
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"SeedGenerator: seed must be a non-negative int, received {seed!r}")
        self.name = name or "seed_generator"
        self._seed = int(seed) & _MASK64
        self._counter = 0

    @property
    def state(self) -> tuple[int, int]:
        """The seed and how many seeds have been drawn."""
        return (self._seed, self._counter)

    def next(self, ordered: bool = True) -> int:
        """The next seed.

        Args:
            ordered: Accepted for Keras compatibility; unused (default ``True``).

        Returns:
            An int seed.

        Examples:
            >>> fg.random.SeedGenerator(42).next() == fg.random.SeedGenerator(42).next()
            True
        """
        self._counter += 1
        return _mix(self._seed ^ _mix(self._counter))


def _seed_value(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(
            f"seed must be None, a non-negative int or a SeedGenerator, received {seed!r}"
        )
    # Mixed so that seed=1 and seed=2 are not neighbouring ChaCha keys' worth of correlation
    # worries, and so that an int seed differs from the same int given to set_seed.
    return _mix(int(seed))


def _fresh(seed: Any) -> bool:
    """Whether a traced call should draw new values at each pass (no seed, or a
    ``SeedGenerator``) rather than replay the values of an int seed."""
    return seed is None or isinstance(seed, SeedGenerator)


def _shape(op: str, shape: Any) -> list[int]:
    dims = [shape] if isinstance(shape, int | np.integer) else list(shape)
    if any(int(d) < 0 for d in dims):
        raise ValueError(f"{op}: a shape cannot have negative dimensions, received {tuple(dims)}")
    return [int(d) for d in dims]


def _dtype(dtype: Any) -> str:
    return "float64" if dtype is not None and np.dtype(dtype) == np.float64 else "float32"


def normal(
    shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None
) -> Tensor:
    """Samples of the normal distribution.

    Args:
        shape: The output shape.
        mean: The mean. Defaults to 0.
        stddev: The standard deviation. Defaults to 1.
        dtype: "float32" (default) or "float64".
        seed: None, an int or a ``SeedGenerator``.

    Returns:
        A tensor.

    Examples:
        >>> fg.random.normal((2, 3), seed=1).shape
        (2, 3)
    """
    return _core._random(
        "normal",
        _shape("normal", shape),
        float(mean),
        float(stddev),
        _dtype(dtype),
        _seed_value(seed),
        fresh_when_traced=_fresh(seed),
    )


def uniform(
    shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None, seed: Any = None
) -> Tensor:
    """Samples of the uniform distribution on ``[minval, maxval)``; arguments as ``normal``.

    Args:
        shape: The shape of the result, an int or a tuple of ints.
        minval: The lowest value, inclusive (default ``0.0``).
        maxval: The highest value, exclusive (default ``1.0``).
        dtype: The dtype of the result; ``None`` for the default float32 (default ``None``).
        seed: An int, a ``SeedGenerator`` or ``None`` for the global generator (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> values = fg.random.uniform((100,), 2.0, 3.0, seed=0).numpy()
        >>> bool(values.min() >= 2.0 and values.max() < 3.0)
        True
    """
    return _core._random(
        "uniform",
        _shape("uniform", shape),
        float(minval),
        float(maxval),
        _dtype(dtype),
        _seed_value(seed),
        fresh_when_traced=_fresh(seed),
    )


def truncated_normal(
    shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None
) -> Tensor:
    """Normal samples redrawn until within two standard deviations of the mean.

    Args:
        shape: The shape of the result, an int or a tuple of ints.
        mean: The mean (default ``0.0``).
        stddev: The standard deviation; values further than two of them from the mean are redrawn
            (default ``1.0``).
        dtype: The dtype of the result; ``None`` for the default float32 (default ``None``).
        seed: An int, a ``SeedGenerator`` or ``None`` for the global generator (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.random.truncated_normal((2, 3), seed=1).shape
        (2, 3)
    """
    return _core._random(
        "truncated_normal",
        _shape("truncated_normal", shape),
        float(mean),
        float(stddev),
        _dtype(dtype),
        _seed_value(seed),
        fresh_when_traced=_fresh(seed),
    )


def randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``, as a float tensor holding whole
    numbers (float64 when ``dtype`` is a 64-bit type, else float32).

    Args:
        shape: The shape of the result, an int or a tuple of ints.
        minval: The lowest value, inclusive.
        maxval: The highest value, exclusive.
        dtype: The dtype of the values (default ``"int32"``, stored as float32).
        seed: An int, a ``SeedGenerator`` or ``None`` for the global generator (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> values = fg.random.randint((100,), 0, 3, seed=0).numpy()
        >>> set(values.tolist()) <= {0.0, 1.0, 2.0}
        True
    """
    low, high = int(minval), int(maxval)
    if low >= high:
        raise ValueError(f"randint: expected minval < maxval, received {minval} and {maxval}")
    wide = dtype is not None and np.dtype(dtype).itemsize == 8
    draws = _core._random(
        "uniform",
        _shape("randint", shape),
        float(low),
        float(high),
        "float64",
        _seed_value(seed),
        fresh_when_traced=_fresh(seed),
    )
    values = np.minimum(np.floor(draws.numpy()), high - 1)
    return _core.tensor(values, dtype="float64" if wide else "float32")


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> Tensor:
    """``inputs`` with each element zeroed with probability ``rate`` and the rest scaled by
    ``1 / (1 - rate)``; differentiable in ``inputs``. ``noise_shape`` (broadcast to the input's
    shape) shares one draw along the axes where it is 1.

    Args:
        inputs: A tensor, array or nested list.
        rate: The fraction of elements to drop, in [0, 1).
        noise_shape: The shape of the keep mask, broadcast to ``inputs``; ``None`` entries
            take ``inputs``'s size; ``None`` for the shape of ``inputs`` (default ``None``).
        seed: An int, a ``SeedGenerator`` or ``None`` for the global generator (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> kept = fg.random.dropout(fg.ones(1000), 0.5, seed=0).numpy()
        >>> sorted(set(kept.tolist()))  # dropped, or scaled by 1 / (1 - rate)
        [0.0, 2.0]
    """
    x = to_tensor(inputs)
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"dropout: rate must lie in [0, 1), received rate={rate}")
    shape = (
        list(x.shape)
        if noise_shape is None
        else [x.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape)]
    )
    try:
        np.broadcast_shapes(tuple(shape), tuple(x.shape))
    except ValueError:
        raise ValueError(
            f"dropout: noise_shape {tuple(shape)} does not broadcast to the input's shape "
            f"{tuple(x.shape)}"
        ) from None
    if rate == 0.0:
        return x
    draws = uniform(shape, dtype=x.dtype, seed=seed)
    keep = (draws >= float(rate)) * (1.0 / (1.0 - float(rate)))
    return x * keep


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> Tensor:
    """``x`` with its slices along ``axis`` in a random order (differentiable).

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis to shuffle along (default ``0``).
        seed: An int, a ``SeedGenerator`` or ``None`` for the global generator (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> sorted(fg.random.shuffle(fg.arange(4), seed=0).tolist())
        [0.0, 1.0, 2.0, 3.0]
    """
    x = to_tensor(x)
    axis = normalize_axis("shuffle", axis, x.ndim, x.shape)
    keys = uniform((x.shape[axis],), dtype="float64", seed=seed).numpy()
    order = np.argsort(keys, kind="stable")
    return x[(slice(None),) * axis + (order,)]


__all__ = [
    "SeedGenerator",
    "dropout",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]
