"""The Kullback-Leibler divergence: ``sum(y_true * log(y_true / y_pred))``."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """The loss of each sample under `KLDivergence`.

    The Kullback-Leibler divergence: ``sum(y_true * log(y_true / y_pred))``.

    Also ``kld`` and ``kullback_leibler_divergence``.

    Args:
        y_true: The targets.
        y_pred: The predictions.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.kl_divergence([[0.0, 1.0]], [[0.5, 0.5]]).numpy().round(4).tolist()
    [0.6931]
    """
    return per_sample({"name": "kl_divergence"}, y_true, y_pred)


kld = kl_divergence
kullback_leibler_divergence = kl_divergence


class KLDivergence(
    Loss,
    registered_as="kl_divergence",
    function=kl_divergence,
    aliases=("kld", "kullback_leibler_divergence"),
):
    """The Kullback-Leibler divergence: ``sum(y_true * log(y_true / y_pred))``.

    ``y_true`` and ``y_pred`` are clipped to ``[1e-7, 1]`` first, and the terms are summed (not
    averaged) over the last axis, as in Keras. For probabilities inside that range this is
    ``torch.nn.functional.kl_div(log(y_pred), y_true, reduction="batchmean")`` on a 2-D batch.

    Args:
        name: The name of the loss. Defaults to ``"kl_divergence"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> round(fg.losses.KLDivergence()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).item(), 4)
    0.4581
    """

    def __init__(self, name: str = "kl_divergence", reduction: str = "sum_over_batch_size") -> None:
        super().__init__({"name": "kl_divergence"}, name, reduction)
