"""Sparse categorical cross-entropy, for integer class labels."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> Tensor:
    """The sparse categorical cross-entropy of each sample (see
    `SparseCategoricalCrossentropy`).

    Args:
        y_true: The integer class labels.
        y_pred: The predictions: probabilities, or logits with ``from_logits=True``.
        from_logits: Whether ``y_pred`` holds logits. Defaults to ``False``.

    Examples:

    >>> import ferrograd as fg
    >>> loss = fg.losses.sparse_categorical_crossentropy([1], [[0.05, 0.95, 0]])
    >>> round(float(loss.numpy()[0]), 4)
    0.0513
    """
    config = {"name": "sparse_categorical_crossentropy", "from_logits": bool(from_logits)}
    return per_sample(config, y_true, y_pred)


class SparseCategoricalCrossentropy(
    Loss,
    registered_as="sparse_categorical_crossentropy",
    function=sparse_categorical_crossentropy,
):
    """Categorical cross-entropy for integer labels: ``-log(p[label])``.

    Args:
        from_logits: Whether ``y_pred`` holds logits rather than probabilities. Defaults to
            ``False``.
        name: The name of the loss. Defaults to ``"sparse_categorical_crossentropy"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Labels have shape ``(N,)`` or ``(N, 1)`` against predictions of shape ``(N, classes)``,
    and must be integers in ``[0, classes)`` (a ``ValueError`` names the first one that is
    not).

    Examples:

    >>> import ferrograd as fg
    >>> scce = fg.losses.SparseCategoricalCrossentropy()
    >>> round(scce([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).item(), 3)
    1.177
    """

    def __init__(
        self,
        from_logits: bool = False,
        name: str = "sparse_categorical_crossentropy",
        reduction: str = "sum_over_batch_size",
    ) -> None:
        super().__init__(
            {"name": "sparse_categorical_crossentropy", "from_logits": bool(from_logits)},
            name,
            reduction,
        )
