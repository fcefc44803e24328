"""Turning what users pass to ``fit``/``evaluate``/``predict`` into what the Rust loops read.

Arrays are converted once per call to C-contiguous arrays of the model's dtype (no copy when
they already are); memory maps are left as they are and read batch by batch; iterables of
``(x, y)`` batches (generators, ``PyDataset``-like objects) are passed through.
"""

from __future__ import annotations

import numpy as np

from ferrograd._core import Tensor


def is_batch_iterable(x) -> bool:
    """A generator, an iterator or a dataset object yielding batches (not an array or list)."""
    if isinstance(x, (np.ndarray, Tensor, list, tuple)):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__getitem__") and hasattr(x, "__len__")


class SequenceBatches:
    """Iterates a Keras ``PyDataset``-like object (``__len__`` and ``__getitem__``) once per
    epoch, calling its ``on_epoch_end`` after each pass."""

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
    if hasattr(x, "__getitem__") and hasattr(x, "__len__") and not hasattr(x, "__next__"):
        return SequenceBatches(x)
    return x


def as_rows(values, dtype: str, what: str) -> np.ndarray:
    """``values`` as a C-contiguous numeric array; memory maps of any numeric dtype are kept
    (and converted batch by batch), everything else converted to ``dtype`` once."""
    if isinstance(values, Tensor):
        values = values.numpy()
    if isinstance(values, np.memmap) and values.flags.c_contiguous and values.flags.aligned:
        _check_numeric(values, what)
        array = values
    else:
        array = np.asarray(values)
        _check_numeric(array, what)
        array = np.ascontiguousarray(array, dtype=dtype)
    if array.ndim == 0:
        raise ValueError(f"{what} must have a batch dimension, received a scalar")
    return array


def _check_numeric(array: np.ndarray, what: str) -> None:
    kind = array.dtype.kind
    if kind == "c":
        raise TypeError(
            f"{what} holds complex values (dtype {array.dtype}); take the real part first"
        )
    if kind not in "biuf":
        raise TypeError(f"{what} must hold numbers, received an array of dtype {array.dtype}")


def check_finite(array: np.ndarray, what: str) -> None:
    """Rejects NaN and infinities (for in-memory float arrays; memory maps are not scanned)."""
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
    if len(x) != len(y):
        raise ValueError(
            f"x and y must have the same number of samples: x has {len(x)} (shape {x.shape}), "
            f"y has {len(y)} (shape {y.shape})"
        )


def split_validation(x, y, validation_split: float):
    """Keras's rule: the last ``validation_split`` fraction, taken before any shuffling."""
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
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, received {name}={value!r}")
    return int(value)
