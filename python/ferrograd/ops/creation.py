"""Tensors made from shapes and ranges, with Keras's names and arguments. They hold float32
unless ``dtype`` says float64 (ferrograd's tensors hold floats; integer dtypes give float32
holding whole numbers)."""

from typing import Any

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.ops._convert import integer_array, normalize_axis, shape_of, to_tensor


def _float_dtype(dtype: Any, default: str = "float32") -> str:
    """ferrograd's dtype for a Keras ``dtype`` argument: float64 stays, any other real dtype
    (float16, int32, bool, ...) is float32."""
    if dtype is None:
        return default
    kind = np.dtype(dtype)
    return "float64" if kind == np.float64 else "float32"


def _shape(op: str, shape: Any) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    if any(int(d) < 0 for d in dims):
        raise ValueError(f"{op}: a shape cannot have negative dimensions, received {dims}")
    return tuple(int(d) for d in dims)


def zeros(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of zeros.

    Args:
        shape: An int or a tuple of ints.
        dtype: "float32" (default) or "float64".

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.zeros((2, 3)).shape
        (2, 3)
    """
    return _core.zeros(_shape("zeros", shape), dtype=_float_dtype(dtype))


def ones(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of ones.

    Args:
        shape: The shape of the result, an int or a tuple of ints.
        dtype: The dtype of the result; ``None`` for the default float32 (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.ones(2).tolist()
        [1.0, 1.0]
    """
    return _core.ones(_shape("ones", shape), dtype=_float_dtype(dtype))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor filled with ``fill_value`` (a number, or an array broadcast to ``shape``).

    Args:
        shape: The shape of the result, an int or a tuple of ints.
        fill_value: The value every element takes.
        dtype: The dtype of the result; ``None`` for float32, or the dtype of a tensor
            ``fill_value`` (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.full((2,), 7.0).tolist()
        [7.0, 7.0]
    """
    dims = _shape("full", shape)
    if np.ndim(fill_value) == 0 and not isinstance(fill_value, Tensor):
        return _core.full(dims, float(fill_value), dtype=_float_dtype(dtype))
    value = to_tensor(fill_value, _float_dtype(dtype, str(to_tensor(fill_value).dtype)))
    return value + _core.zeros(dims, dtype=value.dtype)


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    """Zeros of ``x``'s shape (and dtype, unless given).

    Args:
        x: The tensor or array whose shape the result takes.
        dtype: The dtype of the result; ``None`` keeps ``x``'s (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.zeros_like(np.ones((1, 2))).tolist()
        [[0.0, 0.0]]
    """
    return zeros(shape_of(x), dtype or _like_dtype(x))


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    """Ones of ``x``'s shape (and dtype, unless given).

    Args:
        x: The tensor or array whose shape the result takes.
        dtype: The dtype of the result; ``None`` keeps ``x``'s (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.ones_like(np.zeros((1, 2))).tolist()
        [[1.0, 1.0]]
    """
    return ones(shape_of(x), dtype or _like_dtype(x))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """``fill_value`` in ``x``'s shape (and dtype, unless given).

    Args:
        x: The tensor or array whose shape the result takes.
        fill_value: The value every element takes.
        dtype: The dtype of the result; ``None`` keeps ``x``'s (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.full_like(np.zeros(2), 7.0).tolist()
        [7.0, 7.0]
    """
    return full(shape_of(x), fill_value, dtype or _like_dtype(x))


def _like_dtype(x: Any) -> str:
    dtype = np.dtype(getattr(x, "dtype", np.float32))
    return "float64" if dtype == np.float64 else "float32"


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Tensor:
    """``start, start + step, ...`` below ``stop`` (``arange(n)``: 0 to n - 1).

    Args:
        start: The first value, or the end (exclusive) where ``stop`` is ``None``.
        stop: The end, exclusive (default ``None``).
        step: The spacing between values (default ``1``).
        dtype: The dtype of the result; ``None`` for the default float32 (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.arange(1, 7, 2).tolist()
        [1.0, 3.0, 5.0]
    """
    if stop is None:
        start, stop = 0, start
    return _core.arange(float(start), float(stop), float(step), dtype=_float_dtype(dtype))


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """``num`` evenly spaced numbers from ``start`` to ``stop`` (included when ``endpoint``),
    as numpy's and Keras's ``linspace``.

    Args:
        start: the first value, a number.
        stop: the last value (or the bound, with ``endpoint=False``), a number.
        num: how many values (default 50).
        endpoint: whether ``stop`` is the last value (default True).
        retstep: also return the step between values (default False).
        dtype: the tensor's dtype (default None: float32).
        axis: must be 0 (default 0).

    Returns:
        A 1-D tensor, or ``(tensor, step)`` with ``retstep=True``.

    Raises:
        ValueError: bounds that are not numbers, ``axis`` other than 0, or a negative ``num``.

    Examples:
        >>> fg.ops.linspace(0.0, 1.0, 3).tolist()
        [0.0, 0.5, 1.0]
    """
    if np.ndim(start) or np.ndim(stop) or axis != 0:
        raise ValueError("linspace: only number bounds (and axis=0) are supported")
    if int(num) < 0:
        raise ValueError(f"linspace: num must be non-negative, received num={num}")
    values, step = np.linspace(float(start), float(stop), int(num), endpoint=endpoint, retstep=True)
    out = _core.tensor(values, dtype=_float_dtype(dtype))
    return (out, step) if retstep else out


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803
    """An ``N x M`` matrix with ones on diagonal ``k`` (the main one by default).

    Args:
        N: The number of rows.
        M: The number of columns; ``None`` for ``N`` (default ``None``).
        k: The diagonal: 0 the main one, positive above, negative below (default ``0``).
        dtype: The dtype of the result; ``None`` for the default float32 (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.eye(2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    return _core.tensor(
        np.eye(int(N), None if M is None else int(M), int(k)), dtype=_float_dtype(dtype)
    )


def identity(n: int, dtype: Any = None) -> Tensor:
    """The ``n x n`` identity matrix.

    Args:
        n: The number of rows and columns.
        dtype: The dtype of the result; ``None`` for the default float32 (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.identity(2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    return eye(n, dtype=dtype)


def one_hot(
    x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
) -> Tensor:
    """Class indices as one-hot vectors along a new ``axis``; indices outside
    ``[0, num_classes)`` give all-zero vectors, as in Keras.

    Args:
        x: Integer class indices.
        num_classes: The number of classes (length of the new axis).
        axis: Where the new class axis goes (default ``-1``).
        dtype: The dtype of the result; ``None`` for the default float32 (default ``None``).
        sparse: Unsupported: must be ``False`` (default ``False``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.one_hot([0, 2], 3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported")
    labels = integer_array("one_hot", "x", x)
    if int(num_classes) <= 0:
        raise ValueError(f"one_hot: num_classes must be positive, received {num_classes}")
    rank = labels.ndim + 1
    axis = normalize_axis("one_hot", axis, rank, labels.shape)
    encoded = (labels[..., None] == np.arange(int(num_classes))).astype(np.float64)
    encoded = np.moveaxis(encoded, -1, axis)
    return _core.tensor(encoded, dtype=_float_dtype(dtype))
