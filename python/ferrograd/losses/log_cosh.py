"""The logarithm of the hyperbolic cosine of the error, averaged over the last axis."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """The loss of each sample under `LogCosh`.

    The logarithm of the hyperbolic cosine of the error, averaged over the last axis.

    Also ``logcosh``.

    Args:
        y_true: The targets.
        y_pred: The predictions.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.log_cosh([[0.0, 0.0]], [[1.0, 0.0]]).numpy().round(4).tolist()
    [0.2169]
    """
    return per_sample({"name": "log_cosh"}, y_true, y_pred)


logcosh = log_cosh


class LogCosh(Loss, registered_as="log_cosh", function=log_cosh, aliases=("logcosh",)):
    """The logarithm of the hyperbolic cosine of the error, averaged over the last axis.

    ``log(cosh(x))`` is about ``x**2 / 2`` for small errors and ``abs(x) - log(2)`` for large
    ones; it is computed as ``x + softplus(-2 * x) - log(2)``, finite for any error.

    Args:
        name: The name of the loss. Defaults to ``"log_cosh"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> round(fg.losses.LogCosh()([[0, 1], [0, 0]], [[1.0, 1.0], [0.0, 0.0]]).item(), 4)
    0.1084
    """

    def __init__(self, name: str = "log_cosh", reduction: str = "sum_over_batch_size") -> None:
        super().__init__({"name": "log_cosh"}, name, reduction)
