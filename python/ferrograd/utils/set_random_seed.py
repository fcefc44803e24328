"""`set_random_seed`: one call seeds Python's, numpy's and ferrograd's generators."""

from __future__ import annotations

import operator
import random

import numpy as np

from ferrograd import _core


def set_random_seed(seed: int) -> None:
    """Seeds Python's ``random``, numpy's global generator and ferrograd's, as
    ``keras.utils.set_random_seed`` does for its backends.

    Args:
        seed: an integer from 0 to 2**32 - 1 (numpy's global generator takes no more).

    Raises:
        TypeError: ``seed`` is not an integer.
        ValueError: ``seed`` is negative or not below 2**32.

    Examples:
        >>> import ferrograd as fg
        >>> fg.utils.set_random_seed(42)
        >>> a = fg.randn(3).numpy()
        >>> fg.utils.set_random_seed(42)
        >>> bool((fg.randn(3).numpy() == a).all())
        True
    """
    if isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, received {seed!r}")
    try:
        value = operator.index(seed)
    except TypeError:
        raise TypeError(
            f"seed must be an integer, received {type(seed).__name__} {seed!r}"
        ) from None
    if not 0 <= value < 2**32:
        raise ValueError(f"seed must be from 0 to 2**32 - 1, received seed={value}")
    random.seed(value)
    np.random.seed(value)
    _core.set_seed(value)
