"""The Poisson loss: ``mean(y_pred - y_true * log(y_pred + 1e-7))``."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """The loss of each sample under `Poisson`.

    The Poisson loss: ``mean(y_pred - y_true * log(y_pred + 1e-7))``.

    Args:
        y_true: The targets.
        y_pred: The predictions.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.poisson([[0.0, 1.0]], [[1.0, 1.0]]).numpy().round(4).tolist()
    [1.0]
    """
    return per_sample({"name": "poisson"}, y_true, y_pred)


class Poisson(Loss, registered_as="poisson", function=poisson):
    """The Poisson loss: ``mean(y_pred - y_true * log(y_pred + 1e-7))``.

    The negative log-likelihood of Poisson counts ``y_true`` of mean ``y_pred`` (without the
    constant ``log(y_true!)``), averaged over the last axis. ``torch.nn.functional.
    poisson_nll_loss(y_pred, y_true, log_input=False, eps=1e-7)`` is the same value averaged
    over all elements.

    Args:
        name: The name of the loss. Defaults to ``"poisson"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> round(fg.losses.Poisson()([[0, 1], [0, 0]], [[1.0, 1.0], [0.0, 0.6]]).item(), 4)
    0.65
    """

    def __init__(self, name: str = "poisson", reduction: str = "sum_over_batch_size") -> None:
        super().__init__({"name": "poisson"}, name, reduction)
