"""``MaxPooling1D`` (alias ``MaxPool1D``): the maximum over windows of sequences."""

from __future__ import annotations

from ferrograd.layers.max_pooling2d import MaxPooling2D


class MaxPooling1D(MaxPooling2D):
    """Max pooling over windows of steps, TensorFlow's padding rules.

    Args:
        pool_size: an int (default 2).
        strides: an int or None (default: ``pool_size``).
        padding: ``"valid"`` (default) or ``"same"``.
        data_format: ``"channels_last"`` (default; ``(batch, steps, channels)``) or
            ``"channels_first"``.

    Examples:
        >>> layers.MaxPooling1D()(np.ones((1, 6, 3), dtype="float32")).shape
        (1, 3, 3)
    """

    kind = "MaxPooling1D"
    _rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


MaxPool1D = MaxPooling1D
