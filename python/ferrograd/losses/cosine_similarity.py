"""The cosine similarity loss: ``-sum(l2_normalize(y_true) * l2_normalize(y_pred))``."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def _axis(axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int) or axis != -1:
        raise ValueError(
            f"CosineSimilarity: only axis=-1 (the last axis) is supported. Received: axis={axis!r}"
        )
    return -1


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Each sample's loss under `CosineSimilarity`: the cosine similarity loss.

    Args:
        y_true: The targets.
        y_pred: The predictions.
        axis: The axis of the vectors; only ``-1`` (the default) is supported.

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``, each value in ``[-1, 1]``.

    Examples:

    >>> import ferrograd as fg
    >>> loss = fg.losses.cosine_similarity([[1.0, 0.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]])
    >>> loss.numpy().round(4)
    array([-0.7071, -1.    ])
    """
    return per_sample({"name": "cosine_similarity", "axis": _axis(axis)}, y_true, y_pred)


class CosineSimilarity(Loss, registered_as="cosine_similarity", function=cosine_similarity):
    """The cosine similarity loss: ``-sum(l2_normalize(y_true) * l2_normalize(y_pred))``.

    Between -1 (vectors of the same direction: minimizing it maximizes the similarity) and 1;
    0 for orthogonal vectors or a zero vector. ``l2_normalize(x)`` is
    ``x / sqrt(maximum(sum(x**2), 1e-14))``, as Keras's ``ops.normalize``.

    Args:
        axis: The axis of the vectors; only ``-1`` (the default) is supported: another axis
            raises a ValueError.
        name: The name of the loss. Defaults to ``"cosine_similarity"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> fg.losses.CosineSimilarity()([[0, 1], [1, 1]], [[1, 0], [1, 1]]).item()
    -0.5
    """

    def __init__(
        self,
        axis: int = -1,
        name: str = "cosine_similarity",
        reduction: str = "sum_over_batch_size",
    ) -> None:
        super().__init__({"name": "cosine_similarity", "axis": _axis(axis)}, name, reduction)
