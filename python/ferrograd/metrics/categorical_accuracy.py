"""Categorical accuracy: how often the arg-max of the predictions is that of one-hot labels."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric


class CategoricalAccuracy(Metric, registered_as="categorical_accuracy"):
    """How often the arg-max of the predictions is that of the one-hot labels.

    Args:
        name: The name shown in logs. Defaults to ``"categorical_accuracy"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.CategoricalAccuracy()
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__({"name": "categorical_accuracy"}, name)
