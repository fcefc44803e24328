"""``CenterCrop``: the centred window of a fixed size of each image."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format
from ferrograd.layers.image_utils import check_size
from ferrograd.layers.layer import Layer


class CenterCrop(Layer):
    """Cuts the centred ``height`` x ``width`` window of each image, in training and at
    inference. An image smaller than the window is cropped to the target's aspect ratio and
    resized (bilinear) instead, as Keras does. The gradient passes to the input.

    Args:
        height: the output height (a positive integer).
        width: the output width (a positive integer).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> images = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> layers.CenterCrop(2, 2)(images).numpy()[0, ..., 0]
        array([[ 5.,  6.],
               [ 9., 10.]], dtype=float32)
    """

    kind = "CenterCrop"

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.height, self.width = check_size(height, width, name)
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"height": self.height, "width": self.width, "data_format": self.data_format}
