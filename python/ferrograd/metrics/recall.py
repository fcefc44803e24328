"""Recall: the fraction of positive labels predicted positive, ``tp / (tp + fn)``."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric
from ferrograd.metrics.threshold import single_threshold


class Recall(Metric, registered_as="recall"):
    """The fraction of positive labels predicted positive: ``tp / (tp + fn)``. A prediction
    is positive when greater than the threshold; a label when non-zero.

    Args:
        thresholds: One threshold in ``[0, 1]`` (a float or a one-element list). Defaults to
            ``0.5``.
        name: The name shown in logs. Defaults to ``"recall"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(m.result(), 4)
    0.6667
    """

    def __init__(self, thresholds: Any = None, name: str = "recall", dtype: Any = None) -> None:
        threshold = single_threshold(thresholds, "recall")
        super().__init__({"name": "recall", "threshold": threshold}, name)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "thresholds": self._params()["threshold"]}

    @classmethod
    def _from_core_params(cls, params: dict[str, Any], name: str) -> Metric:
        return cls(thresholds=params["threshold"], name=name)
