"""``RandomZoom``: random zooms of images while training."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format
from ferrograd.layers.image_utils import (
    FILL_MODES,
    INTERPOLATIONS,
    check_choice,
    check_fill_value,
    check_seed,
    normalize_factor,
)
from ferrograd.layers.layer import Layer


class RandomZoom(Layer):
    """Zooms each image in or out about its centre by a random factor while training; passes
    images unchanged at inference. A factor ``u`` scales the area read by ``1 + u``: positive
    zooms out, negative zooms in. Runs inside the Rust ``fit`` loop; the gradient passes to
    the input. Randomness: the layer's own generator when ``seed`` is given, else the
    library's (``fg.set_seed``).

    Args:
        height_factor: a number or a pair ``(lower, upper)``, each in [-1, 1]; a single value
            ``f`` means ``(-f, f)``.
        width_factor: the same for the width; None (default) zooms the width as the height,
            keeping the aspect ratio.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` (``fill_value``) or
            ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: an integer seeding this layer's own generator (default None).
        fill_value: the value of ``fill_mode="constant"`` (default 0.0).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> zoom = layers.RandomZoom(0.2)
        >>> zoom(np.ones((2, 8, 8, 1), dtype="float32"), training=True).shape
        (2, 8, 8, 1)
    """

    kind = "RandomZoom"

    def __init__(
        self,
        height_factor,
        width_factor=None,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.height_factor = normalize_factor(height_factor, "height_factor", name, 1.0)
        self.width_factor = (
            None
            if width_factor is None
            else normalize_factor(width_factor, "width_factor", name, 1.0)
        )
        self.fill_mode = check_choice(fill_mode, "fill_mode", FILL_MODES, name)
        self.interpolation = check_choice(interpolation, "interpolation", INTERPOLATIONS, name)
        self.seed = check_seed(seed, name)
        self.fill_value = check_fill_value(fill_value, name)
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
            "data_format": self.data_format,
        }
