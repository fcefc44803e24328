"""One batch pipeline for ``fit``, ``evaluate``, ``predict`` and validation data: what users
pass (arrays, memory maps, Tensors, or an iterable of batches) turned into what the Rust loops
read, with the shapes a model is built from and the number of steps the progress bar shows.

``prepare`` is called once per ``fit``/``evaluate``/``predict`` call, never per batch.

Example:
    >>> data = prepare(np.ones((100, 20)), np.ones(100), mode="fit", dtype="float32",
    ...                batch_size=32, validation_split=0.2)
    >>> data.sample_shape, data.steps, len(data.validation.x)
    ((20,), 3, 20)
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ferrograd import _data

#: The calls ``prepare`` serves; "validation" is the validation data of ``fit``.
MODES = ("fit", "evaluate", "predict", "validation")


@dataclass(frozen=True)
class PreparedData:
    """What one loop of the Rust core reads, and what the model needs to know first.

    Args:
        x: C-contiguous rows of samples (or a memory map), or an iterable of batches.
        y: rows of targets; None for an iterable of batches and for ``predict``.
        sample_shape: the shape of one sample, without the batch axis (None for validation
            batches, which are not looked at in advance).
        y_shape: the shape of the targets (of the first batch for an iterable); None for
            ``predict`` arrays and validation batches.
        steps: the number of batches the progress bar counts (None when unknown).
        validation: for ``fit``, the prepared validation data (given, or split off).

    Example:
        >>> data = prepare(np.ones((10, 3)), mode="predict", dtype="float32", batch_size=4)
        >>> data.is_stream, data.steps
        (False, 3)
    """

    x: Any
    y: np.ndarray | None
    sample_shape: tuple | None
    y_shape: tuple | None
    steps: int | None
    validation: PreparedData | None = None

    @property
    def is_stream(self) -> bool:
        """Whether ``x`` is an iterable of batches rather than rows."""
        return not isinstance(self.x, np.ndarray)

    def as_validation(self) -> tuple:
        """The validation source ``_core.fit`` reads: ``(batches,)`` or ``(x_val, y_val)``."""
        return (self.x,) if self.is_stream else (self.x, self.y)


def prepare(
    x,
    y=None,
    *,
    mode: str,
    dtype: str,
    batch_size: int | None = None,
    steps: int | None = None,
    validation_split: float = 0.0,
    validation_data=None,
) -> PreparedData:
    """Turns the data of one ``fit``/``evaluate``/``predict`` call (or ``fit``'s validation
    data) into what the Rust loop reads, checking it on the way.

    Arrays are converted once to C-contiguous rows of ``dtype`` (memory maps are kept and read
    batch by batch); an iterable of batches is looked at once (its first batch gives the
    shapes) and passed on with that batch put back.

    Args:
        x: samples (array-like, memory map or Tensor), or an iterable of ``(x, y)`` batches
            (a generator, an iterator or a ``PyDataset``-like object).
        y: targets for array ``x``; None for an iterable and for ``predict``.
        mode: ``"fit"``, ``"evaluate"``, ``"predict"`` or ``"validation"``; it names the call
            in errors and chooses the checks (``fit`` also rejects non-finite values).
        dtype: the model's dtype, ``"float32"`` or ``"float64"``.
        batch_size: samples per batch, for the number of steps of arrays.
        steps: ``fit``'s ``steps_per_epoch`` or ``evaluate``/``predict``'s ``steps``.
        validation_split: ``fit`` only: the last fraction of the arrays to validate on; it
            needs arrays, and is ignored when ``validation_data`` is given.
        validation_data: ``fit`` only: ``(x_val, y_val)`` or an iterable of batches.

    Returns:
        A ``PreparedData``.

    Raises:
        ValueError: missing, empty, mismatched, non-finite (``fit``) or misplaced data.
        TypeError: values that are not real numbers.

    Example:
        >>> data = prepare(np.ones((10, 3)), np.zeros(10), mode="evaluate", dtype="float32",
        ...                batch_size=4)
        >>> data.sample_shape, data.y_shape, data.steps
        ((3,), (10,), 3)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, received mode={mode!r}")
    if mode != "fit" and (validation_split or validation_data is not None):
        raise ValueError(f"validation data is for mode='fit', received mode={mode!r}")
    if _data.is_batch_iterable(x):
        data = _prepare_stream(x, y, mode, steps, validation_split)
        validation = validation_data
    else:
        # As in Keras, validation_data overrides validation_split (which is then not read).
        split = validation_split if validation_data is None else 0.0
        data, validation = _prepare_arrays(x, y, mode, dtype, batch_size, steps, split)
        if validation_data is not None:
            validation = validation_data
    if validation is None:
        return data
    return PreparedData(
        data.x,
        data.y,
        data.sample_shape,
        data.y_shape,
        data.steps,
        _prepare_validation(validation, dtype),
    )


