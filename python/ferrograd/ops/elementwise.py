"""Elementwise math with Keras's names: arithmetic with broadcasting, and functions of one
tensor (``exp``, ``sin``, ...). Each is differentiable; the rounding functions and ``sign``
have a zero gradient.
"""

import json
from typing import Any

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.ops._convert import check_broadcast, dtype_of, to_tensor, to_tensors


def _unary(name: str, x: Any, **params: float) -> Tensor:
    return _core.apply_unary(to_tensor(x), json.dumps({"name": name, **params}))


def _operands(op: str, x1: Any, x2: Any) -> tuple[Any, Any]:
    """The two operands, as tensors where needed: a Python number stays a number, so that it
    takes the other operand's dtype, as in Keras."""
    check_broadcast(op, x1, x2)
    if isinstance(x1, Tensor) and isinstance(x2, int | float):
        return x1, x2
    if isinstance(x2, Tensor) and isinstance(x1, int | float):
        return x1, x2
    a, b = to_tensors(x1, x2)
    return a, b


def _result(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else to_tensor(value)


def add(x1: Any, x2: Any) -> Tensor:
    """``x1 + x2``, broadcast.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.add(fg.tensor([1.0, 2.0]), 1.0).tolist()
        [2.0, 3.0]
    """
    a, b = _operands("add", x1, x2)
    return _result(a + b)


def subtract(x1: Any, x2: Any) -> Tensor:
    """``x1 - x2``, broadcast.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.subtract([3.0], [1.0]).tolist()
        [2.0]
    """
    a, b = _operands("subtract", x1, x2)
    return _result(a - b)


def multiply(x1: Any, x2: Any) -> Tensor:
    """``x1 * x2``, broadcast.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.multiply([2.0], [3.0]).tolist()
        [6.0]
    """
    a, b = _operands("multiply", x1, x2)
    return _result(a * b)


def divide(x1: Any, x2: Any) -> Tensor:
    """``x1 / x2``, broadcast.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.divide([3.0], [2.0]).tolist()
        [1.5]
    """
    a, b = _operands("divide", x1, x2)
    return _result(a / b)


def true_divide(x1: Any, x2: Any) -> Tensor:
    """The same as ``divide``.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).
    """
    a, b = _operands("true_divide", x1, x2)
    return _result(a / b)


def power(x1: Any, x2: Any) -> Tensor:
    """``x1 ** x2``, broadcast; differentiable in both (in ``x2`` where ``x1 > 0``).

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.power(fg.tensor([2.0, 3.0]), 2).tolist()
        [4.0, 9.0]
    """
    a, b = _operands("power", x1, x2)
    if not isinstance(a, Tensor):
        a = to_tensor(a, dtype_of(b))
    return a**b


def maximum(x1: Any, x2: Any) -> Tensor:
    """The elementwise larger value, broadcast (NaN wins, as in numpy).

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.maximum(fg.tensor([1.0, 5.0]), 2.0).tolist()
        [2.0, 5.0]
    """
    a, b = _operands("maximum", x1, x2)
    if not isinstance(a, Tensor):
        a, b = b, a
    return a.maximum(b)


def minimum(x1: Any, x2: Any) -> Tensor:
    """The elementwise smaller value, broadcast.

    Args:
        x1: A tensor, array or number.
        x2: A tensor, array or number (broadcast with ``x1``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.minimum([1.0, 5.0], 2.0).tolist()
        [1.0, 2.0]
    """
    a, b = _operands("minimum", x1, x2)
    if not isinstance(a, Tensor):
        a, b = b, a
    return a.minimum(b)


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    """``x`` limited to ``[x_min, x_max]`` (numbers or tensors, broadcast); the gradient is
    zero where a bound applies.

    Args:
        x: A tensor, array, number or nested list.
        x_min: The lower bound.
        x_max: The upper bound.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.clip(fg.tensor([-1.0, 0.5, 2.0]), 0.0, 1.0).tolist()
        [0.0, 0.5, 1.0]
    """
    x = to_tensor(x)
    if isinstance(x_min, int | float) and isinstance(x_max, int | float):
        return x.clip(float(x_min), float(x_max))
    return minimum(maximum(x, x_min), x_max)


def where(condition: Any, x1: Any = None, x2: Any = None) -> Tensor:
    """``x1`` where ``condition`` is true (nonzero), ``x2`` elsewhere, all broadcast; the
    gradient flows to the branch taken. Both branches are required.

    Args:
        condition: A boolean (or 0/1) tensor or array.
        x1: The values where ``condition`` holds (default ``None``: return the indices where it
            holds).
        x2: The values elsewhere (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.where(fg.tensor([1.0, 0.0]), 1.0, -1.0).tolist()
        [1.0, -1.0]
    """
    if x1 is None or x2 is None:
        raise ValueError(
            "where: the one-argument form (the positions of nonzero elements) is not supported; "
            "pass x1 and x2"
        )
    check_broadcast("where", condition, x1, x2)
    return _core.where(condition, x1, x2)


def negative(x: Any) -> Tensor:
    """``-x``.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.negative([1.0]).tolist()
        [-1.0]
    """
    return _unary("neg", x)


def abs(x: Any) -> Tensor:  # noqa: A001 - Keras's name
    """``|x|`` (gradient 0 at 0).

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.abs([-2.0]).tolist()
        [2.0]
    """
    return _unary("abs", x)


absolute = abs


def sign(x: Any) -> Tensor:
    """-1, 0 or 1; gradient zero.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.sign([-2.0, 0.0]).tolist()
        [-1.0, 0.0]
    """
    return _unary("sign", x)


def square(x: Any) -> Tensor:
    """``x * x``.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.square([3.0]).tolist()
        [9.0]
    """
    return _unary("square", x)


def sqrt(x: Any) -> Tensor:
    """The square root.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.sqrt([4.0]).tolist()
        [2.0]
    """
    return _unary("sqrt", x)


def rsqrt(x: Any) -> Tensor:
    """``1 / sqrt(x)``.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.rsqrt([4.0]).tolist()
        [0.5]
    """
    return _unary("rsqrt", x)


def exp(x: Any) -> Tensor:
    """``e ** x``.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.exp([0.0]).tolist()
        [1.0]
    """
    return _unary("exp", x)


def expm1(x: Any) -> Tensor:
    """``exp(x) - 1``, accurate near 0.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.expm1([0.0]).tolist()
        [0.0]
    """
    return _unary("expm1", x)


def log(x: Any) -> Tensor:
    """The natural logarithm.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.log([1.0]).tolist()
        [0.0]
    """
    return _unary("log", x)


def log1p(x: Any) -> Tensor:
    """``log(1 + x)``, accurate near 0.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.log1p([0.0]).tolist()
        [0.0]
    """
    return _unary("log1p", x)


def log2(x: Any) -> Tensor:
    """The base-2 logarithm.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.log2([8.0]).tolist()
        [3.0]
    """
    return _unary("log2", x)


def sin(x: Any) -> Tensor:
    """The sine (radians).

    Args:
        x: A tensor, array or number.

    Examples:
        ``ops.sin([0.0])`` is ``[0.0]``.
    """
    return _unary("sin", x)


def cos(x: Any) -> Tensor:
    """The cosine (radians).

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.cos([0.0]).tolist()
        [1.0]
    """
    return _unary("cos", x)


def tan(x: Any) -> Tensor:
    """The tangent (radians).

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.tan([0.0]).tolist()
        [0.0]
    """
    return _unary("tan", x)


def arcsin(x: Any) -> Tensor:
    """The inverse sine.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.arcsin([0.0]).tolist()
        [0.0]
    """
    return _unary("arcsin", x)


def arccos(x: Any) -> Tensor:
    """The inverse cosine.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.arccos([1.0]).tolist()
        [0.0]
    """
    return _unary("arccos", x)


def arctan(x: Any) -> Tensor:
    """The inverse tangent.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.arctan([0.0]).tolist()
        [0.0]
    """
    return _unary("arctan", x)


def tanh(x: Any) -> Tensor:
    """The hyperbolic tangent.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.tanh([0.0]).tolist()
        [0.0]
    """
    return _unary("tanh", x)


def sinh(x: Any) -> Tensor:
    """The hyperbolic sine.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.sinh([0.0]).tolist()
        [0.0]
    """
    return _unary("sinh", x)


def cosh(x: Any) -> Tensor:
    """The hyperbolic cosine.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.cosh([0.0]).tolist()
        [1.0]
    """
    return _unary("cosh", x)


def floor(x: Any) -> Tensor:
    """Rounds down; gradient zero.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.floor([1.7]).tolist()
        [1.0]
    """
    return _unary("floor", x)


def ceil(x: Any) -> Tensor:
    """Rounds up; gradient zero.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.ceil([1.2]).tolist()
        [2.0]
    """
    return _unary("ceil", x)


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001 - Keras's name
    """Rounds to ``decimals`` places, halves to even (as numpy); gradient zero.

    Args:
        x: A tensor, array or number.
        decimals: Places after the point (negative: before it). Defaults to 0.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.round(fg.tensor([0.5, 1.5, 2.25]), decimals=0).tolist()
        [0.0, 2.0, 2.0]
    """
    if decimals == 0:
        return _unary("round", x)
    scale = 10.0**decimals
    return _unary("round", to_tensor(x) * scale) / scale
