"""The base class of the losses, and the registry that maps the names used in configs to the
loss classes and functions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor

_REDUCTIONS = ("sum_over_batch_size", "sum", "none")


class Loss:
    """Base class of the losses: a Rust loss (``self._core``) with a name and a reduction, or
    a loss written in Python, as Keras 3 writes them.

    A built-in subclass registers itself under the name of its Rust config, with its function
    form and aliases, so that `ferrograd.losses.get` finds it:
    ``class Huber(Loss, registered_as="huber", function=huber)``.

    A user's subclass calls ``super().__init__(name=..., reduction=...)`` and defines
    ``call(self, y_true, y_pred)``, giving one loss value per sample with differentiable
    tensor ops (``fg.ops``); calling the loss reduces them. It trains with
    ``compile(run_eagerly=True)`` or in a ``train_step``.

    Args:
        config: The loss's config as the Rust core reads it, e.g.
            ``{"name": "binary_crossentropy", "from_logits": True}``; None (default) for a
            loss written in Python (a subclass with ``call``).
        name: The name of the loss. Defaults to the Keras snake_case name.
        reduction: How per-sample losses are combined when the loss is called:
            ``"sum_over_batch_size"`` (their mean, the default), ``"sum"`` or ``"none"``.
            Training with ``fit`` always uses the mean.
        dtype: accepted for Keras compatibility (the loss computes in the predictions'
            dtype).

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.Loss({"name": "huber", "delta": 2.0}).get_config()["delta"]
    2.0

    A loss written in Python:

    >>> class MeanFourth(fg.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return fg.ops.mean(fg.ops.square(fg.ops.square(y_pred - y_true)), axis=-1)
    >>> y_pred = fg.tensor([[1.0], [2.0]], requires_grad=True)
    >>> loss = MeanFourth()([[0.0], [0.0]], y_pred)
    >>> loss.item()
    8.5
    >>> loss.backward()
    >>> y_pred.grad.numpy().ravel().tolist()
    [2.0, 16.0]
    """

    # The registered classes by the name of their Rust config, and the loss functions (and
    # their aliases) by function.
    _classes: ClassVar[dict[str, type[Loss]]] = {}
    _functions: ClassVar[dict[Callable[..., Tensor], str]] = {}
    _aliases: ClassVar[list[str]] = []

    def __init_subclass__(
        cls,
        registered_as: str | None = None,
        function: Callable[..., Tensor] | None = None,
        aliases: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if registered_as is None:
            return
        Loss._classes[registered_as] = cls
        if function is not None:
            Loss._functions[function] = registered_as
        Loss._aliases.extend(aliases)

    def __init__(
        self,
        config: dict[str, Any] | None = None,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        if isinstance(config, str) and name is None:
            # Keras's own order is `Loss(name=None, reduction=..., dtype=None)`.
            config, name = None, config
        reduction = "none" if reduction is None else reduction
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"reduction must be one of {', '.join(map(repr, _REDUCTIONS))}. "
                f"Received: reduction={reduction!r}"
            )
        self.reduction = reduction
        self.dtype = dtype
        if config is None:
            self._core = None
            default = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type(self).__name__).lower()
            self.name = default if name is None else str(name)
            return
        self._core = _core.Loss(json.dumps(config))
        self.name = self._core.name if name is None else str(name)

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """The loss of each sample: what a loss written in Python defines.

        Args:
            y_true: The targets.
            y_pred: The predictions (a tensor that records its graph in training).

        Returns:
            One value per sample (a tensor of shape ``(batch,)``, or any shape whose first
            axis is the batch).

        Examples:
            >>> fg.losses.MeanSquaredError().call([[0.0, 2.0]], fg.tensor([[0.0, 0.0]]))
            tensor([2.], shape=(1,), dtype=float32)
        """
        if self._core is None:
            raise NotImplementedError(
                f"{type(self).__name__} is a Loss written in Python: it must define "
                "call(self, y_true, y_pred)"
            )
        return self._core.compute(y_true, y_pred, "none")

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The loss of ``y_pred`` against ``y_true``.

        Args:
            y_true: The targets: a tensor, numpy array or list, converted to ``y_pred``'s dtype.
            y_pred: The predictions: a tensor (the loss is then differentiable with respect to
                it), or an array-like for a plain value.
            sample_weight: None, or weights of the samples' losses (one per sample, or one per
                loss value); as Keras 3's "sum_over_batch_size", the weighted sum is divided by
                the number of loss values, not by the sum of the weights.

        Returns:
            A scalar tensor, or one value per sample when ``reduction="none"``.
        """
        if self._core is not None and sample_weight is None:
            return self._core.compute(y_true, y_pred, self.reduction)
        return reduce_weighted(self.call(y_true, y_pred), sample_weight, self.reduction)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as Keras writes them."""
        config = {} if self._core is None else json.loads(self._core.to_json())
        config["name"] = self.name
        config["reduction"] = self.reduction
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """The loss of the constructor arguments that ``get_config`` returns.

        Args:
            config: the dict ``get_config`` returned.

        Returns:
            A new loss of this class.

        Examples:
            >>> loss = fg.losses.BinaryCrossentropy(from_logits=True)
            >>> copy = fg.losses.BinaryCrossentropy.from_config(loss.get_config())
            >>> copy.get_config()["from_logits"]
            True
        """
        return cls(**config)

    def __repr__(self) -> str:
        params = {k: v for k, v in self.get_config().items() if k not in ("name", "reduction")}
        args = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{type(self).__name__}({args})"


def per_sample(config: dict[str, Any], y_true: Any, y_pred: Any) -> Tensor:
    """The loss of each sample under the Rust config ``config`` (the loss functions' form).

    Examples:

    >>> per_sample({"name": "mean_squared_error"}, [[0.0, 1.0]], [[1.0, 1.0]]).shape
    (1,)
    """
    return _core.Loss(json.dumps(config)).compute(y_true, y_pred, "none")


def reduce_weighted(values: Any, sample_weight: Any, reduction: str) -> Tensor:
    """Per-sample loss values weighted and reduced as Keras 3 does: ``"sum_over_batch_size"``
    divides the weighted sum by the number of values (not by the sum of the weights),
    ``"sum"`` sums, ``"none"`` returns the weighted values.

    Args:
        values: the loss values (a tensor, differentiable), batch axis first.
        sample_weight: None, or weights of shape ``(batch,)``, ``(batch, 1)`` or the values'.
        reduction: ``"sum_over_batch_size"``, ``"sum"`` or ``"none"``.

    Examples:
        >>> reduce_weighted(fg.tensor([1.0, 3.0]), [1.0, 0.5], "sum_over_batch_size").item()
        1.25
    """
    if not isinstance(values, Tensor):
        values = _core.tensor(np.asarray(values, dtype="float32"))
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=values.dtype)
        shape = tuple(values.shape)
        if weights.shape != shape:
            while weights.ndim > len(shape) and weights.shape[-1] == 1:
                weights = weights[..., 0]
            if weights.ndim < len(shape):
                weights = weights.reshape(weights.shape + (1,) * (len(shape) - weights.ndim))
            try:
                weights = np.broadcast_to(weights, shape)
            except ValueError:
                raise ValueError(
                    f"sample_weight of shape {np.shape(sample_weight)} does not match loss "
                    f"values of shape {shape}"
                ) from None
        values = values * _core.tensor(np.ascontiguousarray(weights))
    if reduction == "none":
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    return total / max(int(np.prod(values.shape)), 1)