def _prepare_stream(batches, y, mode: str, steps, validation_split) -> PreparedData:
    if y is not None:
        raise ValueError("when x is an iterable of (x, y) batches, y must be None")
    if validation_split:
        raise ValueError("validation_split needs arrays; pass validation_data instead")
    batches = _data.as_batches(batches)
    if mode == "validation":
        # Read only at the end of each epoch; nothing is asked of it in advance.
        return PreparedData(batches, None, None, None, None)
    batches, first = _data.peek(batches)
    sample_shape, y_shape = _data.batch_shapes(first)
    if mode == "predict" and steps is not None:
        batches = itertools.islice(batches, steps)
    return PreparedData(
        batches, None, tuple(sample_shape), tuple(y_shape), steps or _data.length_or_none(batches)
    )


def _prepare_arrays(x, y, mode: str, dtype: str, batch_size, steps, validation_split):
    """The rows of ``x`` (and ``y``), and the part ``validation_split`` holds out (or None)."""
    if mode == "predict":
        x = _data.as_rows(x, dtype, "x")
        return PreparedData(x, None, tuple(x.shape[1:]), None, math.ceil(len(x) / batch_size)), None
    if mode == "validation":
        x = _data.as_rows(x, dtype, "validation x")
        y = _data.as_rows(y, dtype, "validation y")
        _data.check_lengths(x, y)
        _data.check_finite(x, "validation x")
        _data.check_finite(y, "validation y")
        if len(x) == 0:
            raise ValueError("validation_data is empty (0 samples)")
        return PreparedData(x, y, tuple(x.shape[1:]), tuple(y.shape), None), None
    if x is None or y is None:
        raise ValueError(f"{mode}() needs x and y (or x as an iterable of (x, y) batches)")
    x, y = _data.as_rows(x, dtype, "x"), _data.as_rows(y, dtype, "y")
    _data.check_lengths(x, y)
    if len(x) == 0:
        raise ValueError(f"{mode}() received empty arrays (0 samples)")
    # One rule for training and evaluation: a NaN or infinity in the data is refused (a loss
    # over it would be NaN, or silently dominated by it).
    _data.check_finite(x, "x")
    _data.check_finite(y, "y")
    validation = None
    if mode == "fit":
        x, y, validation = _data.split_validation(x, y, validation_split)
    count = math.ceil(len(x) / batch_size)
    if mode == "fit" and steps is not None:
        count = min(count, _data.positive_int(steps, "steps_per_epoch"))
    return PreparedData(x, y, tuple(x.shape[1:]), tuple(y.shape), count), validation


def _prepare_validation(validation_data, dtype: str) -> PreparedData:
    if _data.is_batch_iterable(validation_data):
        return prepare(validation_data, mode="validation", dtype=dtype)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) < 2:
        raise ValueError(
            "validation_data must be (x_val, y_val) or an iterable of batches, received "
            f"{type(validation_data).__name__}"
        )
    return prepare(validation_data[0], validation_data[1], mode="validation", dtype=dtype)
