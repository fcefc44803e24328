"""Metrics (Keras names and semantics): accuracy, precision, recall, AUC and mean errors.

A metric accumulates state over batches with ``update_state(y_true, y_pred)``, reports the
value over everything seen so far with ``result()`` and starts again with ``reset_state()``.
The state lives in the Rust core (``self._core``). Metrics see probabilities (the model's
outputs after its activation).

>>> import ferrograd as fg
>>> m = fg.metrics.BinaryAccuracy()
>>> m.update_state([1, 1, 0, 0], [0.98, 1.0, 0.0, 0.6])
>>> m.result()
0.75

``"accuracy"`` (or ``"acc"``) means binary, sparse categorical or categorical accuracy
depending on the shapes of the labels and predictions; see `resolve_accuracy`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ferrograd import _core


class Metric:
    """Base class of the metrics: a Rust metric (``self._core``) with a name.

    Args:
        config: The metric's config as the Rust core reads it, e.g.
            ``{"name": "binary_accuracy", "threshold": 0.5}``.
        name: The name shown in logs. Defaults to the Keras snake_case name.
    """

    def __init__(self, config: dict[str, Any], name: str | None = None) -> None:
        self._core = _core.Metric(json.dumps(config))
        self.name = self._core.name if name is None else str(name)

    def update_state(self, y_true: Any, y_pred: Any) -> None:
        """Accumulates one batch.

        Args:
            y_true: The labels (0/1 values, one-hot rows or integer class labels, as the metric
                expects): a tensor, numpy array or list.
            y_pred: The predictions, probabilities for the classification metrics.
        """
        self._core.update_state(y_true, y_pred)

    def result(self) -> float:
        """The value over every batch since the last reset (0.0 before any)."""
        return self._core.result()

    def reset_state(self) -> None:
        """Forgets every batch seen so far."""
        self._core.reset_state()

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        """Accumulates one batch and returns the updated result."""
        self.update_state(y_true, y_pred)
        return self.result()

    def _params(self) -> dict[str, Any]:
        config = json.loads(self._core.to_json())
        config.pop("name")
        return config

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as Keras writes them."""
        return {"name": self.name, **self._params()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _threshold(thresholds: Any, metric: str) -> float:
    """Keras's `thresholds` argument, of which one value is supported."""
    if thresholds is None:
        return 0.5
    if isinstance(thresholds, (list, tuple)):
        if len(thresholds) != 1:
            raise ValueError(
                f"{metric}: only a single threshold is supported. Received: "
                f"thresholds={thresholds!r}"
            )
        (thresholds,) = thresholds
    return float(thresholds)


class BinaryAccuracy(Metric):
    """How often predictions match binary labels: a prediction counts as 1 when it is greater
    than ``threshold``, else as 0.

    Args:
        name: The name shown in logs. Defaults to ``"binary_accuracy"``.
        dtype: Accepted for Keras compatibility; results are Python floats.
        threshold: In ``[0, 1]``. Defaults to ``0.5``.

    Example:

    >>> m = fg.metrics.BinaryAccuracy()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    >>> m.result()
    0.75
    """

    def __init__(
        self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5
    ) -> None:
        super().__init__({"name": "binary_accuracy", "threshold": float(threshold)}, name)


class CategoricalAccuracy(Metric):
    """How often the arg-max of the predictions is that of the one-hot labels.

    Args:
        name: The name shown in logs. Defaults to ``"categorical_accuracy"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Example:

    >>> m = fg.metrics.CategoricalAccuracy()
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__({"name": "categorical_accuracy"}, name)


class SparseCategoricalAccuracy(Metric):
    """How often the arg-max of the predictions is the integer label.

    Args:
        name: The name shown in logs. Defaults to ``"sparse_categorical_accuracy"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Example:

    >>> m = fg.metrics.SparseCategoricalAccuracy()
    >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__({"name": "sparse_categorical_accuracy"}, name)


class Precision(Metric):
    """The fraction of positive predictions that are right: ``tp / (tp + fp)``. A prediction
    is positive when greater than the threshold; a label when non-zero.

    Args:
        thresholds: One threshold in ``[0, 1]`` (a float or a one-element list). Defaults to
            ``0.5``.
        name: The name shown in logs. Defaults to ``"precision"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Example:

    >>> m = fg.metrics.Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(m.result(), 4)
    0.6667
    """

    def __init__(self, thresholds: Any = None, name: str = "precision", dtype: Any = None) -> None:
        threshold = _threshold(thresholds, "precision")
        super().__init__({"name": "precision", "threshold": threshold}, name)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "thresholds": self._params()["threshold"]}


class Recall(Metric):
    """The fraction of positive labels predicted positive: ``tp / (tp + fn)``. A prediction
    is positive when greater than the threshold; a label when non-zero.

    Args:
        thresholds: One threshold in ``[0, 1]`` (a float or a one-element list). Defaults to
            ``0.5``.
        name: The name shown in logs. Defaults to ``"recall"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Example:

    >>> m = fg.metrics.Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(m.result(), 4)
    0.6667
    """

    def __init__(self, thresholds: Any = None, name: str = "recall", dtype: Any = None) -> None:
        threshold = _threshold(thresholds, "recall")
        super().__init__({"name": "recall", "threshold": threshold}, name)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "thresholds": self._params()["threshold"]}


