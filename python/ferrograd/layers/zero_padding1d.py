"""``ZeroPadding1D``: zeros before and after sequences."""

from __future__ import annotations

from ferrograd.layers.zero_padding2d import ZeroPadding2D


class ZeroPadding1D(ZeroPadding2D):
    """Adds zeros at the start and end of each sequence (along the steps axis).

    Args:
        padding: an int (the same on both sides) or a tuple ``(left, right)``; default 1.
        data_format: ``"channels_last"`` (default; ``(batch, steps, channels)``) or
            ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> layers.ZeroPadding1D((1, 2))(np.ones((1, 3, 2), dtype="float32")).shape
        (1, 6, 2)
    """

    kind = "ZeroPadding1D"
    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)
