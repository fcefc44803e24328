"""The F1 score: the harmonic mean of precision and recall, per class."""

from __future__ import annotations

from typing import Any

import numpy as np

from ferrograd.metrics.metric import Metric

_AVERAGES = (None, "micro", "macro", "weighted")
_EPSILON = 1e-7


class F1Score(Metric, registered_as="f1_score"):
    """The F1 score of ``(samples, classes)`` labels and predictions, Keras 3's semantics.

    Predictions become 0/1: above ``threshold`` or, without one, equal to the largest of their
    row (and not about 0). Per class, ``f1 = 2 * p * r / (p + r + 1e-7)`` with
    ``p = tp / (tp + fp + 1e-7)`` and ``r = tp / (tp + fn + 1e-7)``, over every batch since
    the last reset.

    ``fit`` logs one number per metric, so in ``compile(metrics=[...])`` the score must be
    averaged: ``F1Score(average=None)`` (one score per class) raises a ValueError there, and
    the name ``"f1_score"`` means ``F1Score(average="macro")``. Standalone,
    ``F1Score(average=None)`` works as in Keras: ``result()`` returns a numpy array with one
    score per class.

    Args:
        average: ``None`` (default: one score per class, standalone only), ``"micro"`` (the
            counts of every class pooled), ``"macro"`` (the mean of the classes' scores) or
            ``"weighted"`` (weighted by the number of true labels of each class).
        threshold: ``None`` (default: the arg-max of each row is the predicted class) or a
            float in ``(0, 1]``.
        name: The name shown in logs. Defaults to ``"f1_score"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Examples:

    >>> import ferrograd as fg
    >>> y = [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    >>> p = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]
    >>> m = fg.metrics.F1Score(threshold=0.5)
    >>> m.update_state(y, p)
    >>> m.result().round(4)
    array([0.5   , 0.8   , 0.6667])
    >>> m = fg.metrics.F1Score(average="macro", threshold=0.5)
    >>> m.update_state(y, p)
    >>> round(m.result(), 4)
    0.6556
    """

    def __init__(
        self,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype: Any = None,
    ) -> None:
        if average not in _AVERAGES:
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                f"'weighted'}}. Received: average={average!r}"
            )
        if threshold is not None:
            if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
                raise ValueError(
                    f"Invalid `threshold` argument value. Received: threshold={threshold!r}"
                )
            threshold = float(threshold)
            if not 0.0 < threshold <= 1.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                    f"Received: threshold={threshold}"
                )
        self.average = average
        self.threshold = threshold
        if average is not None:
            super().__init__({"name": "f1_score", "average": average, "threshold": threshold}, name)
            return
        # One score per class: computed here, since the core's metrics report one number.
        self._core = None
        self._one_value = False  # compile() refuses it: fit logs one number per metric
        self.name = str(name)
        self._counts: np.ndarray | None = None

    def update_state(self, y_true: Any, y_pred: Any) -> None:
        """Accumulates one batch of ``(samples, classes)`` labels and predictions.

        Args:
            y_true: one-hot (or multi-label 0/1) rows, ``(samples, classes)``.
            y_pred: the predicted scores, of the same shape.

        Raises:
            ValueError: inputs that are not 2-D of the same shape.

        Examples:
            >>> f1 = fg.metrics.F1Score(average="micro", threshold=0.5)
            >>> f1.update_state([[1, 0], [0, 1]], [[0.9, 0.2], [0.6, 0.4]])
            >>> round(f1.result(), 4)
            0.5
        """
        if self._core is not None:
            super().update_state(y_true, y_pred)
            return
        t = np.asarray(y_true, dtype=np.float64)
        p = np.asarray(y_pred, dtype=np.float64)
        if t.shape != p.shape or p.ndim != 2:
            raise ValueError(
                "F1Score expects 2D inputs of the same shape (batch_size, output_dim). "
                f"Received: y_true.shape={t.shape}, y_pred.shape={p.shape}"
            )
        if self.threshold is None:
            predicted = (p >= p.max(axis=-1, keepdims=True)) & (np.abs(p) > 1e-9)
        else:
            predicted = p > self.threshold
        predicted = predicted.astype(np.float64)
        counts = np.stack(
            [
                (predicted * t).sum(0),
                (predicted * (1 - t)).sum(0),
                ((1 - predicted) * t).sum(0),
            ]
        )
        if self._counts is not None and self._counts.shape != counts.shape:
            raise ValueError(
                f"F1Score: the number of classes changed from {self._counts.shape[1]} to "
                f"{counts.shape[1]}"
            )
        self._counts = counts if self._counts is None else self._counts + counts

    def result(self) -> Any:
        """The score over every batch since the last reset: a float, or with
        ``average=None`` a numpy array of one score per class (0.0 before any batch)."""
        if self._core is not None:
            return super().result()
        if self._counts is None:
            return 0.0
        tp, fp, fn = self._counts
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        return 2.0 * (precision * recall / (precision + recall + _EPSILON))

    def reset_state(self) -> None:
        """Forgets every batch seen so far."""
        if self._core is not None:
            super().reset_state()
        else:
            self._counts = None

    def __call__(self, y_true: Any, y_pred: Any) -> Any:
        """Accumulates one batch and returns the updated result."""
        self.update_state(y_true, y_pred)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "average": self.average, "threshold": self.threshold}
