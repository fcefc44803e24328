"""Loss functions (Keras names and argument order: ``loss(y_true, y_pred)``).

Each loss is one fused, numerically stable operation of the Rust core: calling it computes the
loss and records a single backward step for ``y_pred``. Cross-entropies take probabilities by
default (clipped to ``[1e-7, 1 - 1e-7]``, as in Keras) or logits with ``from_logits=True``,
which is the stable choice: log-sum-exp and softplus forms keep logits of any size finite.

A hand-written training step:

>>> import numpy as np
>>> import ferrograd as fg
>>> logits = fg.tensor(np.zeros((4, 3)), requires_grad=True)
>>> labels = np.array([0, 2, 1, 2])
>>> loss_fn = fg.losses.SparseCategoricalCrossentropy(from_logits=True)
>>> loss = loss_fn(labels, logits)
>>> loss.backward()
>>> round(loss.item(), 4)
1.0986

Loss classes return the mean over samples (Keras's ``"sum_over_batch_size"``); the loss
functions (``mean_squared_error``, ``binary_crossentropy``, ...) return one value per sample.

Each loss is one module named after it (``binary_crossentropy.py`` holds
`BinaryCrossentropy` and `binary_crossentropy`); its class registers itself with `Loss`
under the name of its Rust config, which is how `get` finds it.
"""

from __future__ import annotations

import json
from typing import Any

from ferrograd import _core
from ferrograd.losses.binary_crossentropy import BinaryCrossentropy, bce, binary_crossentropy
from ferrograd.losses.categorical_crossentropy import (
    CategoricalCrossentropy,
    categorical_crossentropy,
)
from ferrograd.losses.categorical_focal_crossentropy import (
    CategoricalFocalCrossentropy,
    categorical_focal_crossentropy,
)
from ferrograd.losses.cosine_similarity import CosineSimilarity, cosine_similarity
from ferrograd.losses.hinge import Hinge, hinge
from ferrograd.losses.huber import Huber, huber
from ferrograd.losses.kl_divergence import (
    KLDivergence,
    kl_divergence,
    kld,
    kullback_leibler_divergence,
)
from ferrograd.losses.log_cosh import LogCosh, log_cosh, logcosh
from ferrograd.losses.loss import Loss
from ferrograd.losses.loss_function_wrapper import LossFunctionWrapper
from ferrograd.losses.mean_absolute_error import MeanAbsoluteError, mae, mean_absolute_error
from ferrograd.losses.mean_absolute_percentage_error import (
    MeanAbsolutePercentageError,
    mape,
    mean_absolute_percentage_error,
)
from ferrograd.losses.mean_squared_error import MeanSquaredError, mean_squared_error, mse
from ferrograd.losses.mean_squared_logarithmic_error import (
    MeanSquaredLogarithmicError,
    mean_squared_logarithmic_error,
    msle,
)
from ferrograd.losses.poisson import Poisson, poisson
from ferrograd.losses.sparse_categorical_crossentropy import (
    SparseCategoricalCrossentropy,
    sparse_categorical_crossentropy,
)
from ferrograd.losses.squared_hinge import SquaredHinge, squared_hinge


def _from_core(core: Any, name: str | None = None) -> Loss:
    config = json.loads(core.to_json())
    kind = config.pop("name")
    if name is not None:
        config["name"] = name
    return Loss._classes[kind](**config)


def _by_class_name() -> dict[str, type[Loss]]:
    return {cls.__name__: cls for cls in Loss._classes.values()}


def get(identifier: Any) -> Loss | None:
    """The loss an identifier names.

    Args:
        identifier: A `Loss` (returned as is); a name or alias (``"mse"``, ``"mae"``,
            ``"bce"``, ``"binary_crossentropy"``, ...) or class name (``"Huber"``); a config
            dict, either Keras's ``{"class_name": "BinaryCrossentropy", "config": {...}}`` or
            the core's ``{"name": "binary_crossentropy", "from_logits": True}``; one of this
            module's loss functions; a function ``(y_true, y_pred)`` written in Python, which
            becomes a `LossFunctionWrapper`; or ``None`` (returned as is).

    Returns:
        A `Loss` instance (with default parameters for a name).

    Examples:

    >>> fg.losses.get("bce")
    BinaryCrossentropy(from_logits=False, label_smoothing=0.0)
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        by_class = _by_class_name()
        if identifier in by_class:
            return by_class[identifier]()
        return _from_core(_core.Loss.from_name(identifier))
    if isinstance(identifier, dict):
        if "class_name" in identifier:
            class_name = identifier["class_name"]
            classes = _by_class_name()
            if class_name not in classes:
                raise ValueError(
                    f"unknown loss class {class_name!r}; known classes: "
                    f"{', '.join(sorted(classes))}"
                )
            return classes[class_name].from_config(dict(identifier.get("config") or {}))
        return _from_core(_core.Loss(json.dumps(identifier)))
    if callable(identifier) and identifier in Loss._functions:
        return Loss._classes[Loss._functions[identifier]]()
    if callable(identifier) and not isinstance(identifier, type):
        # A loss function written in Python, (y_true, y_pred) -> one value per sample; fit
        # traces it into the graph (ferrograd.losses.traced_loss).
        return LossFunctionWrapper(identifier)
    names = sorted([*Loss._classes, *Loss._aliases])
    raise ValueError(
        f"cannot interpret {identifier!r} as a loss; pass a Loss instance, a name (one of "
        f"{', '.join(names)}) or a config dict"
    )


def serialize(loss: Loss) -> dict[str, Any]:
    """Keras's form of a loss's config: ``{"class_name": ..., "config": {...}}``.

    Args:
        loss: a ``Loss`` instance.

    Returns:
        A JSON-ready dict.

    Examples:
        >>> fg.losses.serialize(fg.losses.Huber())["class_name"]
        'Huber'
    """
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict[str, Any]) -> Loss:
    """The loss of a config written by ``serialize`` (or any form ``get`` accepts).

    Args:
        config: ``{"class_name": ..., "config": {...}}``, a name, or a ``Loss``.

    Returns:
        A ``Loss``.

    Raises:
        ValueError: None, or a config that names no known loss.

    Examples:
        >>> fg.losses.deserialize({"class_name": "Huber", "config": {"delta": 2.0}})
        Huber(delta=2.0)
    """
    loss = get(config)
    if loss is None:
        raise ValueError("cannot deserialize None as a loss")
    return loss


__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "bce",
    "binary_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "cosine_similarity",
    "deserialize",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
    "log_cosh",
    "logcosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "poisson",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]
