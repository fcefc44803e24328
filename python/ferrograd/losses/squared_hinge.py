"""The squared hinge loss: ``mean(square(maximum(1 - y_true * y_pred, 0)))``."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """The loss of each sample under `SquaredHinge`.

    The squared hinge loss: ``mean(square(maximum(1 - y_true * y_pred, 0)))``.

    Args:
        y_true: The targets.
        y_pred: The predictions.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.squared_hinge([[0.0, 1.0]], [[0.6, 0.4]]).numpy().round(4).tolist()
    [1.46]
    """
    return per_sample({"name": "squared_hinge"}, y_true, y_pred)


class SquaredHinge(Loss, registered_as="squared_hinge", function=squared_hinge):
    """The squared hinge loss: ``mean(square(maximum(1 - y_true * y_pred, 0)))``.

    Labels are expected to be -1 or 1; labels of 0 and 1 are converted as ``Hinge`` does.

    Args:
        name: The name of the loss. Defaults to ``"squared_hinge"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> round(fg.losses.SquaredHinge()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).item(), 4)
    1.86
    """

    def __init__(self, name: str = "squared_hinge", reduction: str = "sum_over_batch_size") -> None:
        super().__init__({"name": "squared_hinge"}, name, reduction)
