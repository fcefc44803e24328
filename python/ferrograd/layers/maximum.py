"""``Maximum`` and ``maximum``: the elementwise maximum of its inputs."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Maximum(Layer):
    """Merges a list of inputs into the elementwise maximum of its inputs.

    Args:
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.Maximum()([a, b]).shape
        (None, 4)
    """

    kind = "Maximum"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


def maximum(inputs, **kwargs):
    """The functional form of ``Maximum``: ``Maximum(**kwargs)(inputs)``.

    Args:
        inputs: a list of input tensors (symbolic or values).
        **kwargs: the layer's arguments (``name``, ...).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.maximum([a, b]).shape
        (None, 4)
    """
    return Maximum(**kwargs)(inputs)
