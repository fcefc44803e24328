"""`split_dataset`: arrays split into a left part and a right part (train and test)."""

from __future__ import annotations

import numpy as np


def split_dataset(dataset, left_size=None, right_size=None, shuffle: bool = False, seed=None):
    """Splits arrays into a left and a right part, as ``keras.utils.split_dataset`` does.

    Keras returns ``tf.data`` datasets; ferrograd returns numpy arrays in the structure it was
    given, which ``fit`` and ``evaluate`` take directly.

    Args:
        dataset: an array, or a tuple or list of arrays with the same number of rows (for
            example ``(x, y)``).
        left_size: a float in (0, 1), the fraction of rows in the left part, or an int, its
            number of rows. Default: the complement of ``right_size``.
        right_size: the same for the right part. Default: the complement of ``left_size``.
        shuffle: whether to shuffle the rows before splitting (default False).
        seed: the seed of that shuffle (default: numpy's global generator).

    Returns:
        ``(left, right)``: each an array, or a tuple of arrays when ``dataset`` is a tuple or
        a list.

    Raises:
        ValueError: both sizes are None, a size is out of range, the sizes add up to more rows
            than there are, or the arrays' lengths differ.

    Examples:
        >>> import numpy as np
        >>> import ferrograd as fg
        >>> x, y = np.arange(10).reshape(5, 2), np.arange(5)
        >>> (x_left, y_left), (x_right, y_right) = fg.utils.split_dataset((x, y), left_size=0.8)
        >>> x_left.shape, y_right.tolist()
        ((4, 2), [4])
    """
    structured = isinstance(dataset, (tuple, list))
    arrays = [np.asarray(a) for a in (dataset if structured else [dataset])]
    if not arrays or any(a.ndim == 0 for a in arrays):
        raise ValueError("split_dataset needs arrays with a first (row) dimension")
    total = len(arrays[0])
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"the arrays must have the same number of rows, received {lengths}")
    left = _rows(left_size, total, "left_size")
    right = _rows(right_size, total, "right_size")
    if left is None and right is None:
        raise ValueError("split_dataset needs left_size or right_size (or both)")
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(
            f"left_size ({left} rows) and right_size ({right} rows) add up to more than the "
            f"{total} rows of the dataset"
        )
    order = np.arange(total)
    if shuffle and seed is not None:
        np.random.default_rng(seed).shuffle(order)
    elif shuffle:
        np.random.shuffle(order)
    left_parts = tuple(a[order[:left]] for a in arrays)
    right_parts = tuple(a[order[left : left + right]] for a in arrays)
    if structured:
        return left_parts, right_parts
    return left_parts[0], right_parts[0]


def _rows(size, total: int, name: str):
    """A size given as a fraction or a count, as a count of rows; None stays None."""
    if size is None:
        return None
    if isinstance(size, bool):
        raise TypeError(f"{name} must be a float, an int or None, received {size!r}")
    if isinstance(size, (float, np.floating)):
        if not 0 < size < 1:
            raise ValueError(f"{name} as a fraction must be in (0, 1), received {name}={size}")
        return int(round(size * total))
    if isinstance(size, (int, np.integer)):
        if not 0 < size <= total:
            raise ValueError(
                f"{name} as a number of rows must be from 1 to {total}, received {name}={size}"
            )
        return int(size)
    raise TypeError(f"{name} must be a float, an int or None, received {size!r}")
