"""``UpSampling2D``: images enlarged by integer factors."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format, normalize_tuple
from ferrograd.layers.layer import Layer


class UpSampling2D(Layer):
    """Enlarges images by ``size`` along height and width: ``"nearest"`` repeats rows and
    columns, ``"bilinear"`` interpolates as Keras (TensorFlow's ``resize`` with half-pixel
    centres) does.

    Args:
        size: an int or a tuple of 2 ints (default ``(2, 2)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default) or ``"bilinear"`` (Keras's other methods are
            not supported: ValueError).

    Examples:
        >>> layers.UpSampling2D()(np.ones((1, 2, 3, 4), dtype="float32")).shape
        (1, 4, 6, 4)
    """

    kind = "UpSampling2D"

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.size = normalize_tuple(size, 2, "size", name)
        self.data_format = normalize_data_format(data_format, name)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                f"{name}: interpolation must be 'nearest' or 'bilinear' (others are not "
                f"supported by ferrograd). Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "size": list(self.size),
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }
