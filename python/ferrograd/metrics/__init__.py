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

Each metric is one module named after it (``binary_accuracy.py`` holds `BinaryAccuracy`); its
class registers itself with `Metric` under the name of its Rust config, which is how `get`
finds it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ferrograd import _core
from ferrograd.metrics.auc import AUC
from ferrograd.metrics.binary_accuracy import BinaryAccuracy
from ferrograd.metrics.categorical_accuracy import CategoricalAccuracy
from ferrograd.metrics.f1_score import F1Score
from ferrograd.metrics.mean import Mean
from ferrograd.metrics.mean_absolute_error import MeanAbsoluteError
from ferrograd.metrics.mean_absolute_percentage_error import MeanAbsolutePercentageError
from ferrograd.metrics.mean_metric_wrapper import MeanMetricWrapper
from ferrograd.metrics.mean_squared_error import MeanSquaredError
from ferrograd.metrics.mean_squared_logarithmic_error import MeanSquaredLogarithmicError
from ferrograd.metrics.metric import Metric
from ferrograd.metrics.metric_variable import MetricVariable
from ferrograd.metrics.precision import Precision
from ferrograd.metrics.r2_score import R2Score
from ferrograd.metrics.recall import Recall
from ferrograd.metrics.resolve_accuracy import resolve_accuracy
from ferrograd.metrics.sparse_categorical_accuracy import SparseCategoricalAccuracy
from ferrograd.metrics.sparse_top_k_categorical_accuracy import SparseTopKCategoricalAccuracy
from ferrograd.metrics.sum import Sum
from ferrograd.metrics.top_k_categorical_accuracy import TopKCategoricalAccuracy


def _from_core_config(config: dict[str, Any], name: str | None) -> Metric:
    """The metric of a core config (already validated by the core)."""
    params = dict(config)
    kind = params.pop("name")
    return Metric._classes[kind]._from_core_params(params, kind if name is None else name)


def _by_class_name() -> dict[str, type[Metric]]:
    return {cls.__name__: cls for cls in Metric._classes.values()}


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
            ``{"name": "auc", "curve": "PR"}``; a function ``(y_true, y_pred)``, which becomes
            a `MeanMetricWrapper`; or ``None`` (returned as is).
        y_true_shape, y_pred_shape: The shapes of labels and predictions, needed to resolve
            ``"accuracy"`` / ``"acc"`` (see `resolve_accuracy`).

    Examples:

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
            return Metric._classes[kind](name=identifier)
        by_class = _by_class_name()
        if identifier in by_class:
            return by_class[identifier](name=identifier)
        core = _core.Metric.from_name(Metric._aliases.get(identifier, identifier))
        return _from_core_config(json.loads(core.to_json()), identifier)
    if isinstance(identifier, dict):
        if "class_name" in identifier:
            class_name = identifier["class_name"]
            classes = _by_class_name()
            if class_name not in classes:
                raise ValueError(
                    f"unknown metric class {class_name!r}; known classes: "
                    f"{', '.join(sorted(classes))}"
                )
            return classes[class_name].from_config(dict(identifier.get("config") or {}))
        core = _core.Metric(json.dumps(identifier))
        return _from_core_config(json.loads(core.to_json()), None)
    if callable(identifier) and not isinstance(identifier, type):
        # A metric function (y_true, y_pred), as Keras takes it in compile(metrics=[...]).
        return MeanMetricWrapper(identifier)
    names = sorted([*Metric._classes, *Metric._aliases, "accuracy", "acc"])
    raise ValueError(
        f"cannot interpret {identifier!r} as a metric; pass a Metric instance, a name (one of "
        f"{', '.join(names)}) or a config dict"
    )


def serialize(metric: Metric) -> dict[str, Any]:
    """Keras's form of a metric's config: ``{"class_name": ..., "config": {...}}``.

    Args:
        metric: a ``Metric`` instance.

    Returns:
        A JSON-ready dict.

    Examples:
        >>> fg.metrics.serialize(fg.metrics.Recall())
        {'class_name': 'Recall', 'config': {'name': 'recall', 'thresholds': 0.5}}
    """
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict[str, Any]) -> Metric:
    """The metric of a config written by ``serialize`` (or any form ``get`` accepts).

    Args:
        config: ``{"class_name": ..., "config": {...}}``, a name, or a ``Metric``.

    Returns:
        A ``Metric``, with no state.

    Raises:
        ValueError: None, or a config that names no known metric.

    Examples:
        >>> fg.metrics.deserialize({"class_name": "AUC", "config": {"curve": "PR"}}).name
        'auc'
    """
    metric = get(config)
    if metric is None:
        raise ValueError("cannot deserialize None as a metric")
    return metric


__all__ = [
    "AUC",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "F1Score",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "MetricVariable",
    "Precision",
    "R2Score",
    "Recall",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "Sum",
    "TopKCategoricalAccuracy",
    "deserialize",
    "get",
    "resolve_accuracy",
    "serialize",
]
