"""Comparisons and logical ops with Keras's names. ferrograd's tensors hold floats, so a
truth value is 1.0 or 0.0; these ops have no gradient."""

from typing import Any

import numpy as np

from ferrograd._core import Tensor
from ferrograd.ops._convert import check_broadcast, to_tensor, to_tensors


def _pair(op: str, x1: Any, x2: Any) -> tuple[Tensor, Any]:
    check_broadcast(op, x1, x2)
    if isinstance(x1, Tensor) and isinstance(x2, int | float):
        return x1, x2
    a, b = to_tensors(x1, x2)
    return a, b


def equal(x1: Any, x2: Any) -> Tensor:
    """1.0 where ``x1 == x2`` (broadcast), else 0.0.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.equal([1.0, 2.0], 2.0).tolist()
        [0.0, 1.0]
    """
    a, b = _pair("equal", x1, x2)
    return a == b


def not_equal(x1: Any, x2: Any) -> Tensor:
    """1.0 where ``x1 != x2``, else 0.0.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).
    """
    a, b = _pair("not_equal", x1, x2)
    return a != b


def greater(x1: Any, x2: Any) -> Tensor:
    """1.0 where ``x1 > x2``, else 0.0.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).
    """
    a, b = _pair("greater", x1, x2)
    return a > b


def greater_equal(x1: Any, x2: Any) -> Tensor:
    """1.0 where ``x1 >= x2``, else 0.0.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).
    """
    a, b = _pair("greater_equal", x1, x2)
    return a >= b


def less(x1: Any, x2: Any) -> Tensor:
    """1.0 where ``x1 < x2``, else 0.0.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).
    """
    a, b = _pair("less", x1, x2)
    return a < b


def less_equal(x1: Any, x2: Any) -> Tensor:
    """1.0 where ``x1 <= x2``, else 0.0.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).
    """
    a, b = _pair("less_equal", x1, x2)
    return a <= b


def logical_and(x1: Any, x2: Any) -> Tensor:
    """1.0 where both are nonzero.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.logical_and([1.0, 0.0], 1.0).tolist()
        [1.0, 0.0]
    """
    a, b = _pair("logical_and", x1, x2)
    return (a != 0.0) * (to_tensor(b, str(a.dtype)) != 0.0)


def logical_or(x1: Any, x2: Any) -> Tensor:
    """1.0 where either is nonzero.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).
    """
    a, b = _pair("logical_or", x1, x2)
    return (a != 0.0).maximum(to_tensor(b, str(a.dtype)) != 0.0)


def logical_not(x: Any) -> Tensor:
    """1.0 where ``x`` is zero.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.logical_not([0.0, 3.0]).tolist()
        [1.0, 0.0]
    """
    return to_tensor(x) == 0.0


def isnan(x: Any) -> Tensor:
    """1.0 where ``x`` is NaN.

    Args:
        x: A tensor, array or number.
    """
    x = to_tensor(x)
    return x != x


def isfinite(x: Any) -> Tensor:
    """1.0 where ``x`` is neither NaN nor infinite.

    Args:
        x: A tensor, array or number.
    """
    return abs(to_tensor(x)) < np.inf


def isinf(x: Any) -> Tensor:
    """1.0 where ``x`` is infinite.

    Args:
        x: A tensor, array or number.
    """
    return abs(to_tensor(x)) == np.inf
