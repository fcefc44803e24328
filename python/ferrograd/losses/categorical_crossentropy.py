"""Categorical cross-entropy, for one-hot (or soft) labels."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    """Each sample's loss under `CategoricalCrossentropy`: the categorical cross-entropy.

    Args:
        y_true: The one-hot (or soft) labels, classes last.
        y_pred: The predictions: probabilities, or logits with ``from_logits=True``.
        from_logits: Whether ``y_pred`` holds logits. Defaults to ``False``.
        label_smoothing: In ``[0, 1]``. Defaults to ``0.0``.

    Examples:

    >>> import ferrograd as fg
    >>> loss = fg.losses.categorical_crossentropy([[0, 1, 0]], [[0.05, 0.95, 0]])
    >>> round(float(loss.numpy()[0]), 4)
    0.0513
    """
    config = {
        "name": "categorical_crossentropy",
        "from_logits": bool(from_logits),
        "label_smoothing": float(label_smoothing),
    }
    return per_sample(config, y_true, y_pred)


class CategoricalCrossentropy(
    Loss, registered_as="categorical_crossentropy", function=categorical_crossentropy
):
    """Categorical cross-entropy, for one-hot (or soft) labels: ``-sum(y * log(p))`` over
    the classes (the last axis).

    Args:
        from_logits: Whether ``y_pred`` holds logits rather than probabilities. Defaults to
            ``False``: probabilities are divided by their sum and clipped to
            ``[1e-7, 1 - 1e-7]``. ``True`` fuses the softmax in, stably.
        label_smoothing: In ``[0, 1]``: labels become
            ``y * (1 - label_smoothing) + label_smoothing / num_classes``. Defaults to ``0.0``.
        name: The name of the loss. Defaults to ``"categorical_crossentropy"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> cce = fg.losses.CategoricalCrossentropy()
    >>> round(cce([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).item(), 3)
    1.177
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        name: str = "categorical_crossentropy",
        reduction: str = "sum_over_batch_size",
    ) -> None:
        super().__init__(
            {
                "name": "categorical_crossentropy",
                "from_logits": bool(from_logits),
                "label_smoothing": float(label_smoothing),
            },
            name,
            reduction,
        )
