"""The weighted sum of a batch of values, shared by ``Mean`` and ``Sum``."""

from __future__ import annotations

from typing import Any

import numpy as np


def weighted_values(values: Any, sample_weight: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """``values`` and their weights as float64 arrays of the same shape: the weights (one per
    sample, ``(batch,)`` or ``(batch, 1)``, or one per value) broadcast over each sample's
    values, as Keras's reduction metrics do; all ones without ``sample_weight``.

    Examples:
        >>> v, w = weighted_values([[1.0, 2.0], [3.0, 4.0]], [1.0, 0.0], "mean")
        >>> w.tolist()
        [[1.0, 1.0], [0.0, 0.0]]
    """
    values = np.asarray(values, dtype="float64")
    if sample_weight is None:
        return values, np.ones_like(values)
    weights = np.asarray(sample_weight, dtype="float64")
    while weights.ndim > values.ndim and weights.shape[-1] == 1:
        weights = weights[..., 0]
    while (
        values.ndim > weights.ndim
        and weights.ndim > 0
        and (values.shape[: weights.ndim] == weights.shape)
    ):
        weights = weights[..., None]
    try:
        return values, np.broadcast_to(weights, values.shape)
    except ValueError:
        raise ValueError(
            f"{who}: sample_weight of shape {np.shape(sample_weight)} does not match the "
            f"values of shape {values.shape}"
        ) from None
