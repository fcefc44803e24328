"""``Sum``: the (weighted) sum of the values seen, a metric written in Python."""

from __future__ import annotations

from typing import Any

import numpy as np

from ferrograd.metrics.metric import Metric
from ferrograd.metrics.reduce import weighted_values


class Sum(Metric):
    """The weighted sum of every value given to ``update_state`` since the last reset
    (Keras's ``keras.metrics.Sum``).

    Args:
        name: The name shown in logs (default ``"sum"``).
        dtype: The dtype of the state variable (default ``"float64"``).

    Examples:
        >>> m = fg.metrics.Sum()
        >>> m.update_state([1.0, 3.0])
        >>> m.update_state(5.0, sample_weight=2.0)
        >>> float(m.result())
        14.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype or "float64")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Adds a batch of values.

        Args:
            values: a number, array or tensor.
            sample_weight: None, a number, or weights that broadcast to ``values``.

        Examples:
            >>> m = fg.metrics.Sum()
            >>> m.update_state(fg.tensor([2.0, 4.0]), sample_weight=[1.0, 0.5])
            >>> float(m.result())
            4.0
        """
        values, weights = weighted_values(values, sample_weight, f"metric {self.name!r}")
        self.total.assign_add(np.sum(values * weights))

    def result(self) -> float:
        """The weighted sum so far.

        Examples:
            >>> fg.metrics.Sum().result()
            0.0
        """
        return float(self.total)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments.

        Examples:
            >>> fg.metrics.Sum(name="total").get_config()["name"]
            'total'
        """
        return {"name": self.name, "dtype": self.dtype}
