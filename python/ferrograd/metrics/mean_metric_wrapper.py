"""``MeanMetricWrapper``: a metric function ``fn(y_true, y_pred)`` made a metric, the mean of
its per-sample values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ferrograd.metrics.mean import Mean


class MeanMetricWrapper(Mean):
    """The (weighted) mean of the values of ``fn(y_true, y_pred, **kwargs)`` over every batch
    since the last reset, as Keras's ``keras.metrics.MeanMetricWrapper``; what a metric
    function given to ``compile(metrics=[...])`` becomes. It runs in Python once per batch.

    Args:
        fn: a function of ``(y_true, y_pred)`` giving one value per sample (or a scalar); it
            receives numpy arrays (or tensors in a ``train_step``) and may use ``fg.ops``.
        name: The name shown in logs (default: ``fn``'s name).
        dtype: The dtype of the state variables.
        **kwargs: passed to ``fn`` at each call.

    Examples:
        >>> def within_half(y_true, y_pred):
        ...     return (np.abs(np.asarray(y_true) - np.asarray(y_pred)) < 0.5).mean(axis=-1)
        >>> m = fg.metrics.MeanMetricWrapper(within_half)
        >>> m.update_state([[1.0], [0.0]], [[0.9], [0.7]])
        >>> m.name, float(m.result())
        ('within_half', 0.5)
    """

    def __init__(
        self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None, **kwargs: Any
    ) -> None:
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper: fn must be callable, received fn={fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Adds the values of ``fn`` on one batch.

        Args:
            y_true: the targets.
            y_pred: the predictions.
            sample_weight: None, or weights (one per sample) of the values.

        Examples:
            >>> m = fg.metrics.MeanMetricWrapper(fg.losses.mean_absolute_error, name="mae")
            >>> m.update_state([[0.0], [1.0]], [[0.5], [1.0]], sample_weight=[1.0, 3.0])
            >>> float(m.result())  # (0.5 * 1 + 0 * 3) / 4
            0.125
        """
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (the function by name).

        Examples:
            >>> fg.metrics.MeanMetricWrapper(fg.losses.mae, name="mae").get_config()["fn"]
            'mean_absolute_error'
        """
        return {
            "name": self.name,
            "dtype": self.dtype,
            "fn": getattr(self._fn, "__name__", repr(self._fn)),
        }
