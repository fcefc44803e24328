"""Keras's rule for ``"accuracy"`` / ``"acc"``, which mean binary, sparse categorical or
categorical accuracy depending on the shapes of the labels and predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ferrograd import _core


def resolve_accuracy(
    y_true_shape: Sequence[int], y_pred_shape: Sequence[int], loss: Any = None
) -> str:
    """The metric that ``"accuracy"`` means for labels and predictions of these shapes, by
    Keras's rule: ``"binary_accuracy"`` when the predictions' last dimension is 1;
    ``"sparse_categorical_accuracy"`` when the labels have a lower rank than the predictions,
    or a last dimension of 1 against several classes; ``"categorical_accuracy"`` otherwise.

    Args:
        y_true_shape: The shape of the labels (of a batch, or of the whole data).
        y_pred_shape: The shape of the predictions.
        loss: Optional: the loss (a `ferrograd.losses.Loss` or an identifier). With binary
            cross-entropy, accuracy is always binary (multi-label outputs).

    Examples:

    >>> import ferrograd as fg
    >>> fg.metrics.resolve_accuracy((32,), (32, 10))
    'sparse_categorical_accuracy'
    """
    core_loss = None
    if loss is not None:
        from ferrograd import losses

        resolved = losses.get(loss)
        core_loss = None if resolved is None else resolved._core
    return _core.resolve_accuracy(
        [int(d) for d in y_true_shape], [int(d) for d in y_pred_shape], core_loss
    )
