"""The pieces ``ferrograd.data_adapter.prepare`` is made of: converting and checking arrays,
and looking at streams of batches.

Arrays are converted once per call to C-contiguous arrays of the model's dtype (no copy when
they already are); memory maps are left as they are and read batch by batch; iterables of
``(x, y)`` batches (generators, ``PyDataset``-like objects) are passed through.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np

from ferrograd._core import Tensor
from ferrograd.utils.py_dataset import PyDataset


def is_batch_iterable(x) -> bool:
    """Whether ``x`` is a generator, an iterator or a dataset object yielding batches (not an
    array or list).

    Args:
        x: what the user passed as ``x``.

    Examples:
        >>> is_batch_iterable(np.ones(3)), is_batch_iterable(iter([]))
        (False, True)
    """
    if isinstance(x, (np.ndarray, Tensor, list, tuple)):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__getitem__") and hasattr(x, "__len__")


class SequenceBatches:
    """Iterates a Keras ``PyDataset``-like object (``__len__`` and ``__getitem__``) once per
    epoch, calling its ``on_epoch_end`` after each pass.

    Args:
        dataset: the object; ``dataset[i]`` is batch ``i``.

    Examples:
        >>> len(SequenceBatches([(np.ones((2, 3)), np.ones(2))]))
        1
    """

    def __init__(self, dataset):
        self.dataset = dataset

    def __iter__(self):
        for index in range(len(self.dataset)):
            yield self.dataset[index]
        on_epoch_end = getattr(self.dataset, "on_epoch_end", None)
        if callable(on_epoch_end):
            on_epoch_end()

    def __len__(self):
        return len(self.dataset)


def as_batches(x):
    """``x`` as an iterable of batches: a ``PyDataset``-like object wrapped in
    ``SequenceBatches``, a generator or iterator as it is.

    Args:
        x: an object ``is_batch_iterable`` accepts.

    Examples:
        >>> batches = as_batches(iter([(np.ones((2, 3)), np.ones(2))]))
    """
    if isinstance(x, PyDataset):
        # Its own epoch pass computes batches in its worker threads.
        return x
    if hasattr(x, "__getitem__") and hasattr(x, "__len__") and not hasattr(x, "__next__"):
        return SequenceBatches(x)
    return x


def as_rows(values, dtype: str, what: str) -> np.ndarray:
    """``values`` as a C-contiguous numeric array; memory maps of any numeric dtype are kept
    (and converted batch by batch), everything else converted to ``dtype`` once.

    Args:
        values: an array-like, a Tensor or a memory map.
        dtype: the model's dtype.
        what: how errors name it (``"x"``, ``"validation y"``).

    Raises:
        TypeError: the values are not real numbers.
        ValueError: a scalar (no batch axis).

    Examples:
        >>> as_rows([[1, 2]], "float32", "x").dtype
        dtype('float32')
    """
    if isinstance(values, Tensor):
        values = values.numpy()
    if isinstance(values, np.memmap) and _readable_in_place(values):
        _check_numeric(values, what)
        array = values
    else:
        array = np.asarray(values)
        _check_numeric(array, what)
        # `require` copies what is misaligned too (`ascontiguousarray` keeps a contiguous but
        # misaligned array as it is), and converts big-endian values to the machine's order.
        array = np.require(array, dtype=dtype, requirements=["C_CONTIGUOUS", "ALIGNED"])
    if array.ndim == 0:
        raise ValueError(f"{what} must have a batch dimension, received a scalar")
    return array


# The element types the core reads in place from a memory map, batch by batch.
_READABLE_IN_PLACE = "?" + "".join(
    np.dtype(t).char
    for t in (
        "int8",
        "uint8",
        "int16",
        "uint16",
        "int32",
        "uint32",
        "int64",
        "uint64",
        "float32",
        "float64",
    )
)


def _readable_in_place(array: np.ndarray) -> bool:
    """Whether the core can read the array's memory as it lies: C order, aligned, in the
    machine's byte order and of a type it converts (a float16 or big-endian memory map is
    converted once instead)."""
    return (
        array.flags.c_contiguous
        and array.flags.aligned
        and array.dtype.isnative
        and array.dtype.char in _READABLE_IN_PLACE
    )


def _check_numeric(array: np.ndarray, what: str) -> None:
    kind = array.dtype.kind
    if kind == "c":
        raise TypeError(
            f"{what} holds complex values (dtype {array.dtype}); take the real part first"
        )
    if kind not in "biuf":
        raise TypeError(f"{what} must hold numbers, received an array of dtype {array.dtype}")


def check_finite(array: np.ndarray, what: str) -> None:
    """Rejects NaN and infinities (for in-memory float arrays; memory maps are not scanned).

    Args:
        array: the rows to scan.
        what: how the error names them.

    Examples:
        >>> check_finite(np.ones(3), "x")
    """
    if isinstance(array, np.memmap) or array.dtype.kind != "f":
        return
    # One pass without a temporary: the sum is finite when every value is (barring overflow of
    # huge values, which the exact check below then sorts out).
    if np.isfinite(array.sum(dtype=np.float64)):
        return
    finite = np.isfinite(array)
    if not finite.all():
        index = np.unravel_index(int(np.argmin(finite)), array.shape)
        raise ValueError(
            f"{what} contains a non-finite value ({array[index]!r} at index "
            f"{tuple(map(int, index))}); "
            "clean or impute the data first"
        )


def check_lengths(x: np.ndarray, y: np.ndarray) -> None:
    """Rejects samples and targets of different counts.

    Args:
        x, y: the rows of samples and of targets.

    Examples:
        >>> check_lengths(np.ones((4, 2)), np.ones(4))
    """
    if len(x) != len(y):
        raise ValueError(
            f"x and y must have the same number of samples: x has {len(x)} (shape {x.shape}), "
            f"y has {len(y)} (shape {y.shape})"
        )


def split_validation(x, y, validation_split: float):
    """Keras's rule: the last ``validation_split`` fraction, taken before any shuffling.

    Args:
        x, y: the rows of samples and targets.
        validation_split: the fraction to hold out, in [0, 1).

    Returns:
        ``(x_train, y_train, (x_val, y_val))``, or ``(x, y, None)`` for a split of 0.

    Examples:
        >>> x_train, y_train, (x_val, y_val) = split_validation(np.ones(10), np.ones(10), 0.2)
        >>> len(x_train), len(x_val)
        (8, 2)
    """
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(
            f"validation_split must be in [0, 1), received validation_split={validation_split!r}"
        )
    if validation_split == 0:
        return x, y, None
    split_at = int(len(x) * (1.0 - validation_split))
    if split_at == 0 or split_at == len(x):
        raise ValueError(
            f"validation_split={validation_split} of {len(x)} samples leaves "
            f"{split_at} for training and {len(x) - split_at} for validation; "
            "both must be non-empty"
        )
    return x[:split_at], y[:split_at], (x[split_at:], y[split_at:])


def positive_int(value, name: str, default: int | None = None) -> int:
    """``value`` as a positive int, or ``default`` when it is None and a default is given.

    Args:
        value: the argument.
        name: its name, for the error.
        default: what None means, or None when None is not allowed.

    Examples:
        >>> positive_int(None, "batch_size", default=32), positive_int(8, "batch_size")
        (32, 8)
    """
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, received {name}={value!r}")
    if value > sys.maxsize:
        raise ValueError(f"{name} must be at most {sys.maxsize}, received {name}={value!r}")
    return int(value)


def optional_positive_int(value, name: str) -> int | None:
    """``value`` as a positive int, or None when it is None (an argument with no default).

    Args:
        value: the argument.
        name: its name, for the error.

    Examples:
        >>> optional_positive_int(None, "steps"), optional_positive_int(3, "steps")
        (None, 3)
    """
    return None if value is None else positive_int(value, name)


def non_negative_int(value, name: str) -> int:
    """``value`` as an int of at least 0 (an epoch index).

    Args:
        value: the argument.
        name: its name, for the error.

    Examples:
        >>> non_negative_int(0, "initial_epoch")
        0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, received {name}={value!r}")
    if value > sys.maxsize:
        raise ValueError(f"{name} must be at most {sys.maxsize}, received {name}={value!r}")
    return int(value)


