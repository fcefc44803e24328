"""Shape ops with Keras's names: reshaping, joining, splitting, gathering, padding. All are
differentiable: they are made of reshapes, joins and gathers, whose backward scatters the
gradient back (adding where an element was taken more than once)."""

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.ops._convert import (
    integer_array,
    normalize_axes,
    normalize_axis,
    to_tensor,
    to_tensors,
)


def _gather(x: Tensor, positions: np.ndarray, axis: int) -> Tensor:
    """``x`` at 1-D ``positions`` along ``axis``."""
    index = (builtins.slice(None),) * axis + (positions.astype(np.int64),)
    return x[index]


def reshape(x: Any, newshape: Any) -> Tensor:
    """``x`` with shape ``newshape`` (one entry may be -1).

    Args:
        x: A tensor, array, number or nested list.
        newshape: The new shape; one entry may be ``-1``.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.reshape(fg.tensor([1.0, 2.0, 3.0, 4.0]), (2, -1)).shape
        (2, 2)
    """
    x = to_tensor(x)
    shape = [newshape] if isinstance(newshape, int) else list(newshape)
    known = math.prod(d for d in shape if d != -1)
    if shape.count(-1) > 1 or (
        -1 not in shape and known != x.size or (-1 in shape and (known == 0 or x.size % known))
    ):
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} ({x.size} elements) "
            f"into shape {tuple(shape)}"
        )
    return x.reshape(shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """``x`` with its axes permuted (reversed by default).

    Args:
        x: A tensor, array, number or nested list.
        axes: The permutation of the axes; ``None`` reverses them (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.transpose(fg.zeros(2, 3, 4), (2, 0, 1)).shape
        (4, 2, 3)
    """
    x = to_tensor(x)
    if axes is None:
        return x.transpose()
    resolved = [normalize_axis("transpose", a, x.ndim, x.shape) for a in axes]
    if sorted(resolved) != list(range(x.ndim)):
        raise ValueError(
            f"transpose: axes {tuple(axes)} are not a permutation of the axes of a tensor of "
            f"shape {tuple(x.shape)}"
        )
    return x.transpose(resolved)


def expand_dims(x: Any, axis: Any) -> Tensor:
    """``x`` with new axes of size 1 at ``axis`` (an int or a tuple; positions in the result).

    Args:
        x: A tensor, array, number or nested list.
        axis: The position (or positions) of the new axis of length 1.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.expand_dims(fg.zeros(2, 3), -1).shape
        (2, 3, 1)
    """
    x = to_tensor(x)
    axes = list(axis) if isinstance(axis, list | tuple) else [axis]
    rank = x.ndim + len(axes)
    resolved = normalize_axes("expand_dims", axes, rank, x.shape)
    assert resolved is not None
    dims = iter(x.shape)
    return x.reshape([1 if i in resolved else next(dims) for i in range(rank)])


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """``x`` without its axes of size 1 (or only those of ``axis``, which must have size 1).

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis (or axes) of length 1 to remove; ``None`` for all (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.squeeze(fg.zeros(2, 1, 3)).shape
        (2, 3)
    """
    x = to_tensor(x)
    axes = normalize_axes("squeeze", axis, x.ndim, x.shape)
    if axes is None:
        axes = [i for i, d in enumerate(x.shape) if d == 1]
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(
                f"squeeze: axis {a} of a tensor of shape {tuple(x.shape)} has size "
                f"{x.shape[a]}, not 1"
            )
    return x.reshape([d for i, d in enumerate(x.shape) if i not in axes])


def _check_join(op: str, xs: list[Tensor], axis: int, same_rank_offset: int) -> int:
    if not xs:
        raise ValueError(f"{op}: expected at least one tensor, received none")
    shapes = [tuple(t.shape) for t in xs]
    rank = len(shapes[0])
    axis = normalize_axis(op, axis, rank + same_rank_offset, shapes[0])
    for s in shapes:
        rest = [d for i, d in enumerate(s) if same_rank_offset or i != axis]
        first = [d for i, d in enumerate(shapes[0]) if same_rank_offset or i != axis]
        if len(s) != rank or rest != first:
            raise ValueError(
                f"{op}: the tensors' shapes must agree except along axis {axis}, received "
                f"shapes {shapes}"
            )
    return axis


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors joined along an existing ``axis``.

    Args:
        xs: The tensors to join; their shapes agree except along ``axis``.
        axis: The axis to join along (default ``0``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.concatenate([fg.zeros(2, 3), fg.ones(1, 3)], axis=0).shape
        (3, 3)
    """
    tensors = to_tensors(*xs)
    axis = _check_join("concatenate", tensors, axis, 0)
    return _core.concat(tensors, axis=axis)


def stack(x: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors (all of one shape) joined along a new ``axis``.

    Args:
        x: The tensors to stack, all of one shape.
        axis: Where the new axis goes (default ``0``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.stack([fg.zeros(3), fg.ones(3)], axis=1).shape
        (3, 2)
    """
    tensors = to_tensors(*x)
    axis = _check_join("stack", tensors, axis, 1)
    return _core.stack(tensors, axis=axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """``x`` cut along ``axis`` into equal sections (an int that divides the axis) or at the
    given indices, as ``numpy.split``.

    Args:
        x: A tensor, array, number or nested list.
        indices_or_sections: The number of equal pieces, or the indices to split at.
        axis: The axis to split along (default ``0``).

    Returns:
        A list of tensors.

    Examples:
        >>> [t.shape for t in fg.ops.split(fg.zeros(6, 2), [1, 4])]
        [(1, 2), (3, 2), (2, 2)]
    """
    x = to_tensor(x)
    axis = normalize_axis("split", axis, x.ndim, x.shape)
    length = x.shape[axis]
    if isinstance(indices_or_sections, int | np.integer):
        sections = int(indices_or_sections)
        if sections <= 0 or length % sections:
            raise ValueError(
                f"split: an axis of size {length} (shape {tuple(x.shape)}) cannot be split "
                f"into {sections} equal sections"
            )
        cuts = [length // sections * i for i in range(1, sections)]
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = [0, *cuts, length]
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        index = (builtins.slice(None),) * axis + (builtins.slice(start, stop),)
        pieces.append(x[index])
    return pieces


def tile(x: Any, repeats: Any) -> Tensor:
    """``x`` repeated ``repeats[i]`` times along each axis, as ``numpy.tile``.

    Args:
        x: A tensor, array, number or nested list.
        repeats: The number of copies along each axis.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.tile(fg.tensor([1.0, 2.0]), 2).tolist()
        [1.0, 2.0, 1.0, 2.0]
    """
    x = to_tensor(x)
    reps = [int(repeats)] if isinstance(repeats, int | np.integer) else [int(r) for r in repeats]
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: repeats must be non-negative, received {repeats!r}")
    if len(reps) > x.ndim:
        x = x.reshape([1] * (len(reps) - x.ndim) + list(x.shape))
    reps = [1] * (x.ndim - len(reps)) + reps
    for axis, r in enumerate(reps):
        if r != 1:
            x = _gather(x, np.tile(np.arange(x.shape[axis]), r), axis)
    return x


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Tensor:
    """Each element (or slice along ``axis``) repeated ``repeats`` times (an int or one count
    per element), as ``numpy.repeat``; the flattened tensor when ``axis`` is None.

    Args:
        x: A tensor, array, number or nested list.
        repeats: How many times each element repeats (an int or one per element).
        axis: The axis to repeat along; ``None`` flattens first (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.repeat(fg.tensor([1.0, 2.0]), 2).tolist()
        [1.0, 1.0, 2.0, 2.0]
    """
    x = to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = normalize_axis("repeat", axis, x.ndim, x.shape)
    counts = integer_array("repeat", "repeats", repeats)
    try:
        positions = np.repeat(np.arange(x.shape[axis]), counts)
    except ValueError:
        raise ValueError(
            f"repeat: repeats of shape {counts.shape} do not fit axis {axis} of a tensor of "
            f"shape {tuple(x.shape)}"
        ) from None
    return _gather(x, positions, axis)


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """The elements (slices along ``axis``) at ``indices``, of any shape, as ``numpy.take``;
    negative indices count from the end.

    Args:
        x: A tensor, array, number or nested list.
        indices: The integer indices to gather.
        axis: The axis to gather along; ``None`` flattens first (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.take(fg.tensor([[1.0, 2.0], [3.0, 4.0]]), [[1]], axis=0).shape
        (1, 1, 2)
    """
    x = to_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = normalize_axis("take", axis, x.ndim, x.shape)
    positions = integer_array("take", "indices", indices)
    n = x.shape[axis]
    if positions.size and (positions.max() >= n or positions.min() < -n):
        raise IndexError(
            f"take: indices must lie in [-{n}, {n}) for axis {axis} of a tensor of shape "
            f"{tuple(x.shape)}, received values from {positions.min()} to {positions.max()}"
        )
    gathered = _gather(x, positions.reshape(-1) % max(n, 1), axis)
    shape = list(x.shape[:axis]) + list(positions.shape) + list(x.shape[axis + 1 :])
    return gathered.reshape(shape)


def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """The elements at ``indices`` along ``axis``, matched position by position on the other
    axes (broadcast), as ``numpy.take_along_axis``; the flattened tensor when None.

    Args:
        x: A tensor, array, number or nested list.
        indices: Integer indices, broadcastable with ``x`` except along ``axis``.
        axis: The axis to gather along; ``None`` flattens first (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> x = fg.tensor([[10.0, 30.0, 20.0]])
        >>> fg.ops.take_along_axis(x, [[1, 0]], axis=1).tolist()
        [[30.0, 10.0]]
    """
    x = to_tensor(x)
    positions = integer_array("take_along_axis", "indices", indices)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = normalize_axis("take_along_axis", axis, x.ndim, x.shape)
    if positions.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices must have as many dimensions as x, received shapes "
            f"{tuple(x.shape)} and {positions.shape}"
        )
    n = x.shape[axis]
    if positions.size and (positions.max() >= n or positions.min() < -n):
        raise IndexError(
            f"take_along_axis: indices must lie in [-{n}, {n}) along axis {axis} of a tensor "
            f"of shape {tuple(x.shape)}"
        )
    x_shape = list(x.shape)
    try:
        others = np.broadcast_shapes(
            tuple(d for i, d in enumerate(x_shape) if i != axis),
            tuple(d for i, d in enumerate(positions.shape) if i != axis),
        )
    except ValueError:
        raise ValueError(
            f"take_along_axis: shapes {tuple(x.shape)} and {positions.shape} do not broadcast "
            f"on the axes other than {axis}"
        ) from None
    full = list(others)
    x_target = full[:axis] + [n] + full[axis:]
    if x_target != x_shape:
        x = x + _core.zeros(*x_target, dtype=x.dtype)
    out_shape = full[:axis] + [positions.shape[axis]] + full[axis:]
    positions = np.broadcast_to(positions % max(n, 1), out_shape)
    grid = list(np.indices(out_shape, sparse=True))
    grid[axis] = positions
    flat = np.ravel_multi_index(tuple(np.broadcast_arrays(*grid)), x_target)
    return x.reshape(-1)[flat.reshape(-1)].reshape(out_shape)


def slice(inputs: Any, start_indices: Sequence[int], shape: Sequence[int]) -> Tensor:  # noqa: A001
    """The block of ``shape`` starting at ``start_indices``.

    Args:
        inputs: A tensor, array or nested list.
        start_indices: The start of the slice, one index per axis.
        shape: The size of the slice, one per axis.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.slice(fg.zeros(4, 5), (1, 2), (2, 3)).shape
        (2, 3)
    """
    x = to_tensor(inputs)
    starts, sizes = [int(s) for s in start_indices], [int(s) for s in shape]
    if (
        len(starts) != x.ndim
        or len(sizes) != x.ndim
        or any(s < 0 or d < 0 or s + d > n for s, d, n in zip(starts, sizes, x.shape, strict=True))
    ):
        raise ValueError(
            f"slice: a block of shape {tuple(sizes)} at {tuple(starts)} does not fit a tensor "
            f"of shape {tuple(x.shape)}"
        )
    return x[tuple(builtins.slice(s, s + d) for s, d in zip(starts, sizes, strict=True))]


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> Tensor:
    """``x`` padded with ``constant_values`` (0 by default): ``pad_width`` gives
    ``(before, after)`` for each axis, or one pair or number for all. Only
    ``mode="constant"`` is supported.

    Args:
        x: A tensor, array, number or nested list.
        pad_width: The padding before and after each axis, as in ``numpy.pad``.
        mode: Only ``"constant"`` is supported (default ``"constant"``).
        constant_values: The fill value for ``"constant"`` mode; ``None`` for 0 (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.pad(fg.ones(2), [(1, 2)]).tolist()
        [0.0, 1.0, 1.0, 0.0, 0.0]
    """
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, received mode={mode!r}")
    x = to_tensor(x)
    widths = np.asarray(pad_width, dtype=np.int64)
    try:
        widths = np.broadcast_to(widths.reshape(-1, 2) if widths.size == 2 else widths, (x.ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not give (before, after) for each axis of a "
            f"tensor of shape {tuple(x.shape)}"
        ) from None
    if np.any(widths < 0):
        raise ValueError(f"pad: pad widths must be non-negative, received {pad_width!r}")
    value = 0.0 if constant_values is None else float(constant_values)
    for axis, (before, after) in enumerate(widths.tolist()):
        parts = []
        for width in (before, after):
            shape = list(x.shape)
            shape[axis] = width
            parts.append(_core.full(tuple(shape), value, dtype=x.dtype))
        if before or after:
            x = _core.concat([parts[0], x, parts[1]], axis=axis)
    return x


def flip(x: Any, axis: Any = None) -> Tensor:
    """``x`` reversed along ``axis`` (all axes by default).

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis (or axes) to reverse; ``None`` for all (default ``None``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.flip(fg.tensor([1.0, 2.0, 3.0])).tolist()
        [3.0, 2.0, 1.0]
    """
    x = to_tensor(x)
    axes = normalize_axes("flip", axis, x.ndim, x.shape)
    axes = list(range(x.ndim)) if axes is None else axes
    if x.ndim == 0:
        return x
    return x[
        tuple(
            builtins.slice(None, None, -1) if i in axes else builtins.slice(None)
            for i in range(x.ndim)
        )
    ]
