"""``Minimum`` and ``minimum``: the elementwise minimum of its inputs."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Minimum(Layer):
    """Merges a list of inputs into the elementwise minimum of its inputs.

    Args:
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.Minimum()([a, b]).shape
        (None, 4)
    """

    kind = "Minimum"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


def minimum(inputs, **kwargs):
    """The functional form of ``Minimum``: ``Minimum(**kwargs)(inputs)``.

    Args:
        inputs: a list of input tensors (symbolic or values).
        **kwargs: the layer's arguments (``name``, ...).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.minimum([a, b]).shape
        (None, 4)
    """
    return Minimum(**kwargs)(inputs)
