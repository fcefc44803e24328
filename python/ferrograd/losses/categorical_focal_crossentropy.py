"""Categorical focal cross-entropy (Lin et al., 2018)."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor
from ferrograd.losses.loss import Loss, per_sample


def _config(alpha: Any, gamma: Any, from_logits: Any, label_smoothing: Any, axis: Any) -> dict:
    if isinstance(axis, bool) or not isinstance(axis, int) or axis != -1:
        raise ValueError(
            "CategoricalFocalCrossentropy: only axis=-1 (the class axis last) is supported. "
            f"Received: axis={axis!r}"
        )
    return {
        "name": "categorical_focal_crossentropy",
        "alpha": float(alpha),
        "gamma": float(gamma),
        "from_logits": bool(from_logits),
        "label_smoothing": float(label_smoothing),
    }


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """The loss of each sample under `CategoricalFocalCrossentropy`.

    The categorical focal cross-entropy.

    Args:
        y_true: One-hot (or soft) labels.
        y_pred: Probabilities, or logits with ``from_logits=True``.
        alpha: The weight of the terms. Defaults to ``0.25``.
        gamma: The focusing exponent, ``>= 0``. Defaults to ``2.0``.
        from_logits: Whether ``y_pred`` holds logits. Defaults to ``False``.
        label_smoothing: In ``[0, 1]``. Defaults to ``0.0``.
        axis: The class axis; only ``-1`` (the default).

    Returns:
        A tensor of shape ``y_pred.shape[:-1]``.

    Examples:

    >>> import ferrograd as fg
    >>> y_true = [[0, 1, 0], [0, 0, 1]]
    >>> y_pred = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]
    >>> fg.losses.categorical_focal_crossentropy(y_true, y_pred).numpy().round(4).tolist()
    [0.0, 0.4663]
    """
    config = _config(alpha, gamma, from_logits, label_smoothing, axis)
    return per_sample(config, y_true, y_pred)


class CategoricalFocalCrossentropy(
    Loss, registered_as="categorical_focal_crossentropy", function=categorical_focal_crossentropy
):
    """Categorical focal cross-entropy: ``sum(alpha * (1 - p)**gamma * -y * log(p))`` over the
    classes (the last axis).

    The focal factor ``(1 - p)**gamma`` down-weights well-classified samples, so that training
    focuses on the hard ones. As in Keras, labels are smoothed to
    ``y * (1 - label_smoothing) + label_smoothing / num_classes``, probabilities are divided by
    their sum and clipped to ``[1e-7, 1 - 1e-7]`` (logits are softmaxed first).

    Args:
        alpha: The weight of the terms. Defaults to ``0.25``.
        gamma: The focusing exponent, ``>= 0``; ``0`` gives ``alpha`` times the categorical
            cross-entropy. Defaults to ``2.0``.
        from_logits: Whether ``y_pred`` holds logits rather than probabilities. Defaults to
            ``False``.
        label_smoothing: In ``[0, 1]``. Defaults to ``0.0``.
        axis: The class axis; only ``-1`` (the default) is supported.
        name: The name of the loss. Defaults to ``"categorical_focal_crossentropy"``.
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"`` or ``"none"``.

    Examples:

    >>> import ferrograd as fg
    >>> loss = fg.losses.CategoricalFocalCrossentropy()
    >>> round(loss([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).item(), 4)
    0.2332
    """

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        name: str = "categorical_focal_crossentropy",
        reduction: str = "sum_over_batch_size",
    ) -> None:
        super().__init__(_config(alpha, gamma, from_logits, label_smoothing, axis), name, reduction)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as Keras writes them (with ``axis=-1``)."""
        return {**super().get_config(), "axis": -1}
