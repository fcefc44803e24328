"""The mean squared logarithmic error: ``mean(square(log(y_pred + 1) - log(y_true + 1)))``."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """The loss of each sample under `MeanSquaredLogarithmicError`.

    The mean squared logarithmic error: ``mean(square(log(y_pred + 1) - log(y_true + 1)))``.

    Also ``msle``.

    Args:
        y_true: The targets.
        y_pred: The predictions.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.

    Examples:

    >>> import ferrograd as fg
    >>> loss = fg.losses.mean_squared_logarithmic_error([[0.0, 1.0]], [[1.0, 1.0]])
    >>> loss.numpy().round(4).tolist()
    [0.2402]
    """
    return per_sample({"name": "mean_squared_logarithmic_error"}, y_true, y_pred)


msle = mean_squared_logarithmic_error


class MeanSquaredLogarithmicError(
    Loss,
    registered_as="mean_squared_logarithmic_error",
    function=mean_squared_logarithmic_error,
    aliases=("msle",),
):
    """The mean squared logarithmic error: ``mean(square(log(y_pred + 1) - log(y_true + 1)))``.

    Values below ``1e-7`` are taken as ``1e-7`` (``log(maximum(x, 1e-7) + 1)``), as in Keras.

    Args:
        name: The name of the loss. Defaults to ``"mean_squared_logarithmic_error"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> loss = fg.losses.MeanSquaredLogarithmicError()
    >>> round(loss([[0, 1], [0, 0]], [[1.0, 1.0], [0.0, 0.0]]).item(), 4)
    0.1201
    """

    def __init__(
        self, name: str = "mean_squared_logarithmic_error", reduction: str = "sum_over_batch_size"
    ) -> None:
        super().__init__({"name": "mean_squared_logarithmic_error"}, name, reduction)
