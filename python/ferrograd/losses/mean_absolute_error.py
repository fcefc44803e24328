"""The mean absolute error: ``mean(abs(y_true - y_pred))``."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """The mean absolute error of each sample, ``mean(abs(y_true - y_pred), axis=-1)``.

    ``mae`` is the same function.

    Args:
        y_true: The targets: a tensor, numpy array or list.
        y_pred: The predictions, of the same shape.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.

    Examples:
        >>> fg.losses.mean_absolute_error([[0.0, 1.0]], [[1.0, 0.0]]).numpy().tolist()
        [1.0]
    """
    return per_sample({"name": "mean_absolute_error"}, y_true, y_pred)


mae = mean_absolute_error


class MeanAbsoluteError(
    Loss, registered_as="mean_absolute_error", function=mean_absolute_error, aliases=("mae",)
):
    """The mean of the absolute errors: ``mean(abs(y_true - y_pred))``.

    Args:
        name: The name of the loss. Defaults to ``"mean_absolute_error"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.MeanAbsoluteError()([[0.0, 1.0]], fg.tensor([[1.0, 0.0]])).item()
    1.0
    """

    def __init__(
        self, name: str = "mean_absolute_error", reduction: str = "sum_over_batch_size"
    ) -> None:
        super().__init__({"name": "mean_absolute_error"}, name, reduction)
