"""``Subtract`` and ``subtract``: the first input minus the second (two inputs)."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Subtract(Layer):
    """Merges a list of inputs into the first input minus the second (two inputs).

    Args:
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.Subtract()([a, b]).shape
        (None, 4)
    """

    kind = "Subtract"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


def subtract(inputs, **kwargs):
    """The functional form of ``Subtract``: ``Subtract(**kwargs)(inputs)``.

    Args:
        inputs: a list of input tensors (symbolic or values).
        **kwargs: the layer's arguments (``name``, ...).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.subtract([a, b]).shape
        (None, 4)
    """
    return Subtract(**kwargs)(inputs)
