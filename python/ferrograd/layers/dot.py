"""``Dot`` and ``dot``: the dot product of two inputs along an axis of each."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Dot(Layer):
    """The dot product of two inputs of rank 2 or 3 along ``axes`` (the batch axis kept):
    inputs ``(batch, n)`` give ``(batch, 1)``, inputs ``(batch, m, n)`` and ``(batch, m, k)``
    with ``axes=1`` give ``(batch, n, k)``.

    Args:
        axes: one axis for both inputs, or a pair (one per input); not the batch axis.
        normalize: L2-normalise the inputs along the axes first (a cosine similarity).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.Dot(axes=1)([a, b]).shape
        (None, 1)
    """

    kind = "Dot"

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2 or not all(isinstance(a, int) for a in axes):
                raise ValueError(
                    f"Dot: axes must be an int or a pair of ints, received axes={axes!r}"
                )
            axes = [int(a) for a in axes]
        elif not isinstance(axes, int) or isinstance(axes, bool):
            raise ValueError(f"Dot: axes must be an int or a pair of ints, received axes={axes!r}")
        self.axes = axes
        self.normalize = bool(normalize)

    def settings(self) -> dict:
        return {"axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """The functional form of ``Dot``: ``Dot(axes, normalize, **kwargs)(inputs)``.

    Args:
        inputs: a list of two input tensors (symbolic or values).
        axes: one axis for both inputs, or a pair.
        normalize: L2-normalise the inputs first.
        **kwargs: the layer's arguments (``name``, ...).

    Examples:
        >>> a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
        >>> layers.dot([a, b], axes=1).shape
        (None, 1)
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
