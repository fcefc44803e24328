"""The hinge loss: ``mean(maximum(1 - y_true * y_pred, 0))``."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Each sample's loss under `Hinge`: the hinge loss: ``mean(maximum(1 - y_true * y_pred, 0))``.

    Args:
        y_true: The targets.
        y_pred: The predictions.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.hinge([[0.0, 1.0]], [[0.6, 0.4]]).numpy().round(4).tolist()
    [1.1]
    """
    return per_sample({"name": "hinge"}, y_true, y_pred)


class Hinge(Loss, registered_as="hinge", function=hinge):
    """The hinge loss: ``mean(maximum(1 - y_true * y_pred, 0))``.

    Labels are expected to be -1 or 1; when every label of a batch is 0 or 1 they are converted
    to -1 and 1 first, as Keras does (decided per block of rows of the Rust kernel, tens of
    thousands of values: a batch mixing rows of 0/1 labels with rows of other labels can
    differ from Keras).

    Args:
        name: The name of the loss. Defaults to ``"hinge"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> round(fg.losses.Hinge()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).item(), 4)
    1.3
    """

    def __init__(self, name: str = "hinge", reduction: str = "sum_over_batch_size") -> None:
        super().__init__({"name": "hinge"}, name, reduction)
