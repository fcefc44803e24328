"""``Cropping2D``: rows and columns removed from the borders of images."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format, normalize_pairs
from ferrograd.layers.layer import Layer


class Cropping2D(Layer):
    """Removes rows and columns at the top, bottom, left and right of images. Cropping as
    much as an axis has (or more) is a ValueError naming the input shape.

    Args:
        cropping: an int (the same on every side), a tuple of 2 ints (``(symmetric_height,
            symmetric_width)``) or a tuple of 2 tuples (``((top, bottom), (left, right))``);
            default no cropping.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> layers.Cropping2D(((2, 2), (4, 4)))(np.ones((1, 28, 28, 3), dtype="float32")).shape
        (1, 24, 20, 3)
    """

    kind = "Cropping2D"

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.cropping = normalize_pairs(cropping, 2, "cropping", name)
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"cropping": [list(p) for p in self.cropping], "data_format": self.data_format}
