"""``GlobalMaxPooling2D`` (alias ``GlobalMaxPool2D``): the maximum over height and width."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format
from ferrograd.layers.layer import Layer


class GlobalMaxPooling2D(Layer):
    """The maximum over the spatial axes of images.

    Args:
        data_format: ``"channels_last"`` (default; ``(batch, h, w, c)``) or
            ``"channels_first"`` (``(batch, c, h, w)``).
        keepdims: keep the spatial axes with size 1 (default False: ``(batch, c)``).

    Examples:
        >>> layers.GlobalMaxPooling2D()(np.ones((2, 4, 4, 3), dtype="float32")).shape
        (2, 3)
    """

    kind = "GlobalMaxPooling2D"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"data_format": self.data_format, "keepdims": self.keepdims}


GlobalMaxPool2D = GlobalMaxPooling2D
