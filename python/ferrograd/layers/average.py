"""``Average`` and ``average``: the elementwise mean of its inputs."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Average(Layer):
    """Merges a list of inputs into the elementwise mean of its inputs.

    Args:
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.Average()([a, b]).shape
        (None, 4)
    """

    kind = "Average"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


def average(inputs, **kwargs):
    """The functional form of ``Average``: ``Average(**kwargs)(inputs)``.

    Args:
        inputs: a list of input tensors (symbolic or values).
        **kwargs: the layer's arguments (``name``, ...).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.average([a, b]).shape
        (None, 4)
    """
    return Average(**kwargs)(inputs)
