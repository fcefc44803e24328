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
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ferrograd import _core
from ferrograd._core import Tensor

_REDUCTIONS = ("sum_over_batch_size", "sum", "none")


class Loss:
    """Base class of the losses: a Rust loss (``self._core``) with a name and a reduction.

    Args:
        config: The loss's config as the Rust core reads it, e.g.
            ``{"name": "binary_crossentropy", "from_logits": True}``.
        name: The name of the loss. Defaults to the Keras snake_case name.
        reduction: How per-sample losses are combined when the loss is called:
            ``"sum_over_batch_size"`` (their mean, the default), ``"sum"`` or ``"none"``.
            Training with ``fit`` always uses the mean.
    """

    def __init__(
        self,
        config: dict[str, Any],
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
    ) -> None:
        reduction = "none" if reduction is None else reduction
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"reduction must be one of {', '.join(map(repr, _REDUCTIONS))}. "
                f"Received: reduction={reduction!r}"
            )
        self._core = _core.Loss(json.dumps(config))
        self.name = self._core.name if name is None else str(name)
        self.reduction = reduction

    def __call__(self, y_true: Any, y_pred: Any) -> Tensor:
        """The loss of ``y_pred`` against ``y_true``.

        Args:
            y_true: The targets: a tensor, numpy array or list, converted to ``y_pred``'s dtype.
            y_pred: The predictions: a tensor (the loss is then differentiable with respect to
                it), or an array-like for a plain value.

        Returns:
            A scalar tensor, or one value per sample when ``reduction="none"``.
        """
        return self._core.compute(y_true, y_pred, self.reduction)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as Keras writes them."""
        config = json.loads(self._core.to_json())
        config["name"] = self.name
        config["reduction"] = self.reduction
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        params = {k: v for k, v in self.get_config().items() if k not in ("name", "reduction")}
        args = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{type(self).__name__}({args})"


class MeanSquaredError(Loss):
    """The mean of the squared errors: ``mean(square(y_true - y_pred))``.

    Args:
        name: The name of the loss. Defaults to ``"mean_squared_error"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Example:

    >>> fg.losses.MeanSquaredError()([[0.0, 1.0]], fg.tensor([[1.0, 1.0]])).item()
    0.5
    """

    def __init__(
        self, name: str = "mean_squared_error", reduction: str = "sum_over_batch_size"
    ) -> None:
        super().__init__({"name": "mean_squared_error"}, name, reduction)


class MeanAbsoluteError(Loss):
    """The mean of the absolute errors: ``mean(abs(y_true - y_pred))``.

    Args:
        name: The name of the loss. Defaults to ``"mean_absolute_error"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Example:

    >>> fg.losses.MeanAbsoluteError()([[0.0, 1.0]], fg.tensor([[1.0, 0.0]])).item()
    1.0
    """

    def __init__(
        self, name: str = "mean_absolute_error", reduction: str = "sum_over_batch_size"
    ) -> None:
        super().__init__({"name": "mean_absolute_error"}, name, reduction)


class Huber(Loss):
    """The Huber loss: ``0.5 * e**2`` for errors ``|e| <= delta``, ``delta * (|e| - delta / 2)``
    beyond, averaged.

    Args:
        delta: Where the loss turns from quadratic to linear. Defaults to ``1.0``.
        name: The name of the loss. Defaults to ``"huber"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Example:

    >>> round(fg.losses.Huber()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).item(), 3)
    0.155
    """

    def __init__(
        self, delta: float = 1.0, name: str = "huber", reduction: str = "sum_over_batch_size"
    ) -> None:
        super().__init__({"name": "huber", "delta": float(delta)}, name, reduction)


class BinaryCrossentropy(Loss):
    """Binary cross-entropy, for 0/1 labels (one or several per sample):
    ``-mean(y * log(p) + (1 - y) * log(1 - p))``.

    Args:
        from_logits: Whether ``y_pred`` holds logits (any real number) rather than
            probabilities. Defaults to ``False``; ``True`` is more stable.
        label_smoothing: In ``[0, 1]``: labels are squeezed towards 0.5, to
            ``y * (1 - label_smoothing) + 0.5 * label_smoothing``. Defaults to ``0.0``.
        name: The name of the loss. Defaults to ``"binary_crossentropy"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Labels of shape ``(N,)`` against predictions of shape ``(N, 1)`` are accepted.

    Example:

    >>> bce = fg.losses.BinaryCrossentropy()
    >>> round(bce([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).item(), 3)
    0.815
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        name: str = "binary_crossentropy",
        reduction: str = "sum_over_batch_size",
    ) -> None:
        super().__init__(
            {
                "name": "binary_crossentropy",
                "from_logits": bool(from_logits),
                "label_smoothing": float(label_smoothing),
            },
            name,
            reduction,
        )


