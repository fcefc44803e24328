"""``RandomTranslation``: random shifts of images while training."""

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


class RandomTranslation(Layer):
    """Shifts each image by a random fraction of its height and width while training; passes
    images unchanged at inference. Runs inside the Rust ``fit`` loop; the gradient passes to
    the input. Randomness: the layer's own generator when ``seed`` is given, else the
    library's (``fg.set_seed``).

    Args:
        height_factor: a fraction of the height, or a pair ``(lower, upper)``, each in
            [-1, 1]; a single value ``f`` means ``(-f, f)``. Positive shifts down.
        width_factor: the same for the width; positive shifts right.
        fill_mode: how pixels from outside the image are filled: ``"reflect"`` (default,
            ``d c b a | a b c d | d c b a``), ``"wrap"``, ``"constant"`` (``fill_value``) or
            ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: an integer seeding this layer's own generator (default None).
        fill_value: the value of ``fill_mode="constant"`` (default 0.0).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> shift = layers.RandomTranslation(0.1, 0.1)
        >>> shift(np.ones((2, 8, 8, 1), dtype="float32"), training=True).shape
        (2, 8, 8, 1)
    """

    kind = "RandomTranslation"

    def __init__(
        self,
        height_factor,
        width_factor,
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
        self.width_factor = normalize_factor(width_factor, "width_factor", name, 1.0)
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
