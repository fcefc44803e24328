"""The coefficient of determination, R²."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric

_AGGREGATIONS = ("uniform_average", "variance_weighted_average")


class R2Score(Metric, registered_as="r2_score"):
    """The coefficient of determination, ``1 - sum((y - p)**2) / sum((y - mean(y))**2)``,
    over every batch since the last reset.

    Each output column (of ``(samples, outputs)`` inputs, or ``(samples,)`` for one output)
    gets its own score, then the scores are averaged; this is scikit-learn's ``r2_score``
    with ``multioutput="uniform_average"`` or ``"variance_weighted"``.

    Args:
        class_aggregation: ``"uniform_average"`` (default) or ``"variance_weighted_average"``.
            Keras's ``None`` (one score per output) is not supported: a metric reports one
            number here (a ValueError).
        num_regressors: The number of independent variables; if ``> 0``, the adjusted score
            ``1 - (1 - r2) * (n - 1) / (n - num_regressors - 1)`` (when
            ``num_regressors < n - 1``). Defaults to ``0``.
        name: The name shown in logs. Defaults to ``"r2_score"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.R2Score()
    >>> m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
    >>> round(m.result(), 4)
    0.5714
    """

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str = "r2_score",
        dtype: Any = None,
    ) -> None:
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected one of "
                f"{_AGGREGATIONS} (None, one score per output, is not supported). "
                f"Received: class_aggregation={class_aggregation!r}"
            )
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, int):
            raise ValueError(
                f"R2Score: num_regressors must be an int. Received: {num_regressors!r}"
            )
        super().__init__(
            {
                "name": "r2_score",
                "class_aggregation": class_aggregation,
                "num_regressors": num_regressors,
            },
            name,
        )