class CategoricalCrossentropy(Loss):
    """Categorical cross-entropy, for one-hot (or soft) labels: ``-sum(y * log(p))`` over
    the classes (the last axis).

    Args:
        from_logits: Whether ``y_pred`` holds logits rather than probabilities. Defaults to
            ``False``: probabilities are divided by their sum and clipped to
            ``[1e-7, 1 - 1e-7]``. ``True`` fuses the softmax in, stably.
        label_smoothing: In ``[0, 1]``: labels become
            ``y * (1 - label_smoothing) + label_smoothing / num_classes``. Defaults to ``0.0``.
        name: The name of the loss. Defaults to ``"categorical_crossentropy"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Example:

    >>> cce = fg.losses.CategoricalCrossentropy()
    >>> round(cce([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).item(), 3)
    1.177
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        name: str = "categorical_crossentropy",
        reduction: str = "sum_over_batch_size",
    ) -> None:
        super().__init__(
            {
                "name": "categorical_crossentropy",
                "from_logits": bool(from_logits),
                "label_smoothing": float(label_smoothing),
            },
            name,
            reduction,
        )


class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy for integer labels: ``-log(p[label])``.

    Args:
        from_logits: Whether ``y_pred`` holds logits rather than probabilities. Defaults to
            ``False``.
        name: The name of the loss. Defaults to ``"sparse_categorical_crossentropy"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Labels have shape ``(N,)`` or ``(N, 1)`` against predictions of shape ``(N, classes)``,
    and must be integers in ``[0, classes)`` (a ``ValueError`` names the first one that is
    not).

    Example:

    >>> scce = fg.losses.SparseCategoricalCrossentropy()
    >>> round(scce([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).item(), 3)
    1.177
    """

    def __init__(
        self,
        from_logits: bool = False,
        name: str = "sparse_categorical_crossentropy",
        reduction: str = "sum_over_batch_size",
    ) -> None:
        super().__init__(
            {"name": "sparse_categorical_crossentropy", "from_logits": bool(from_logits)},
            name,
            reduction,
        )


def _per_sample(config: dict[str, Any], y_true: Any, y_pred: Any) -> Tensor:
    return _core.Loss(json.dumps(config)).compute(y_true, y_pred, "none")


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """The mean squared error of each sample, ``mean(square(y_true - y_pred), axis=-1)``.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.
    """
    return _per_sample({"name": "mean_squared_error"}, y_true, y_pred)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """The mean absolute error of each sample, ``mean(abs(y_true - y_pred), axis=-1)``.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.
    """
    return _per_sample({"name": "mean_absolute_error"}, y_true, y_pred)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """The Huber loss of each sample (see `Huber`)."""
    return _per_sample({"name": "huber", "delta": float(delta)}, y_true, y_pred)


