"""``Mean``: the (weighted) mean of the values seen, a metric written in Python."""

from __future__ import annotations

from typing import Any

import numpy as np

from ferrograd.metrics.metric import Metric
from ferrograd.metrics.reduce import weighted_values


class Mean(Metric):
    """The weighted mean of every value given to ``update_state`` since the last reset
    (Keras's ``keras.metrics.Mean``): the loss tracker of a ``train_step``.

    Args:
        name: The name shown in logs (default ``"mean"``).
        dtype: The dtype of the state variables (default ``"float32"``; the sums are
            accumulated in float64 here and stored in it).

    Examples:
        >>> m = fg.metrics.Mean(name="loss")
        >>> m.update_state([1.0, 3.0])
        >>> m.update_state(5.0, sample_weight=2.0)
        >>> float(m.result())  # (1 + 3 + 2 * 5) / 4
        3.5
    """

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype or "float64")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Adds a batch of values.

        Args:
            values: a number, array or tensor.
            sample_weight: None, a number, or weights that broadcast to ``values`` (one per
                sample, ``(batch,)``, or one per value).

        Examples:
            >>> m = fg.metrics.Mean()
            >>> m.update_state(fg.tensor([2.0, 4.0]))
            >>> float(m.result())
            3.0
        """
        values, weights = weighted_values(values, sample_weight, f"metric {self.name!r}")
        self.total.assign_add(np.sum(values * weights))
        self.count.assign_add(np.sum(weights))

    def result(self) -> float:
        """The weighted mean so far (0.0 before any value).

        Examples:
            >>> fg.metrics.Mean().result()
            0.0
        """
        count = float(self.count)
        return float(self.total) / count if count != 0.0 else 0.0

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments.

        Examples:
            >>> fg.metrics.Mean(name="loss").get_config()["name"]
            'loss'
        """
        return {"name": self.name, "dtype": self.dtype}
