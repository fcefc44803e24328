"""``ZeroPadding2D``: zeros around images."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format, normalize_pairs
from ferrograd.layers.layer import Layer


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros at the top, bottom, left and right of images.

    Args:
        padding: an int (the same on every side), a tuple of 2 ints (``(symmetric_height,
            symmetric_width)``) or a tuple of 2 tuples (``((top, bottom), (left, right))``);
            default 1.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> layers.ZeroPadding2D(((1, 0), (2, 2)))(np.ones((1, 3, 3, 2), dtype="float32")).shape
        (1, 4, 7, 2)
    """

    kind = "ZeroPadding2D"
    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.padding = normalize_pairs(padding, self._rank, "padding", name)
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"padding": [list(p) for p in self.padding], "data_format": self.data_format}
