"""``Multiply`` and ``multiply``: the elementwise product of its inputs."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Multiply(Layer):
    """Merges a list of inputs into the elementwise product of its inputs.

    Args:
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.Multiply()([a, b]).shape
        (None, 4)
    """

    kind = "Multiply"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


def multiply(inputs, **kwargs):
    """The functional form of ``Multiply``: ``Multiply(**kwargs)(inputs)``.

    Args:
        inputs: a list of input tensors (symbolic or values).
        **kwargs: the layer's arguments (``name``, ...).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.multiply([a, b]).shape
        (None, 4)
    """
    return Multiply(**kwargs)(inputs)
