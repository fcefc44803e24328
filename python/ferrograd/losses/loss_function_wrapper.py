"""``LossFunctionWrapper``: a loss written in Python, a function ``(y_true, y_pred)`` returning
the loss of each sample, as Keras wraps the functions given to ``compile(loss=...)``. ``fit``
traces it into a graph (see ``ferrograd.tracing``) that the Rust loop runs; called directly, it
runs in Python on tensors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ferrograd import _core
from ferrograd._core import Tensor


class LossFunctionWrapper:
    """A loss function written in Python, usable in ``compile(loss=...)``.

    Args:
        fn: takes ``(y_true, y_pred)`` and returns the loss of each sample (or any tensor;
            its mean is the batch's loss), computed with ``ferrograd.ops``.
        name: the loss's name (default the function's name).
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``, for direct calls.

    Examples:
        >>> def mean_fourth(y_true, y_pred):
        ...     return fg.ops.mean(fg.ops.square(fg.ops.square(y_pred - y_true)), axis=-1)
        >>> loss = fg.losses.LossFunctionWrapper(mean_fourth)
        >>> float(loss(np.zeros((2, 1)), np.ones((2, 1))))
        1.0
    """

    def __init__(self, fn: Callable, name: str | None = None, reduction="sum_over_batch_size"):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper takes a function, received {fn!r}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "loss")
        self.reduction = reduction
        self._traced: dict = {}

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """The loss of each sample.

        Args:
            y_true: the targets.
            y_pred: the predictions.

        Returns:
            A tensor.

        Examples:
            >>> loss = fg.losses.LossFunctionWrapper(lambda t, p: fg.ops.abs(p - t))
            >>> loss.call(np.zeros(2), np.ones(2)).tolist()
            [1.0, 1.0]
        """
        return self.fn(y_true, y_pred)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The loss reduced as ``reduction`` says (weighted by ``sample_weight``, if given)."""
        values = self.call(_as_tensor(y_true, y_pred), _as_tensor(y_pred, y_pred))
        if sample_weight is not None:
            values = values * _as_tensor(sample_weight, values)
        if self.reduction == "none":
            return values
        total = values.sum()
        if self.reduction == "sum":
            return total
        return total / max(1, values.size)

    def get_config(self) -> dict:
        """The name and reduction (the function itself is found through ``custom_objects``)."""
        return {"name": self.name, "reduction": self.reduction}

    def __repr__(self) -> str:
        return f"LossFunctionWrapper({self.name})"


def _as_tensor(value: Any, like: Any) -> Tensor:
    import numpy as np

    if isinstance(value, Tensor):
        return value
    dtype = str(like.dtype) if isinstance(like, Tensor) else None
    return _core.tensor(np.asarray(value), dtype=dtype)


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
