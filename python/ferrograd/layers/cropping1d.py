"""``Cropping1D``: steps removed from the start and end of sequences."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_pairs
from ferrograd.layers.layer import Layer


class Cropping1D(Layer):
    """Removes steps at the start and end of each sequence (``(batch, steps, channels)``).
    Cropping as many steps as there are (or more) is a ValueError naming the input shape.

    Args:
        cropping: an int (the same at both ends) or a tuple ``(start, end)``; default
            ``(1, 1)``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> layers.Cropping1D((1, 2))(np.ones((1, 6, 2), dtype="float32")).shape
        (1, 3, 2)
    """

    kind = "Cropping1D"

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = normalize_pairs(cropping, 1, "cropping", type(self).__name__)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"cropping": [list(p) for p in self.cropping]}