class AUC(Metric):
    """The area under the ROC (or precision-recall) curve, approximated as Keras does: the
    predictions are counted between ``num_thresholds`` evenly spaced thresholds and the curve
    is integrated by interpolation between them.

    Args:
        num_thresholds: How many thresholds, more than 1. Defaults to ``200``.
        curve: ``"ROC"`` (default) or ``"PR"``.
        summation_method: ``"interpolation"``, the only one supported.
        name: The name shown in logs. Defaults to ``"auc"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Example:

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


class MeanSquaredError(Metric):
    """The mean squared error: each sample's ``mean(square(y_true - y_pred), axis=-1)``,
    averaged over samples.

    Args:
        name: The name shown in logs. Defaults to ``"mean_squared_error"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Example:

    >>> m = fg.metrics.MeanSquaredError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> m.result()
    0.25
    """

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__({"name": "mean_squared_error"}, name)


class MeanAbsoluteError(Metric):
    """The mean absolute error: each sample's ``mean(abs(y_true - y_pred), axis=-1)``,
    averaged over samples.

    Args:
        name: The name shown in logs. Defaults to ``"mean_absolute_error"``.
        dtype: Accepted for Keras compatibility; results are Python floats.

    Example:

    >>> m = fg.metrics.MeanAbsoluteError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> m.result()
    0.25
    """

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__({"name": "mean_absolute_error"}, name)


_CLASSES: dict[str, Any] = {  # name -> Metric subclass
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "precision": Precision,
    "recall": Recall,
    "auc": AUC,
    "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
}

_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error"}


def _from_core_config(config: dict[str, Any], name: str | None) -> Metric:
    """The metric of a core config (already validated by the core)."""
    config = dict(config)
    kind = config.pop("name")
    cls = _CLASSES[kind]
    if cls in (Precision, Recall):
        config["thresholds"] = config.pop("threshold")
    return cls(name=kind if name is None else name, **config)


def resolve_accuracy(
    y_true_shape: Sequence[int], y_pred_shape: Sequence[int], loss: Any = None
) -> str:
    """The metric that ``"accuracy"`` means for labels and predictions of these shapes, by
    Keras's rule: ``"binary_accuracy"`` when the predictions' last dimension is 1;
    ``"sparse_categorical_accuracy"`` when the labels have a lower rank than the predictions,
    or a last dimension of 1 against several classes; ``"categorical_accuracy"`` otherwise.

    Args:
        y_true_shape: The shape of the labels (of a batch, or of the whole data).
        y_pred_shape: The shape of the predictions.
        loss: Optional: the loss (a `ferrograd.losses.Loss` or an identifier). With binary
            cross-entropy, accuracy is always binary (multi-label outputs).

    Example:

    >>> fg.metrics.resolve_accuracy((32,), (32, 10))
    'sparse_categorical_accuracy'
    """
    core_loss = None
    if loss is not None:
        from ferrograd import losses

        resolved = losses.get(loss)
        core_loss = None if resolved is None else resolved._core
    return _core.resolve_accuracy(
        [int(d) for d in y_true_shape], [int(d) for d in y_pred_shape], core_loss
    )


def get(
    identifier: Any,
    y_true_shape: Sequence[int] | None = None,
    y_pred_shape: Sequence[int] | None = None,
) -> Metric | None:
    """The metric an identifier names.

    Args:
        identifier: A `Metric` (returned as is); a name or alias (``"binary_accuracy"``,
            ``"categorical_accuracy"``, ``"sparse_categorical_accuracy"``, ``"precision"``,
            ``"recall"``, ``"auc"``, ``"mse"``, ``"mae"``, ...) or class name (``"AUC"``),
            which becomes the metric's name in logs; a config dict, Keras's
            ``{"class_name": ..., "config": {...}}`` or the core's
            ``{"name": "auc", "curve": "PR"}``; or ``None`` (returned as is).
        y_true_shape, y_pred_shape: The shapes of labels and predictions, needed to resolve
            ``"accuracy"`` / ``"acc"`` (see `resolve_accuracy`).

    Example:

    >>> fg.metrics.get("acc", (32,), (32, 10))
    SparseCategoricalAccuracy(name='acc')
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            if y_true_shape is None or y_pred_shape is None:
                raise ValueError(
                    f"metric {identifier!r} is binary, categorical or sparse categorical "
                    "accuracy depending on the shapes of the labels and predictions; pass "
                    "y_true_shape and y_pred_shape, or name the metric you want"
                )
            kind = resolve_accuracy(y_true_shape, y_pred_shape)
            return _CLASSES[kind](name=identifier)
        by_class = {cls.__name__: cls for cls in _CLASSES.values()}
        if identifier in by_class:
            return by_class[identifier](name=identifier)
        core = _core.Metric.from_name(_ALIASES.get(identifier, identifier))
        return _from_core_config(json.loads(core.to_json()), identifier)
    if isinstance(identifier, dict):
        if "class_name" in identifier:
            class_name = identifier["class_name"]
            classes = {cls.__name__: cls for cls in _CLASSES.values()}
            if class_name not in classes:
                raise ValueError(
                    f"unknown metric class {class_name!r}; known classes: "
                    f"{', '.join(sorted(classes))}"
                )
            return classes[class_name].from_config(dict(identifier.get("config") or {}))
        core = _core.Metric(json.dumps(identifier))
        return _from_core_config(json.loads(core.to_json()), None)
    raise ValueError(
        f"cannot interpret {identifier!r} as a metric; pass a Metric instance, a name (one of "
        f"{', '.join(sorted([*_CLASSES, *_ALIASES, 'accuracy', 'acc']))}) or a config dict"
    )


def serialize(metric: Metric) -> dict[str, Any]:
    """Keras's form of a metric's config: ``{"class_name": ..., "config": {...}}``."""
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict[str, Any]) -> Metric:
    """The metric of a config written by `serialize` (or any form `get` accepts)."""
    metric = get(config)
    if metric is None:
        raise ValueError("cannot deserialize None as a metric")
    return metric


__all__ = [
    "AUC",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "Precision",
    "Recall",
    "SparseCategoricalAccuracy",
    "deserialize",
    "get",
    "resolve_accuracy",
    "serialize",
]
