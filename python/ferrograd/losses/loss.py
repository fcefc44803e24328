"""The base class of the losses, and the registry that maps the names used in configs to the
loss classes and functions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from ferrograd import _core
from ferrograd._core import Tensor

_REDUCTIONS = ("sum_over_batch_size", "sum", "none")


class Loss:
    """Base class of the losses: a Rust loss (``self._core``) with a name and a reduction.

    A subclass registers itself under the name of its Rust config, with its function form and
    aliases, so that `ferrograd.losses.get` finds it:
    ``class Huber(Loss, registered_as="huber", function=huber)``.

    Args:
        config: The loss's config as the Rust core reads it, e.g.
            ``{"name": "binary_crossentropy", "from_logits": True}``.
        name: The name of the loss. Defaults to the Keras snake_case name.
        reduction: How per-sample losses are combined when the loss is called:
            ``"sum_over_batch_size"`` (their mean, the default), ``"sum"`` or ``"none"``.
            Training with ``fit`` always uses the mean.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.Loss({"name": "huber", "delta": 2.0}).get_config()["delta"]
    2.0
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
