"""The Huber loss: quadratic for small errors, linear for large ones."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Each sample's loss under `Huber`: the Huber loss.

    Args:
        y_true: The targets.
        y_pred: The predictions.
        delta: Where the loss turns from quadratic to linear. Defaults to ``1.0``.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.huber([[0.0, 1.0]], [[0.5, 3.0]]).numpy().tolist()
    [0.8125]
    """
    return per_sample({"name": "huber", "delta": float(delta)}, y_true, y_pred)


class Huber(Loss, registered_as="huber", function=huber):
    """The Huber loss: ``0.5 * e**2`` for errors ``|e| <= delta``, ``delta * (|e| - delta / 2)``
    beyond, averaged.

    Args:
        delta: Where the loss turns from quadratic to linear. Defaults to ``1.0``.
        name: The name of the loss. Defaults to ``"huber"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> round(fg.losses.Huber()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).item(), 3)
    0.155
    """

    def __init__(
        self, delta: float = 1.0, name: str = "huber", reduction: str = "sum_over_batch_size"
    ) -> None:
        super().__init__({"name": "huber", "delta": float(delta)}, name, reduction)
