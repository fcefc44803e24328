"""The Keras views of weights (``weights``, ``trainable_weights``...) and checked assignment of
new values, shared by layers and models."""

from __future__ import annotations

import numpy as np

from ferrograd import _core


class WeightViews:
    """The Keras views of an object's weights, from its ``_weight_entries()``: a list of
    ``(name, tensor, trainable)``. Shared by layers and models.

    Args:
        None: a subclass supplies ``_weight_entries``.

    Examples:
        >>> layer = layers.Dense(2)
        >>> _ = layer(np.ones((1, 3), dtype="float32"))
        >>> [tuple(w.shape) for w in layer.trainable_weights]
        [(3, 2), (2,)]
    """

    def _weight_entries(self) -> list:
        raise NotImplementedError

    @property
    def weights(self) -> list:
        """Every weight, trainable or not."""
        return [tensor for _, tensor, _ in self._weight_entries()]

    @property
    def trainable_weights(self) -> list:
        """The weights training updates."""
        return [tensor for _, tensor, trainable in self._weight_entries() if trainable]

    @property
    def non_trainable_weights(self) -> list:
        """The weights training leaves alone (frozen layers, moving statistics)."""
        return [tensor for _, tensor, trainable in self._weight_entries() if not trainable]

    trainable_variables = trainable_weights
    variables = weights


def set_tensor_values(tensors, values, owner: str) -> None:
    """Copies numpy ``values`` into ``tensors`` after checking every count and shape, so that a
    mismatch changes nothing.

    Args:
        tensors: the weights to overwrite.
        values: one array-like per weight, in the same order.
        owner: how error messages name the weights' owner (``"layer 'dense'"``).

    Raises:
        ValueError: the counts or a shape differ; no weight has changed then.

    Examples:
        >>> layer = layers.Dense(1)
        >>> _ = layer(np.ones((1, 2), dtype="float32"))
        >>> set_tensor_values(layer.weights, [np.ones((2, 1)), np.zeros(1)], "layer 'dense'")
    """
    values = list(values)
    if len(values) != len(tensors):
        raise ValueError(f"{owner} expects {len(tensors)} weight arrays, received {len(values)}")
    arrays = []
    for tensor, value in zip(tensors, values, strict=True):
        array = np.asarray(value)
        if tuple(array.shape) != tuple(tensor.shape):
            raise ValueError(
                f"{owner}: a weight of shape {tuple(tensor.shape)} cannot take a value of shape "
                f"{tuple(array.shape)}"
            )
        arrays.append(array)
    for tensor, array in zip(tensors, arrays, strict=True):
        _core.assign(tensor, array)
