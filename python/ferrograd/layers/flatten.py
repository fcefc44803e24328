"""``Flatten``: every axis but the batch axis made into one."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Flatten(Layer):
    """Flattens every axis but the batch axis: ``(batch, 28, 28)`` becomes ``(batch, 784)``.

    Args:
        **kwargs: the ``Layer`` arguments (``name``, ``input_shape``, ...).

    Examples:
        >>> layers.Flatten()(np.ones((2, 28, 28), dtype="float32")).shape
        (2, 784)
    """

    kind = "Flatten"
