"""Conversions and the few core ops: ``cast``, ``convert_to_tensor``, ``convert_to_numpy``,
``shape``, ``stop_gradient``, ``top_k``."""

from typing import Any

import numpy as np

from ferrograd._core import Tensor
from ferrograd.ops._convert import normalize_axis, shape_of, to_tensor


def _dtype(op: str, dtype: Any) -> str:
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype") from None
    return "float64" if kind == np.float64 else "float32"


def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` in ``dtype``: float64 stays float64, other dtypes (float16, int32, ...) give
    float32; an integer dtype also truncates toward zero, as a cast to integers does.

    Args:
        x: A tensor, array, number or nested list.
        dtype: The dtype to cast to (a numpy dtype or its name).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.cast(fg.tensor([1.7, -1.7]), "int32").tolist()
        [1.0, -1.0]
    """
    x = to_tensor(x)
    out = x.astype(_dtype("cast", dtype))
    if np.dtype(dtype).kind in "iu":
        out = out.sign() * out.abs().floor()
    elif np.dtype(dtype).kind == "b":
        out = out != 0.0
    return out


def convert_to_tensor(x: Any, dtype: Any = None, sparse: Any = None, ragged: Any = None) -> Tensor:
    """``x`` (a tensor, array, number or nested list) as a tensor.

    Args:
        x: A tensor, array, number or nested list.
        dtype: The dtype of the result; ``None`` for the default float32 (default ``None``).
        sparse: Unsupported: must be falsy (default ``None``).
        ragged: Unsupported: must be falsy (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.convert_to_tensor([1, 2]).dtype
        dtype('float32')
    """
    if sparse or ragged:
        raise ValueError("convert_to_tensor: sparse and ragged tensors are not supported")
    return to_tensor(x, None if dtype is None else _dtype("convert_to_tensor", dtype))


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a numpy array (a copy).

    Args:
        x: A tensor, array, number or nested list.

    Returns:
        A numpy array.

    Examples:
        >>> fg.ops.convert_to_numpy(fg.tensor([1.0, 2.0]))
        array([1., 2.], dtype=float32)
    """
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def shape(x: Any) -> tuple[int, ...]:
    """The shape of ``x`` as a tuple of ints.

    Args:
        x: A tensor, array, number or nested list.

    Returns:
        A tuple of ints.

    Examples:
        >>> fg.ops.shape(np.zeros((2, 3)))
        (2, 3)
    """
    return shape_of(x)


def stop_gradient(variable: Any) -> Tensor:
    """The same values, cut from the graph: no gradient flows through.

    Args:
        variable: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> w = fg.tensor([1.0], requires_grad=True)
        >>> fg.ops.stop_gradient(w * 2).requires_grad
        False
    """
    return to_tensor(variable).detach()


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:  # noqa: A002
    """The ``k`` largest values along the last axis and their positions (float, without a
    gradient); the values are differentiable. Ties keep the earlier position first.

    Args:
        x: A tensor, array or nested list.
        k: How many values to return.
        sorted: Whether to sort the values largest first; otherwise keep their order in ``x``
            (default ``True``).

    Returns:
        A pair ``(values, indices)`` of tensors.

    Examples:
        >>> values, indices = fg.ops.top_k(fg.tensor([1.0, 4.0, 2.0]), 2)
        >>> values.tolist(), indices.tolist()
        ([4.0, 2.0], [1.0, 2.0])
    """
    from ferrograd.ops.shapes import take_along_axis

    x = to_tensor(x)
    normalize_axis("top_k", -1, x.ndim, x.shape)
    if not 0 <= int(k) <= x.shape[-1]:
        raise ValueError(
            f"top_k: k must lie in [0, {x.shape[-1]}] for a tensor of shape {tuple(x.shape)}, "
            f"received k={k}"
        )
    order = np.argsort(-x.numpy(), axis=-1, kind="stable")[..., : int(k)]
    if not sorted:
        order = np.sort(order, axis=-1)
    values = take_along_axis(x, order, axis=-1)
    return values, Tensor(order.astype(np.float64), dtype=x.dtype)
