"""Reductions with Keras's names and arguments: ``axis`` (None, an int or a tuple; negative
counts from the end) and ``keepdims``."""

from typing import Any

import numpy as np

from ferrograd._core import Tensor
from ferrograd.ops._convert import normalize_axes, normalize_axis, to_tensor


def _prepare(op: str, x: Any, axis: Any) -> tuple[Tensor, list[int] | None]:
    x = to_tensor(x)
    return x, normalize_axes(op, axis, x.ndim, x.shape)


def _axis_arg(axes: list[int] | None) -> tuple[int, ...] | None:
    return None if axes is None else tuple(axes)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The sum over ``axis`` (all axes by default).

    Args:
        x: A tensor, array or number.
        axis: None, an int or a tuple of ints. Defaults to None.
        keepdims: Keep the reduced axes with size 1. Defaults to False.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.sum(fg.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=-1).tolist()
        [3.0, 7.0]
    """
    x, axes = _prepare("sum", x, axis)
    return x.sum(axis=_axis_arg(axes), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The mean over ``axis``; arguments as ``sum``. Example: ``ops.mean([1.0, 3.0])`` is 2.

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis (or axes) to reduce; ``None`` for all (default ``None``).
        keepdims: Whether to keep the reduced axes with length 1 (default ``False``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.mean([1.0, 3.0]).item()
        2.0
    """
    x, axes = _prepare("mean", x, axis)
    return x.mean(axis=_axis_arg(axes), keepdims=keepdims)


def _check_initial(op: str, initial: Any) -> None:
    if initial is not None:
        raise ValueError(f"{op}: the argument initial is not supported, received {initial!r}")


