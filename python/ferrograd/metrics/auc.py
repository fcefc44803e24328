"""The area under the ROC or precision-recall curve."""

from __future__ import annotations

from typing import Any

from ferrograd.metrics.metric import Metric


class AUC(Metric, registered_as="auc"):
    """The area under the ROC (or precision-recall) curve, approximated as Keras does: the
    predictions are counted between ``num_thresholds`` evenly spaced thresholds and the curve
    is integrated by interpolation between them.

    Args:
        num_thresholds: How many thresholds, more than 1. Defaults to ``200``.
        curve: ``"ROC"`` (default) or ``"PR"``.
        summation_method: ``"interpolation"``, the only one supported.
        name: The name shown in logs. Defaults to ``"auc"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Examples:

    >>> import ferrograd as fg
    >>> m = fg.metrics.AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> m.result()
    0.75
    """

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str = "auc",
        dtype: Any = None,
    ) -> None:
        if summation_method != "interpolation":
            raise ValueError(
                "AUC: only summation_method='interpolation' is supported. Received: "
                f"summation_method={summation_method!r}"
            )
        if isinstance(num_thresholds, bool) or int(num_thresholds) != num_thresholds:
            raise ValueError(
                f"AUC: num_thresholds must be an integer > 1. Received: "
                f"num_thresholds={num_thresholds!r}"
            )
        if int(num_thresholds) <= 1:
            raise ValueError(
                f"AUC: num_thresholds must be an integer > 1. Received: "
                f"num_thresholds={num_thresholds!r}"
            )
        curve_name = str(curve).upper()
        if curve_name not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR'. Received: curve={curve!r}")
        config = {"name": "auc", "num_thresholds": int(num_thresholds), "curve": curve_name}
        super().__init__(config, name)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self._params(), "summation_method": "interpolation"}
