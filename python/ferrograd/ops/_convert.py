"""Turning the arguments of ``ferrograd.ops`` into tensors, and checking axes and shapes.

Keras's ops take tensors, numpy arrays and Python numbers alike. A tensor keeps its dtype; a
numpy float array keeps its own (float32 or float64); numbers, integer and boolean arrays become
float32 (Keras's ``floatx``), or the dtype of the tensor they are combined with.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

from ferrograd._core import Tensor, tensor


def dtype_of(x: Any) -> str | None:
    """The dtype ``x`` brings to a combination: a tensor's or a float array's, else None."""
    if isinstance(x, Tensor):
        return str(x.dtype)
    if isinstance(x, np.ndarray | np.generic) and x.dtype in (np.float32, np.float64):
        return str(x.dtype)
    return None


def to_tensor(x: Any, dtype: str | None = None) -> Tensor:
    """``x`` as a tensor (the same tensor when it already is one and no dtype is asked for)."""
    if isinstance(x, Tensor):
        if dtype is not None and str(x.dtype) != dtype:
            return x.astype(dtype)
        return x
    if dtype is None:
        dtype = dtype_of(x) or "float32"
    if isinstance(x, list | tuple) and any(isinstance(item, Tensor) for item in x):
        from ferrograd._core import stack

        return stack([to_tensor(item, dtype) for item in x])
    return tensor(np.asarray(x), dtype=dtype)


def common_dtype(*xs: Any) -> str:
    """The dtype several operands are computed in: float64 if any brings it, else float32."""
    dtypes = {dtype_of(x) for x in xs} - {None}
    return "float64" if "float64" in dtypes else "float32"


def to_tensors(*xs: Any) -> list[Tensor]:
    dtype = common_dtype(*xs)
    return [to_tensor(x, dtype) for x in xs]


def shape_of(x: Any) -> tuple[int, ...]:
    if isinstance(x, Tensor):
        return tuple(x.shape)
    return tuple(np.shape(x))


def check_broadcast(op: str, *xs: Any) -> tuple[int, ...]:
    """The broadcast shape of the operands, or a ValueError naming ``op`` and their shapes."""
    shapes = [shape_of(x) for x in xs]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        listed = " and ".join(str(s) for s in shapes)
        raise ValueError(
            f"{op}: operands of shapes {listed} cannot be broadcast together"
        ) from None


def normalize_axis(op: str, axis: Any, ndim: int, shape: Sequence[int] = ()) -> int:
    """A single axis resolved against ``ndim`` (negative counts from the end)."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{op}: axis must be an int, received axis={axis!r}")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{op}: axis {axis} is out of range for a tensor of shape {tuple(shape)} "
            f"({ndim} dimensions)"
        )
    return axis % ndim if ndim else 0


def normalize_axes(op: str, axis: Any, ndim: int, shape: Sequence[int] = ()) -> list[int] | None:
    """None, or the sorted list of axes an ``axis`` argument names (an int or a sequence)."""
    if axis is None:
        return None
    axes = list(axis) if isinstance(axis, list | tuple) else [axis]
    resolved = [normalize_axis(op, a, ndim, shape) for a in axes]
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"{op}: repeated axis in axis={axis!r}")
    return sorted(resolved)


def integer_array(op: str, name: str, indices: Any) -> np.ndarray:
    """Indices (a tensor of integral floats, an integer array or a list) as an int64 array."""
    values = indices.numpy() if isinstance(indices, Tensor) else np.asarray(indices)
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise ValueError(f"{op}: {name} must hold integers, received {values!r}")
    elif values.dtype.kind not in "iub":
        raise TypeError(f"{op}: {name} must hold integers, received dtype {values.dtype}")
    return values.astype(np.int64)