def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """The largest value over ``axis``; the gradient is shared between ties.

    Args:
        x: A tensor, array or number.
        axis: None, an int or a tuple of ints. Defaults to None.
        keepdims: Keep the reduced axes with size 1. Defaults to False.
        initial: Not supported (must be None).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.max(fg.tensor([1.0, 3.0, 2.0])).item()
        3.0
    """
    _check_initial("max", initial)
    x, axes = _prepare("max", x, axis)
    return x.max(axis=_axis_arg(axes), keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """The smallest value over ``axis``; see ``max``. Example: ``ops.min([2.0, 1.0])`` is 1.

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis (or axes) to reduce; ``None`` for all (default ``None``).
        keepdims: Whether to keep the reduced axes with length 1 (default ``False``).
        initial: Not supported (must be ``None``) (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.min([2.0, 1.0]).item()
        1.0
    """
    _check_initial("min", initial)
    x, axes = _prepare("min", x, axis)
    return x.min(axis=_axis_arg(axes), keepdims=keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    """The product over ``axis`` (its gradient is right at zeros too).

    Args:
        x: A tensor, array or number.
        axis: None, an int or a tuple of ints. Defaults to None.
        keepdims: Keep the reduced axes with size 1. Defaults to False.
        dtype: The result's dtype (float32 or float64), or None to keep ``x``'s.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.prod(fg.tensor([2.0, 3.0])).item()
        6.0
    """
    x, axes = _prepare("prod", x, axis)
    out = x.prod(axis=_axis_arg(axes), keepdims=keepdims)
    return out if dtype is None else out.astype(dtype)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The population variance over ``axis`` (dividing by n, as Keras and numpy).

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis (or axes) to reduce; ``None`` for all (default ``None``).
        keepdims: Whether to keep the reduced axes with length 1 (default ``False``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.var(fg.tensor([1.0, 3.0])).item()
        1.0
    """
    x, axes = _prepare("var", x, axis)
    return x.var(axis=_axis_arg(axes), keepdims=keepdims, correction=0.0)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The population standard deviation over ``axis``. Example: ``ops.std([1.0, 3.0])`` is
    1.

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis (or axes) to reduce; ``None`` for all (default ``None``).
        keepdims: Whether to keep the reduced axes with length 1 (default ``False``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.std([1.0, 3.0]).item()
        1.0
    """
    x, axes = _prepare("std", x, axis)
    return x.std(axis=_axis_arg(axes), keepdims=keepdims, correction=0.0)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The position of the largest value along ``axis`` (of the flattened tensor when None);
    the first of ties. Positions come as a float tensor (ferrograd's tensors hold floats)
    without a gradient.

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis to search; ``None`` searches the flattened tensor (default ``None``).
        keepdims: Whether to keep the reduced axes with length 1 (default ``False``).

    Returns:
        A float tensor of positions.

    Examples:
        >>> fg.ops.argmax(fg.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1).tolist()
        [1.0, 0.0]
    """
    x = to_tensor(x)
    if axis is not None:
        axis = normalize_axis("argmax", axis, x.ndim, x.shape)
    return x.argmax(axis=axis, keepdims=keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The position of the smallest value; see ``argmax``.

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis to search; ``None`` searches the flattened tensor (default ``None``).
        keepdims: Whether to keep the reduced axes with length 1 (default ``False``).

    Returns:
        A float tensor of positions.

    Examples:
        >>> fg.ops.argmin(fg.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1).tolist()
        [0.0, 1.0]
    """
    x = to_tensor(x)
    if axis is not None:
        axis = normalize_axis("argmin", axis, x.ndim, x.shape)
    return x.argmin(axis=axis, keepdims=keepdims)


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """The running sum along ``axis`` (of the flattened tensor when None).

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis to sum along; ``None`` flattens first (default ``None``).
        dtype: The dtype of the result; ``None`` keeps ``x``'s (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.cumsum(fg.tensor([1.0, 2.0, 3.0])).tolist()
        [1.0, 3.0, 6.0]
    """
    x = to_tensor(x)
    if axis is not None:
        axis = normalize_axis("cumsum", axis, x.ndim, x.shape)
    out = x.cumsum(axis=axis)
    return out if dtype is None else out.astype(dtype)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow (the maximum is taken out
    first); its gradient is the softmax.

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis (or axes) to reduce; ``None`` for all (default ``None``).
        keepdims: Whether to keep the reduced axes with length 1 (default ``False``).

    Returns:
        A tensor.

    Examples:
        >>> round(fg.ops.logsumexp(fg.tensor([1000.0, 1000.0])).item(), 2)
        1000.69
    """
    from ferrograd.ops.elementwise import where

    x, axes = _prepare("logsumexp", x, axis)
    axes_arg = _axis_arg(axes)
    peak = x.max(axis=axes_arg, keepdims=True).detach()
    # An all -inf (or inf) lane would give inf - inf = NaN; shifting it by 0 keeps the answer.
    peak = where(abs(peak) < np.inf, peak, 0.0)
    total = (x - peak).exp().sum(axis=axes_arg, keepdims=True).log() + peak
    if keepdims:
        return total
    kept = set(range(x.ndim)) if axes is None else set(axes)
    return total.reshape([d for i, d in enumerate(x.shape) if i not in kept])


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """A vector or matrix norm, as ``numpy.linalg.norm``: over one axis a vector norm
    (``ord`` a number, ``inf`` or ``-inf``; None is 2), over two axes a matrix norm (``ord``
    None or "fro", 1, -1, ``inf``, ``-inf``); with ``axis=None`` the 2-norm of all elements,
    or the matrix norm of a 2-D tensor when ``ord`` is given. The spectral and nuclear norms
    (``ord`` 2, -2, "nuc") are not supported.

    Args:
        x: A tensor, array, number or nested list.
        ord: The order of the norm, as in ``numpy.linalg.norm`` (default ``None``: 2-norm or
            Frobenius).
        axis: The axis (or pair of axes, for a matrix norm) to reduce; ``None`` for all (default
            ``None``).
        keepdims: Whether to keep the reduced axes with length 1 (default ``False``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.norm(fg.tensor([3.0, 4.0])).item()
        5.0
    """
    x = to_tensor(x)
    if axis is None:
        if ord is None:
            return x.norm(2.0, None, keepdims)
        if x.ndim == 1:
            axis = (0,)
        elif x.ndim == 2:
            axis = (0, 1)
        else:
            raise ValueError(
                f"norm: with axis=None, ord={ord!r} needs a 1-D or 2-D tensor, received shape "
                f"{tuple(x.shape)}"
            )
    axes = normalize_axes("norm", axis, x.ndim, x.shape)
    assert axes is not None
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ValueError(f"norm: ord={ord!r} is a matrix norm; a vector norm takes a number")
        return x.norm(2.0 if ord is None else float(ord), tuple(axes), keepdims)
    if len(axes) != 2:
        raise ValueError(f"norm: axis must name one or two axes, received axis={axis!r}")
    if ord is None or ord == "fro":
        return x.norm(2.0, tuple(axes), keepdims)
    rows, cols = (
        axes
        if not isinstance(axis, tuple | list)
        else [normalize_axis("norm", a, x.ndim, x.shape) for a in axis]
    )
    if ord in (1, -1):
        # The largest (smallest) column sum of magnitudes: sum over rows, then over columns.
        inner, outer = rows, cols
    elif ord in (np.inf, -np.inf):
        inner, outer = cols, rows
    else:
        raise ValueError(
            f"norm: ord={ord!r} is not supported for matrices; use None, 'fro', 1, -1, inf or -inf"
        )
    sums = x.abs().sum(axis=inner, keepdims=True)
    pick = sums.max if ord in (1, np.inf) else sums.min
    out = pick(axis=outer, keepdims=True)
    if keepdims:
        return out
    return out.reshape([d for i, d in enumerate(x.shape) if i not in (rows, cols)])
