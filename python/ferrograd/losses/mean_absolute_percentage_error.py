"""The mean absolute percentage error: ``100 * mean(abs((y_true - y_pred) / y_true))``."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """The loss of each sample under `MeanAbsolutePercentageError`.

    The mean absolute percentage error: ``100 * mean(abs((y_true - y_pred) / y_true))``.

    Also ``mape``.

    Args:
        y_true: The targets.
        y_pred: The predictions.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.

    Examples:

    >>> import ferrograd as fg
    >>> loss = fg.losses.mean_absolute_percentage_error([[2.0, 1.0]], [[1.0, 1.0]])
    >>> loss.numpy().round(4).tolist()
    [25.0]
    """
    return per_sample({"name": "mean_absolute_percentage_error"}, y_true, y_pred)


mape = mean_absolute_percentage_error


class MeanAbsolutePercentageError(
    Loss,
    registered_as="mean_absolute_percentage_error",
    function=mean_absolute_percentage_error,
    aliases=("mape",),
):
    """The mean absolute percentage error: ``100 * mean(abs((y_true - y_pred) / y_true))``.

    The denominator is ``maximum(abs(y_true), 1e-7)``, as in Keras.

    Args:
        name: The name of the loss. Defaults to ``"mean_absolute_percentage_error"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> loss = fg.losses.MeanAbsolutePercentageError()
    >>> round(loss([[2, 1], [1, 1]], [[1.0, 1.0], [1.0, 1.0]]).item(), 4)
    12.5
    """

    def __init__(
        self, name: str = "mean_absolute_percentage_error", reduction: str = "sum_over_batch_size"
    ) -> None:
        super().__init__({"name": "mean_absolute_percentage_error"}, name, reduction)