def peek(batches):
    """The first batch of an iterable, and an iterable that still yields it.

    Args:
        batches: an iterable of batches (a generator is consumed by one batch and chained back).

    Raises:
        ValueError: the iterable yields nothing.

    Examples:
        >>> batches, first = peek(iter([1, 2]))
        >>> first, list(batches)
        (1, [1, 2])
    """
    iterator = iter(batches)
    try:
        first = next(iterator)
    except StopIteration:
        raise ValueError("the dataset yielded no batches") from None
    if iterator is batches:  # a generator or iterator: put the first batch back
        return itertools.chain([first], iterator), first
    return batches, first


def batch_shapes(batch) -> tuple[tuple, tuple]:
    """The shape of one sample and the shape of the targets in ``batch``.

    Args:
        batch: ``(x, y)``, ``(x,)`` or ``x``.

    Returns:
        ``(sample_shape, y_shape)``; ``y_shape`` is ``(None,)`` without targets.

    Examples:
        >>> batch_shapes((np.ones((8, 3)), np.ones(8)))
        ((3,), (8,))
    """
    if isinstance(batch, (tuple, list)):
        x = np.asarray(batch[0])
        y = np.asarray(batch[1]) if len(batch) > 1 else None
    else:
        x, y = np.asarray(batch), None
    return x.shape[1:], (y.shape if y is not None else (None,))


def length_or_none(batches) -> int | None:
    """``len(batches)``, or None for an iterable without a length (a generator).

    Args:
        batches: an iterable of batches.

    Examples:
        >>> length_or_none([1, 2]), length_or_none(iter([1, 2]))
        (2, None)
    """
    try:
        return len(batches)
    except TypeError:
        return None
