"""The mean absolute error as a metric, averaged over samples."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric


class MeanAbsoluteError(Metric, registered_as="mean_absolute_error", aliases=("mae",)):
    """The mean absolute error: each sample's ``mean(abs(y_true - y_pred), axis=-1)``,
    averaged over samples.

    Args:
        name: The name shown in logs. Defaults to ``"mean_absolute_error"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.MeanAbsoluteError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> m.result()
    0.25
    """

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__({"name": "mean_absolute_error"}, name)
