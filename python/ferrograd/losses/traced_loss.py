"""Losses written in Python run by the Rust loops: a Python loss (a ``LossFunctionWrapper``
around a function, or a ``Loss`` subclass that defines ``call``) is traced into a graph for the
model's target and prediction shapes (see ``ferrograd.tracing``) and becomes a ``_core.Loss``."""

from __future__ import annotations

from typing import Any

from ferrograd import _core


def is_python_loss(loss: Any) -> bool:
    """Whether ``loss`` is written in Python (a wrapped function, or a ``Loss`` subclass that
    defines ``call``) rather than a built-in loss computed by a Rust kernel.

    Args:
        loss: a loss.

    Examples:
        >>> is_python_loss(fg.losses.MeanSquaredError())
        False
    """
    return getattr(loss, "_core", None) is None and callable(getattr(loss, "call", None))


def core_loss(loss: Any, y_shape, y_pred_shape, dtype: str):
    """The ``_core.Loss`` the Rust loops run for ``loss``: a built-in's own, or a Python loss
    traced for targets of ``y_shape`` and predictions of ``y_pred_shape`` (batch axis first).

    Args:
        loss: a built-in or Python loss.
        y_shape: the targets' shape.
        y_pred_shape: the predictions' shape.
        dtype: the model's dtype.

    Returns:
        A ``_core.Loss``.

    Raises:
        TracingError: the loss cannot be traced.

    Examples:
        >>> loss = fg.losses.LossFunctionWrapper(lambda t, p: fg.ops.square(p - t))
        >>> core_loss(loss, (None, 1), (None, 1), "float32").name
        'traced_loss'
    """
    from ferrograd import tracing

    if not is_python_loss(loss):
        return loss._core
    y_shape = (None, *tuple(y_shape)[1:])
    y_pred_shape = (None, *tuple(y_pred_shape)[1:])
    cache = loss.__dict__.setdefault("_traced", {})
    key = (y_shape, y_pred_shape, dtype)
    if key not in cache:
        traced = tracing.trace_function(
            lambda xs, training: loss.call(xs[0], xs[1]),
            [y_shape, y_pred_shape],
            [dtype, dtype],
            dtype,
            dict,
            f"loss {getattr(loss, 'name', type(loss).__name__)!r}",
        )
        cache[key] = _core.Loss.traced(traced.graph)
    return cache[key]
