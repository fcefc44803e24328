"""Sparse categorical accuracy: how often the arg-max of the predictions is the integer
label."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric


class SparseCategoricalAccuracy(Metric, registered_as="sparse_categorical_accuracy"):
    """How often the arg-max of the predictions is the integer label.

    Args:
        name: The name shown in logs. Defaults to ``"sparse_categorical_accuracy"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.SparseCategoricalAccuracy()
    >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__({"name": "sparse_categorical_accuracy"}, name)
