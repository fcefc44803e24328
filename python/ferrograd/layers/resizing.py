"""``Resizing``: images resized to a fixed size."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format
from ferrograd.layers.image_utils import INTERPOLATIONS, check_choice, check_size
from ferrograd.layers.layer import Layer


class Resizing(Layer):
    """Resizes each image to ``height`` x ``width``, in training and at inference, with
    half-pixel centres and no antialiasing: ``"bilinear"`` equals
    ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``, ``"nearest"``
    its ``mode="nearest-exact"``. The gradient passes to the input.

    Args:
        height: the output height (a positive integer).
        width: the output width (a positive integer).
        interpolation: ``"bilinear"`` (default) or ``"nearest"`` (Keras's others are not
            supported: ValueError).
        crop_to_aspect_ratio: resize the largest centred window of the target's aspect ratio
            instead of the whole image (default False).
        pad_to_aspect_ratio: only False (padding is not supported: ValueError).
        fill_mode: used by ``pad_to_aspect_ratio`` only; accepted at its default
            ``"constant"``.
        fill_value: used by ``pad_to_aspect_ratio`` only; accepted at its default 0.0.
        antialias: only False (ValueError otherwise).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> layers.Resizing(4, 4)(np.ones((1, 2, 2, 3), dtype="float32")).shape
        (1, 4, 4, 3)
    """

    kind = "Resizing"

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.height, self.width = check_size(height, width, name)
        self.interpolation = check_choice(interpolation, "interpolation", INTERPOLATIONS, name)
        for argument, value, default in (
            ("pad_to_aspect_ratio", pad_to_aspect_ratio, False),
            ("antialias", antialias, False),
            ("fill_mode", fill_mode, "constant"),
            ("fill_value", fill_value, 0.0),
        ):
            if value != default or isinstance(value, bool) != isinstance(default, bool):
                raise ValueError(
                    f"{name}: {argument}={value!r} is not supported by ferrograd (only "
                    f"{default!r})."
                )
        if not isinstance(crop_to_aspect_ratio, bool):
            raise ValueError(
                f"{name}: crop_to_aspect_ratio must be True or False. "
                f"Received: crop_to_aspect_ratio={crop_to_aspect_ratio!r}"
            )
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "data_format": self.data_format,
        }
