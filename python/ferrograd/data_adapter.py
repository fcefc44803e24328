"""One batch pipeline for ``fit``, ``evaluate``, ``predict`` and validation data: what users
pass (arrays, memory maps, Tensors, or an iterable of batches) turned into what the Rust loops
read, with the shapes a model is built from and the number of steps the progress bar shows.

``prepare`` is called once per ``fit``/``evaluate``/``predict`` call, never per batch.

Examples:
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

    Examples:
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
    #: Whether ``x`` and ``y`` are lists of arrays, one per model input and output.
    columns: bool = False

    @property
    def is_stream(self) -> bool:
        """Whether ``x`` is an iterable of batches rather than rows."""
        return not self.columns and not isinstance(self.x, np.ndarray)

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

    Examples:
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


# --- several inputs or outputs -------------------------------------------------------------


def _ordered(value, names: list, what: str) -> list:
    """``value`` as a list in the order of ``names``: a dict by name, a list or tuple in order,
    or (one name) a single array."""
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        extra = [k for k in value if k not in names]
        if missing or extra:
            raise ValueError(
                f"{what} given as a dict must have the keys {names}; missing {missing}, "
                f"unexpected {extra}"
            )
        return [value[n] for n in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise ValueError(
                f"{what} must hold {len(names)} arrays ({names}), received {len(value)}"
            )
        return list(value)
    if len(names) == 1:
        if isinstance(value, (list, tuple)) and len(value) == 1 and not np.isscalar(value[0]):
            return [value[0]]
        return [value]
    raise ValueError(
        f"{what} must be a list or a dict of {len(names)} arrays ({names}), received "
        f"{type(value).__name__}"
    )


def _single_or_tuple(values: list):
    return values[0] if len(values) == 1 else tuple(values)


class Restructured:
    """An iterable of batches with each batch's ``x`` and ``y`` put in the model's input and
    output order (from dicts by name, or lists). Each ``iter`` continues the source.

    Args:
        batches: the iterable of ``(x, y)`` batches.
        inputs, outputs: the model's input and output names.

    Examples:
        >>> list(Restructured([({"a": 1, "b": 2}, 3)], ["b", "a"], ["o"]))
        [((2, 1), 3)]
    """

    def __init__(self, batches, inputs: list, outputs: list):
        self.batches, self.inputs, self.outputs = batches, inputs, outputs

    def restructure(self, batch):
        if isinstance(batch, tuple) and len(batch) >= 2:
            x, y = batch[0], batch[1]
        else:
            x, y = (batch[0] if isinstance(batch, tuple) and len(batch) == 1 else batch), None
        x = _single_or_tuple(_ordered(x, self.inputs, "a batch's x"))
        if y is None:
            return (x,)
        return x, _single_or_tuple(_ordered(y, self.outputs, "a batch's y"))

    def __iter__(self):
        return (self.restructure(batch) for batch in self.batches)

    def __len__(self):
        return len(self.batches)


def prepare_columns(
    x,
    y=None,
    *,
    mode: str,
    dtype: str,
    inputs: list,
    outputs: list,
    batch_size: int | None = None,
    steps: int | None = None,
    validation_split: float = 0.0,
    validation_data=None,
) -> PreparedData:
    """``prepare`` for a model with several inputs or outputs: ``x`` one array per input and
    ``y`` one per output (lists in the model's order, or dicts by input/output name), or an
    iterable of ``(x, y)`` batches whose ``x`` and ``y`` are such lists or dicts.

    Args:
        x, y, mode, dtype, batch_size, steps, validation_split, validation_data: as in
            ``prepare``.
        inputs: the model's input names (the keys of a dict ``x``).
        outputs: the model's output names (the keys of a dict ``y``).

    Returns:
        A ``PreparedData`` with ``columns=True`` (``x`` and ``y`` lists of arrays) or, for an
        iterable, ``x`` the restructured batches; ``sample_shape`` is a list of shapes (one per
        input) and ``y_shape`` a list of target shapes.

    Examples:
        >>> data = prepare_columns([np.ones((10, 3)), np.ones((10, 2))], [np.ones(10)],
        ...     mode="evaluate", dtype="float32", inputs=["a", "b"], outputs=["o"],
        ...     batch_size=4)
        >>> data.sample_shape, data.steps
        ([(3,), (2,)], 3)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, received mode={mode!r}")
    if not isinstance(x, dict) and _data.is_batch_iterable(x):
        if y is not None:
            raise ValueError("when x is an iterable of (x, y) batches, y must be None")
        if validation_split:
            raise ValueError("validation_split needs arrays; pass validation_data instead")
        batches = _data.as_batches(x)
        if mode == "validation":
            return PreparedData(Restructured(batches, inputs, outputs), None, None, None, None)
        batches, first = _data.peek(batches)
        wrapped = Restructured(batches, inputs, outputs)
        first = wrapped.restructure(first)
        sample_shape = [np.asarray(a).shape[1:] for a in _ordered(first[0], inputs, "x")]
        y_shape = (
            [np.asarray(a).shape for a in _ordered(first[1], outputs, "y")]
            if len(first) > 1
            else None
        )
        if mode == "predict" and steps is not None:
            wrapped = itertools.islice(iter(wrapped), steps)
        data = PreparedData(
            wrapped, None, sample_shape, y_shape, steps or _data.length_or_none(batches)
        )
        validation = validation_data
    else:
        data, validation = _prepare_columns_arrays(
            x,
            y,
            mode,
            dtype,
            inputs,
            outputs,
            batch_size,
            steps,
            validation_split if validation_data is None else 0.0,
        )
        if validation_data is not None:
            validation = validation_data
    if validation is None:
        return data
    if isinstance(validation, PreparedData):
        prepared = validation
    elif not isinstance(validation, dict) and _data.is_batch_iterable(validation):
        prepared = prepare_columns(
            validation, mode="validation", dtype=dtype, inputs=inputs, outputs=outputs
        )
    else:
        if not isinstance(validation, (tuple, list)) or len(validation) < 2:
            raise ValueError(
                "validation_data must be (x_val, y_val) or an iterable of batches, received "
                f"{type(validation).__name__}"
            )
        prepared = prepare_columns(
            validation[0],
            validation[1],
            mode="validation",
            dtype=dtype,
            inputs=inputs,
            outputs=outputs,
        )
    return PreparedData(
        data.x, data.y, data.sample_shape, data.y_shape, data.steps, prepared, data.columns
    )


def _prepare_columns_arrays(
    x, y, mode, dtype, inputs, outputs, batch_size, steps, validation_split
):
    if x is None:
        raise ValueError(f"{mode}() needs x")
    label = "validation " if mode == "validation" else ""
    xs = [
        _data.as_rows(a, dtype, f"{label}x[{n!r}]")
        for a, n in zip(_ordered(x, inputs, "x"), inputs, strict=True)
    ]
    if mode == "predict":
        return PreparedData(
            xs,
            None,
            [a.shape[1:] for a in xs],
            None,
            math.ceil(len(xs[0]) / batch_size),
            columns=True,
        ), None
    if y is None:
        raise ValueError(f"{mode}() needs x and y (or x as an iterable of (x, y) batches)")
    ys = [
        _data.as_rows(a, dtype, f"{label}y[{n!r}]")
        for a, n in zip(_ordered(y, outputs, "y"), outputs, strict=True)
    ]
    lengths = {len(a) for a in [*xs, *ys]}
    if len(lengths) != 1:
        raise ValueError(
            "every input and target array must have the same number of samples, received "
            f"x: {[len(a) for a in xs]}, y: {[len(a) for a in ys]}"
        )
    if len(xs[0]) == 0:
        raise ValueError(f"{mode}() received empty arrays (0 samples)")
    for arrays, what in ((xs, "x"), (ys, "y")):
        for a in arrays:
            _data.check_finite(a, f"{label}{what}")
    validation = None
    if mode == "fit" and validation_split:
        pairs = [_data.split_validation(a, a, validation_split) for a in xs]
        ypairs = [_data.split_validation(a, a, validation_split) for a in ys]
        val_x, val_y = [p[2][0] for p in pairs], [p[2][0] for p in ypairs]
        xs, ys = [p[0] for p in pairs], [p[0] for p in ypairs]
        validation = PreparedData(
            val_x,
            val_y,
            [a.shape[1:] for a in val_x],
            [a.shape for a in val_y],
            None,
            columns=True,
        )
    count = math.ceil(len(xs[0]) / batch_size) if batch_size else None
    if mode == "fit" and steps is not None:
        count = min(count, _data.positive_int(steps, "steps_per_epoch"))
    return PreparedData(
        xs, ys, [a.shape[1:] for a in xs], [a.shape for a in ys], count, columns=True
    ), validation
