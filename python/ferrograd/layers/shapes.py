"""Shapes as layers and models take and show them: tuples of ints, with None for a size not
known yet (the batch axis)."""

from __future__ import annotations

import numpy as np


def normalize_shape(shape) -> tuple:
    """``shape`` as a tuple of ints and Nones, refusing anything else.

    Args:
        shape: an int (one axis) or an iterable of non-negative ints and Nones.

    Raises:
        TypeError: ``shape`` is not iterable.
        ValueError: a size is negative or not an int.

    Examples:
        >>> normalize_shape(3), normalize_shape([None, np.int64(4)])
        ((3,), (None, 4))
    """
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"a shape must be a tuple of ints, received {shape!r}") from None
    for d in dims:
        if d is not None and (not isinstance(d, (int, np.integer)) or d < 0):
            raise ValueError(f"a shape must hold non-negative ints or None, received {shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


def format_shape(shape) -> str:
    """``shape`` written as Keras's summaries write it.

    Args:
        shape: a tuple of ints and Nones.

    Examples:
        >>> format_shape((None, 10)), format_shape((None,))
        ('(None, 10)', '(None,)')
    """
    dims = ["None" if d is None else str(d) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def shape_list(shape) -> list:
    """``shape`` as a list of shapes: one shape (a tuple of sizes) gives a list of one, a list
    of shapes (for a layer merging several inputs) each normalized.

    Args:
        shape: a shape, or a list/tuple of shapes.

    Examples:
        >>> shape_list((None, 3)), shape_list([(None, 3), (None, 4)])
        ([(None, 3)], [(None, 3), (None, 4)])
    """
    if (
        isinstance(shape, (list, tuple))
        and shape
        and all(isinstance(s, (list, tuple)) for s in shape)
    ):
        return [normalize_shape(s) for s in shape]
    return [normalize_shape(shape)]
