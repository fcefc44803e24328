"""The mean squared logarithmic error as a metric, averaged over samples."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric


class MeanSquaredLogarithmicError(
    Metric, registered_as="mean_squared_logarithmic_error", aliases=("msle",)
):
    """The mean squared logarithmic error: each sample's
    ``mean(square(log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1)), axis=-1)``,
    averaged over samples, as Keras's metric.

    Args:
        name: The name shown in logs. Defaults to ``"mean_squared_logarithmic_error"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Examples:
        >>> m = fg.metrics.MeanSquaredLogarithmicError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> round(m.result(), 6)
        0.120113
    """

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__({"name": "mean_squared_logarithmic_error"}, name)
