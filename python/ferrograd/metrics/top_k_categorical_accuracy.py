"""Top-k categorical accuracy: how often the class of a one-hot label is among the ``k``
largest predictions."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric


def _k(k: Any, metric: str) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"{metric}: k must be a positive integer. Received: k={k!r}")
    return k


class TopKCategoricalAccuracy(Metric, registered_as="top_k_categorical_accuracy"):
    """How often the class of a one-hot label is among the ``k`` largest predictions.

    Classes tied with the ``k``-th largest prediction count as in the top ``k`` (TensorFlow's
    ``in_top_k``).

    Args:
        k: How many of the largest predictions count. Defaults to ``5``.
        name: The name shown in logs. Defaults to ``"top_k_categorical_accuracy"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.TopKCategoricalAccuracy(k=1)
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    """

    def __init__(
        self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None
    ) -> None:
        k = _k(k, "TopKCategoricalAccuracy")
        super().__init__({"name": "top_k_categorical_accuracy", "k": k}, name)
