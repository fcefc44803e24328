"""``AveragePooling2D`` (alias ``AvgPool2D``): the mean over windows of images."""

from __future__ import annotations

from ferrograd.layers.max_pooling2d import MaxPooling2D


class AveragePooling2D(MaxPooling2D):
    """Average pooling over ``(height, width)`` windows, TensorFlow's padding rules: with
    ``"same"`` padding a border window averages only the input positions it covers.

    Args:
        pool_size: an int or a tuple of 2 ints (default ``(2, 2)``).
        strides: an int, a tuple of 2 ints, or None (default: ``pool_size``).
        padding: ``"valid"`` (default) or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Examples:
        >>> layers.AveragePooling2D()(np.ones((1, 4, 4, 3), dtype="float32")).shape
        (1, 2, 2, 3)
    """

    kind = "AveragePooling2D"


AvgPool2D = AveragePooling2D
