"""The mean squared error: ``mean(square(y_true - y_pred))``."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """The mean squared error of each sample, ``mean(square(y_true - y_pred), axis=-1)``.

    ``mse`` is the same function.

    Args:
        y_true: The targets: a tensor, numpy array or list.
        y_pred: The predictions, of the same shape.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.

    Examples:
        >>> fg.losses.mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]]).numpy().tolist()
        [0.5]
    """
    return per_sample({"name": "mean_squared_error"}, y_true, y_pred)


mse = mean_squared_error


class MeanSquaredError(
    Loss, registered_as="mean_squared_error", function=mean_squared_error, aliases=("mse",)
):
    """The mean of the squared errors: ``mean(square(y_true - y_pred))``.

    Args:
        name: The name of the loss. Defaults to ``"mean_squared_error"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.MeanSquaredError()([[0.0, 1.0]], fg.tensor([[1.0, 1.0]])).item()
    0.5
    """

    def __init__(
        self, name: str = "mean_squared_error", reduction: str = "sum_over_batch_size"
    ) -> None:
        super().__init__({"name": "mean_squared_error"}, name, reduction)
