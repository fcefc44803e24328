"""Binary accuracy: how often thresholded predictions match 0/1 labels."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric


class BinaryAccuracy(Metric, registered_as="binary_accuracy"):
    """How often predictions match binary labels: a prediction counts as 1 when it is greater
    than ``threshold``, else as 0.

    Args:
        name: The name shown in logs. Defaults to ``"binary_accuracy"``.
        dtype: Accepted for Keras compatibility; results are Python floats.
        threshold: In ``[0, 1]``. Defaults to ``0.5``.

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.BinaryAccuracy()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    >>> m.result()
    0.75
    """

    def __init__(
        self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5
    ) -> None:
        super().__init__({"name": "binary_accuracy", "threshold": float(threshold)}, name)
