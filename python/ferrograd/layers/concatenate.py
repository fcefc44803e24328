"""``Concatenate`` and ``concatenate``: joins a list of inputs along one axis."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Concatenate(Layer):
    """Joins a list of inputs along ``axis``; they agree on every other dimension.

    Args:
        axis: the axis to join along (default the last one; not the batch axis).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(3,))
        >>> layers.Concatenate()([a, b]).shape
        (None, 7)
    """

    kind = "Concatenate"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"Concatenate: axis must be an int, received axis={axis!r}")
        self.axis = axis

    def settings(self) -> dict:
        return {"axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    """The functional form of ``Concatenate``: ``Concatenate(axis, **kwargs)(inputs)``.

    Args:
        inputs: a list of input tensors (symbolic or values).
        axis: the axis to join along.
        **kwargs: the layer's arguments (``name``, ...).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(3,))
        >>> layers.concatenate([a, b]).shape
        (None, 7)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)