def binary_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    """The binary cross-entropy of each sample, averaged over the last axis
    (see `BinaryCrossentropy`).

    Example:

    >>> fg.losses.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).shape
    (2,)
    """
    config = {
        "name": "binary_crossentropy",
        "from_logits": bool(from_logits),
        "label_smoothing": float(label_smoothing),
    }
    return _per_sample(config, y_true, y_pred)


def categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    """The categorical cross-entropy of each sample (see `CategoricalCrossentropy`)."""
    config = {
        "name": "categorical_crossentropy",
        "from_logits": bool(from_logits),
        "label_smoothing": float(label_smoothing),
    }
    return _per_sample(config, y_true, y_pred)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> Tensor:
    """The sparse categorical cross-entropy of each sample (see
    `SparseCategoricalCrossentropy`)."""
    config = {"name": "sparse_categorical_crossentropy", "from_logits": bool(from_logits)}
    return _per_sample(config, y_true, y_pred)


mse = mean_squared_error
mae = mean_absolute_error
bce = binary_crossentropy

_CLASSES: dict[str, Any] = {  # name -> Loss subclass
    "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}

_FUNCTIONS: dict[Callable[..., Tensor], str] = {
    mean_squared_error: "mean_squared_error",
    mean_absolute_error: "mean_absolute_error",
    huber: "huber",
    binary_crossentropy: "binary_crossentropy",
    categorical_crossentropy: "categorical_crossentropy",
    sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
}


def _from_core(core: Any, name: str | None = None) -> Loss:
    config = json.loads(core.to_json())
    kind = config.pop("name")
    if name is not None:
        config["name"] = name
    return _CLASSES[kind](**config)


def get(identifier: Any) -> Loss | None:
    """The loss an identifier names.

    Args:
        identifier: A `Loss` (returned as is); a name or alias (``"mse"``, ``"mae"``,
            ``"bce"``, ``"binary_crossentropy"``, ...) or class name (``"Huber"``); a config
            dict, either Keras's ``{"class_name": "BinaryCrossentropy", "config": {...}}`` or
            the core's ``{"name": "binary_crossentropy", "from_logits": True}``; one of this
            module's loss functions; or ``None`` (returned as is).

    Returns:
        A `Loss` instance (with default parameters for a name).

    Example:

    >>> fg.losses.get("bce")
    BinaryCrossentropy(from_logits=False, label_smoothing=0.0)
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        by_class = {cls.__name__: cls for cls in _CLASSES.values()}
        if identifier in by_class:
            return by_class[identifier]()
        return _from_core(_core.Loss.from_name(identifier))
    if isinstance(identifier, dict):
        if "class_name" in identifier:
            class_name = identifier["class_name"]
            classes = {cls.__name__: cls for cls in _CLASSES.values()}
            if class_name not in classes:
                raise ValueError(
                    f"unknown loss class {class_name!r}; known classes: "
                    f"{', '.join(sorted(classes))}"
                )
            return classes[class_name].from_config(dict(identifier.get("config") or {}))
        return _from_core(_core.Loss(json.dumps(identifier)))
    if callable(identifier) and identifier in _FUNCTIONS:
        return _CLASSES[_FUNCTIONS[identifier]]()
    raise ValueError(
        f"cannot interpret {identifier!r} as a loss; pass a Loss instance, a name (one of "
        f"{', '.join(sorted(_NAMES))}) or a config dict"
    )


_NAMES = (
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "binary_crossentropy",
    "bce",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "huber",
)


def serialize(loss: Loss) -> dict[str, Any]:
    """Keras's form of a loss's config: ``{"class_name": ..., "config": {...}}``."""
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict[str, Any]) -> Loss:
    """The loss of a config written by `serialize` (or any form `get` accepts)."""
    loss = get(config)
    if loss is None:
        raise ValueError("cannot deserialize None as a loss")
    return loss


__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Huber",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "bce",
    "binary_crossentropy",
    "categorical_crossentropy",
    "deserialize",
    "get",
    "huber",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "serialize",
    "sparse_categorical_crossentropy",
]
