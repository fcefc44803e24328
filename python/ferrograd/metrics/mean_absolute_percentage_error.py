"""The mean absolute percentage error as a metric, averaged over samples."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric


class MeanAbsolutePercentageError(
    Metric, registered_as="mean_absolute_percentage_error", aliases=("mape",)
):
    """The mean absolute percentage error: each sample's
    ``100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)), axis=-1)``, averaged over
    samples, as Keras's metric.

    Args:
        name: The name shown in logs. Defaults to ``"mean_absolute_percentage_error"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Examples:
        >>> m = fg.metrics.MeanAbsolutePercentageError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> round(m.result())
        250000000
    """

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__({"name": "mean_absolute_percentage_error"}, name)
