"""``Identity``: the input, unchanged."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Identity(Layer):
    """Returns its input (and its mask) unchanged; a placeholder in a model's structure.

    Args:
        **kwargs: the ``Layer`` arguments (``name``, ``input_shape``, ...).

    Examples:
        >>> layers.Identity()(np.array([[1.0, -2.0]], dtype="float32")).numpy()
        array([[ 1., -2.]], dtype=float32)
    """

    kind = "Identity"
