"""`to_categorical`: class labels as one-hot rows."""

from __future__ import annotations

import operator

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

_SHOWN_LABELS = 5


def to_categorical(y: ArrayLike, num_classes: int | None = None, dtype: DTypeLike = "float32"):
    """Converts class labels to one-hot rows, like ``keras.utils.to_categorical``.

    Args:
        y: integer class labels from 0 to ``num_classes - 1``, of any shape: a list, a numpy
            array or a tensor. Floats are accepted when they are whole numbers. A trailing
            dimension of size 1 (labels shaped ``(n, 1)``) is dropped.
        num_classes: the number of classes (default: ``None``, the largest label plus one).
        dtype: the dtype of the result (default: ``"float32"``).

    Returns:
        A numpy array of shape ``y.shape + (num_classes,)`` (after dropping a trailing 1) that
        holds 1 at each label's index and 0 elsewhere.

    Raises:
        ValueError: a label is negative, not a whole number, or not below ``num_classes``; or
            ``num_classes`` is below 1, or cannot be inferred from an empty ``y``.
        TypeError: ``y`` does not hold numbers, or ``num_classes`` is not an integer.

    Examples:

    >>> import ferrograd as fg
    >>> fg.utils.to_categorical([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    >>> fg.utils.to_categorical([[1], [0]], num_classes=4).shape
    (2, 4)
    """
    labels = np.asarray(y)
    if labels.dtype.kind not in "iuf":
        raise TypeError(
            f"to_categorical expects integer class labels; received an array of dtype "
            f"{labels.dtype}"
        )
    shape = labels.shape[:-1] if labels.ndim > 1 and labels.shape[-1] == 1 else labels.shape
    labels = labels.reshape(-1)
    if labels.dtype.kind == "f":
        not_whole = labels[~np.isfinite(labels) | (labels != np.round(labels))]
        if not_whole.size:
            raise ValueError(
                f"to_categorical expects whole-number class labels; received "
                f"{_show(not_whole)}. Round or cast the labels to integers first."
            )
    negative = labels[labels < 0]
    if negative.size:
        raise ValueError(
            f"to_categorical expects class labels from 0; received the negative labels "
            f"{_show(negative)}"
        )
    if num_classes is None:
        if labels.size == 0:
            raise ValueError(
                "to_categorical cannot infer num_classes from empty labels; pass num_classes"
            )
        num_classes = int(labels.max()) + 1
    else:
        num_classes = _checked_num_classes(num_classes)
        too_large = labels[labels >= num_classes]
        if too_large.size:
            raise ValueError(
                f"to_categorical expects class labels below num_classes={num_classes}; "
                f"received {_show(too_large)}. Pass a larger num_classes, or None to infer it."
            )
    one_hot = np.zeros((labels.size, num_classes), dtype=dtype)
    one_hot[np.arange(labels.size), labels.astype(np.intp)] = 1
    return one_hot.reshape(*shape, num_classes)


def _checked_num_classes(num_classes) -> int:
    if isinstance(num_classes, bool):
        raise TypeError(f"num_classes must be an integer; received {num_classes!r}")
    try:
        count = operator.index(num_classes)
    except TypeError:
        raise TypeError(
            f"num_classes must be an integer; received {type(num_classes).__name__} {num_classes!r}"
        ) from None
    if count < 1:
        raise ValueError(f"num_classes must be at least 1; received num_classes={count}")
    return count


def _show(values: np.ndarray) -> str:
    """The distinct values, the first few of them, and how many labels hold them."""
    distinct = np.unique(values)
    shown = ", ".join(str(v.item()) for v in distinct[:_SHOWN_LABELS])
    more = ", ..." if distinct.size > _SHOWN_LABELS else ""
    plural = "s" if values.size > 1 else ""
    return f"{shown}{more} ({values.size} label{plural})"
