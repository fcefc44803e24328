"""``Add`` and ``add``: the elementwise sum of its inputs."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Add(Layer):
    """Merges a list of inputs into the elementwise sum of its inputs.

    Args:
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.Add()([a, b]).shape
        (None, 4)
    """

    kind = "Add"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


def add(inputs, **kwargs):
    """The functional form of ``Add``: ``Add(**kwargs)(inputs)``.

    Args:
        inputs: a list of input tensors (symbolic or values).
        **kwargs: the layer's arguments (``name``, ...).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.add([a, b]).shape
        (None, 4)
    """
    return Add(**kwargs)(inputs)
