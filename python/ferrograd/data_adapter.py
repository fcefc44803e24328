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
    #: The per-sample weights of the loss: one array per model output (None: unweighted).
    sample_weight: list | None = None

    @property
    def is_stream(self) -> bool:
        """Whether ``x`` is an iterable of batches rather than rows."""
        return not self.columns and not isinstance(self.x, np.ndarray)

    def as_validation(self) -> tuple:
        """The validation source ``_core.fit`` reads: ``(batches,)``, ``(x_val, y_val)`` or
        ``(x_val, y_val, sample_weights)``."""
        if self.is_stream:
            return (self.x,)
        if self.sample_weight is not None:
            return (self.x, self.y, self.sample_weight)
        return (self.x, self.y)


def sample_weight_columns(
    sample_weight, outputs: list, samples: int, dtype: str, what: str = "sample_weight"
) -> list | None:
    """Keras's ``sample_weight`` as one array of weights per model output, checked.

    A single array serves every output (as in Keras 3); with several outputs, a list (one
    entry per output, in order) or a dict by output name gives each its own (an output left out
    of the dict, or given None, weighs every sample 1).

    Args:
        sample_weight: None, an array of shape ``(samples,)`` (or ``(samples, timesteps)`` for
            a sequence loss), or a list or dict of them by output.
        outputs: the model's output names.
        samples: the number of samples the weights must match.
        dtype: the model's dtype.
        what: how errors name it.

    Returns:
        None when ``sample_weight`` is None, else a list of ``len(outputs)`` arrays.

    Raises:
        ValueError: a wrong count or shape, an unknown output name, non-finite weights.

    Examples:
        >>> [w.shape for w in sample_weight_columns(np.ones(4), ["a", "b"], 4, "float32")]
        [(4,), (4,)]
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, dict):
        unknown = [key for key in sample_weight if key not in outputs]
        if unknown:
            raise ValueError(
                f"{what} names outputs {unknown} the model does not have; its outputs are {outputs}"
            )
        entries = [sample_weight.get(name) for name in outputs]
    elif (
        isinstance(sample_weight, (list, tuple))
        and sample_weight
        and not all(np.isscalar(entry) for entry in sample_weight)
    ):
        if len(sample_weight) != len(outputs):
            raise ValueError(
                f"{what} given as a list of arrays must have one per model output "
                f"({len(outputs)}: {outputs}), received {len(sample_weight)}"
            )
        entries = list(sample_weight)
    else:
        entries = [sample_weight] * len(outputs)
    columns = []
    for name, entry in zip(outputs, entries, strict=True):
        label = what if len(outputs) == 1 else f"{what}[{name!r}]"
        if entry is None:
            columns.append(np.ones(samples, dtype=dtype))
            continue
        array = _data.as_rows(entry, dtype, label)
        if len(array) != samples:
            raise ValueError(
                f"{label} must hold one weight per sample: expected shape ({samples},), "
                f"received shape {array.shape}"
            )
        _data.check_finite(array, label)
        columns.append(array)
    return columns


def class_weight_columns(class_weight, y, classes: int | None, dtype: str) -> list:
    """Keras's ``class_weight`` as the equivalent per-sample weights (one array, for the one
    output): each sample weighs its class's entry (1 for a class the dict leaves out). The
    class of a one-hot row is its largest entry's index; of a label, the rounded label.

    Args:
        class_weight: a dict from class index to weight.
        y: the targets, labels of shape ``(n,)``/``(n, 1)`` or one-hot rows ``(n, classes)``.
        classes: the number of classes the model predicts (None when unknown).
        dtype: the model's dtype.

    Returns:
        ``[weights]``, an array of shape ``(n,)``.

    Raises:
        ValueError: class_weight is not a dict of integer classes in range and finite weights.

    Examples:
        >>> class_weight_columns({0: 1.0, 1: 3.0}, np.array([0, 1, 1]), 2, "float32")
        [array([1., 3., 3.], dtype=float32)]
    """
    if not isinstance(class_weight, dict):
        raise ValueError(
            "class_weight must be a dict from class index to weight, received "
            f"{type(class_weight).__name__}"
        )
    table = {}
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            raise ValueError(f"class_weight keys must be integer class indices, received {key!r}")
        if key < 0 or (classes is not None and key >= classes):
            limit = "" if classes is None else f" [0, {classes})"
            raise ValueError(
                f"class_weight has the class {key}, out of the model's class range{limit} "
                f"(targets of shape {np.shape(y)})"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"class_weight[{key}] must be a number, received {value!r}")
        if not np.isfinite(value):
            raise ValueError(f"class_weight[{key}] must be finite, received {value!r}")
        table[int(key)] = float(value)
    labels = np.asarray(y)
    if labels.ndim > 1:
        labels = np.argmax(labels, axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
    labels = np.round(labels).astype(np.int64).reshape(len(labels), -1)[:, 0]
    weights = np.ones(len(labels), dtype=dtype)
    for key, value in table.items():
        weights[labels == key] = value
    return [weights]


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
    sample_weight=None,
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
        validation_data: ``fit`` only: ``(x_val, y_val)``, ``(x_val, y_val, sample_weight)``
            or an iterable of batches.
        sample_weight: per-sample weights of the loss, for arrays (see
            ``sample_weight_columns``); an iterable gives them as ``(x, y, weights)`` batches.

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
        _no_weights_for_iterables(sample_weight)
        data = _prepare_stream(x, y, mode, steps, validation_split)
        validation = validation_data
    else:
        # As in Keras, validation_data overrides validation_split (which is then not read).
        split = validation_split if validation_data is None else 0.0
        data, validation = _prepare_arrays(
            x, y, mode, dtype, batch_size, steps, split, sample_weight
        )
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
        validation
        if isinstance(validation, PreparedData)
        else _prepare_validation(validation, dtype),
        sample_weight=data.sample_weight,
    )


def _no_weights_for_iterables(sample_weight) -> None:
    if sample_weight is not None:
        raise ValueError(
            "sample_weight is for arrays; when x is an iterable of batches, give the weights "
            "in its batches as (x, y, sample_weight)"
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


def _prepare_arrays(
    x, y, mode: str, dtype: str, batch_size, steps, validation_split, sample_weight=None
):
    """The rows of ``x`` (and ``y``, and the sample weights), and the part
    ``validation_split`` holds out (or None)."""
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
        weights = sample_weight_columns(
            sample_weight, ["output"], len(x), dtype, "validation sample_weight"
        )
        return PreparedData(
            x, y, tuple(x.shape[1:]), tuple(y.shape), None, sample_weight=weights
        ), None
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
    weights = sample_weight_columns(sample_weight, ["output"], len(x), dtype)
    validation = None
    if mode == "fit":
        x, y, held_out = _data.split_validation(x, y, validation_split)
        if held_out is not None:
            # As in Keras, the weights are split with the samples.
            val_weights = None if weights is None else [w[len(x) :] for w in weights]
            weights = None if weights is None else [w[: len(x)] for w in weights]
            val_x, val_y = held_out
            validation = PreparedData(
                val_x,
                val_y,
                tuple(val_x.shape[1:]),
                tuple(val_y.shape),
                None,
                sample_weight=val_weights,
            )
    count = math.ceil(len(x) / batch_size)
    if mode == "fit" and steps is not None:
        count = min(count, _data.positive_int(steps, "steps_per_epoch"))
    return PreparedData(
        x, y, tuple(x.shape[1:]), tuple(y.shape), count, sample_weight=weights
    ), validation


def _prepare_validation(validation_data, dtype: str) -> PreparedData:
    if _data.is_batch_iterable(validation_data):
        return prepare(validation_data, mode="validation", dtype=dtype)
    x, y, weights = _validation_parts(validation_data)
    data, _ = _prepare_arrays(x, y, "validation", dtype, None, None, 0.0, weights)
    return data


def _validation_parts(validation_data) -> tuple:
    """``(x_val, y_val, sample_weight or None)`` of a ``validation_data`` tuple."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "validation_data must be (x_val, y_val), (x_val, y_val, val_sample_weight) or an "
            f"iterable of batches, received {type(validation_data).__name__}"
            + (
                f" of length {len(validation_data)}"
                if isinstance(validation_data, (tuple, list))
                else ""
            )
        )
    weights = validation_data[2] if len(validation_data) == 3 else None
    return validation_data[0], validation_data[1], weights


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
    """An iterable of batches with each batch's ``x`` and ``y`` (and sample weights, when a
    batch has them) put in the model's input and output order (from dicts by name, or lists).
    Each ``iter`` continues the source.

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
        y = _single_or_tuple(_ordered(y, self.outputs, "a batch's y"))
        weights = batch[2] if isinstance(batch, tuple) and len(batch) >= 3 else None
        if weights is None:
            return x, y
        if isinstance(weights, dict):
            weights = _single_or_tuple(_ordered(weights, self.outputs, "a batch's sample_weight"))
        return x, y, weights

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
    sample_weight=None,
) -> PreparedData:
    """``prepare`` for a model with several inputs or outputs: ``x`` one array per input and
    ``y`` one per output (lists in the model's order, or dicts by input/output name), or an
    iterable of ``(x, y)`` batches whose ``x`` and ``y`` are such lists or dicts.

    Args:
        x, y, mode, dtype, batch_size, steps, validation_split, validation_data,
            sample_weight: as in ``prepare`` (``sample_weight`` also a list or dict by output).
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
        _no_weights_for_iterables(sample_weight)
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
            sample_weight,
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
        val_x, val_y, val_weights = _validation_parts(validation)
        prepared = prepare_columns(
            val_x,
            val_y,
            mode="validation",
            dtype=dtype,
            inputs=inputs,
            outputs=outputs,
            sample_weight=val_weights,
        )
    return PreparedData(
        data.x,
        data.y,
        data.sample_shape,
        data.y_shape,
        data.steps,
        prepared,
        data.columns,
        data.sample_weight,
    )


def _prepare_columns_arrays(
    x, y, mode, dtype, inputs, outputs, batch_size, steps, validation_split, sample_weight=None
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
    weights = sample_weight_columns(
        sample_weight, outputs, len(xs[0]), dtype, f"{label}sample_weight"
    )
    validation = None
    if mode == "fit" and validation_split:
        pairs = [_data.split_validation(a, a, validation_split) for a in xs]
        ypairs = [_data.split_validation(a, a, validation_split) for a in ys]
        val_x, val_y = [p[2][0] for p in pairs], [p[2][0] for p in ypairs]
        xs, ys = [p[0] for p in pairs], [p[0] for p in ypairs]
        val_weights = None
        if weights is not None:
            # As in Keras, the weights are split with the samples.
            val_weights = [w[len(xs[0]) :] for w in weights]
            weights = [w[: len(xs[0])] for w in weights]
        validation = PreparedData(
            val_x,
            val_y,
            [a.shape[1:] for a in val_x],
            [a.shape for a in val_y],
            None,
            columns=True,
            sample_weight=val_weights,
        )
    count = math.ceil(len(xs[0]) / batch_size) if batch_size else None
    if mode == "fit" and steps is not None:
        count = min(count, _data.positive_int(steps, "steps_per_epoch"))
    return PreparedData(
        xs,
        ys,
        [a.shape[1:] for a in xs],
        [a.shape for a in ys],
        count,
        columns=True,
        sample_weight=weights,
    ), validation
