"""``MaxPooling2D`` (alias ``MaxPool2D``): the maximum over windows of images."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format, normalize_padding, normalize_tuple
from ferrograd.layers.layer import Layer


class MaxPooling2D(Layer):
    """Max pooling over ``(height, width)`` windows, TensorFlow's padding rules.

    Args:
        pool_size: an int or a tuple of 2 ints (default ``(2, 2)``).
        strides: an int, a tuple of 2 ints, or None (default: ``pool_size``).
        padding: ``"valid"`` (default) or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, height, width, channels)``. Output shape:
    ``(batch, pooled_height, pooled_width, channels)``.

    Examples:
        >>> layers.MaxPooling2D()(np.ones((1, 4, 4, 3), dtype="float32")).shape
        (1, 2, 2, 3)
    """

    kind = "MaxPooling2D"
    _rank = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, self._rank, "pool_size", name)
        self.strides = (
            None if strides is None else normalize_tuple(strides, self._rank, "strides", name)
        )
        self.padding = normalize_padding(padding, name)
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "pool_size": list(self.pool_size),
            "strides": None if self.strides is None else list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }


MaxPool2D = MaxPooling2D
