"""Binary cross-entropy, for 0/1 labels (one or several per sample)."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def binary_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    """The binary cross-entropy of each sample, averaged over the last axis
    (see `BinaryCrossentropy`).

    Args:
        y_true: The 0/1 labels.
        y_pred: The predictions: probabilities, or logits with ``from_logits=True``.
        from_logits: Whether ``y_pred`` holds logits. Defaults to ``False``.
        label_smoothing: In ``[0, 1]``. Defaults to ``0.0``.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).shape
    (2,)
    """
    config = {
        "name": "binary_crossentropy",
        "from_logits": bool(from_logits),
        "label_smoothing": float(label_smoothing),
    }
    return per_sample(config, y_true, y_pred)


bce = binary_crossentropy


class BinaryCrossentropy(
    Loss, registered_as="binary_crossentropy", function=binary_crossentropy, aliases=("bce",)
):
    """Binary cross-entropy, for 0/1 labels (one or several per sample):
    ``-mean(y * log(p) + (1 - y) * log(1 - p))``.

    Args:
        from_logits: Whether ``y_pred`` holds logits (any real number) rather than
            probabilities. Defaults to ``False``; ``True`` is more stable.
        label_smoothing: In ``[0, 1]``: labels are squeezed towards 0.5, to
            ``y * (1 - label_smoothing) + 0.5 * label_smoothing``. Defaults to ``0.0``.
        name: The name of the loss. Defaults to ``"binary_crossentropy"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Labels of shape ``(N,)`` against predictions of shape ``(N, 1)`` are accepted.

    Examples:

    >>> import ferrograd as fg
    >>> bce = fg.losses.BinaryCrossentropy()
    >>> round(bce([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).item(), 3)
    0.815
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        name: str = "binary_crossentropy",
        reduction: str = "sum_over_batch_size",
    ) -> None:
        super().__init__(
            {
                "name": "binary_crossentropy",
                "from_logits": bool(from_logits),
                "label_smoothing": float(label_smoothing),
            },
            name,
            reduction,
        )
