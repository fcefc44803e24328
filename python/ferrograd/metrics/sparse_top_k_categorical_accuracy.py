"""Sparse top-k categorical accuracy: how often an integer label is among the ``k`` largest
predictions."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric
from ferrograd.metrics.top_k_categorical_accuracy import _k


class SparseTopKCategoricalAccuracy(Metric, registered_as="sparse_top_k_categorical_accuracy"):
    """How often an integer label is among the ``k`` largest predictions.

    Classes tied with the ``k``-th largest prediction count as in the top ``k``; a label
    outside ``[0, classes)`` never counts.

    Args:
        k: How many of the largest predictions count. Defaults to ``5``.
        name: The name shown in logs. Defaults to ``"sparse_top_k_categorical_accuracy"``.
        dtype: Accepted for Keras compatibility; results are Python floats.
        from_sorted_ids: Keras's option for predictions that are already sorted class ids;
            only ``False`` (the default) is supported.

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.SparseTopKCategoricalAccuracy(k=1)
    >>> m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    """

    def __init__(
        self,
        k: int = 5,
        name: str = "sparse_top_k_categorical_accuracy",
        dtype: Any = None,
        from_sorted_ids: bool = False,
    ) -> None:
        if from_sorted_ids:
            raise ValueError(
                "SparseTopKCategoricalAccuracy: from_sorted_ids=True is not supported. "
                f"Received: from_sorted_ids={from_sorted_ids!r}"
            )
        k = _k(k, "SparseTopKCategoricalAccuracy")
        super().__init__({"name": "sparse_top_k_categorical_accuracy", "k": k}, name)
