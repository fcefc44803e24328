"""``RandomRotation``: random rotations of images while training."""

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


class RandomRotation(Layer):
    """Rotates each image about its centre by a random angle while training; passes images
    unchanged at inference. Runs inside the Rust ``fit`` loop; the gradient passes to the
    input. Randomness: the layer's own generator when ``seed`` is given, else the library's
    (``fg.set_seed``).

    Args:
        factor: a fraction of a full turn (2 pi), or a pair ``(lower, upper)``; a single value
            ``f`` means ``(-f, f)``. Positive turns counter-clockwise.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` (``fill_value``) or
            ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: an integer seeding this layer's own generator (default None).
        fill_value: the value of ``fill_mode="constant"`` (default 0.0).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> turn = layers.RandomRotation(0.1)
        >>> turn(np.ones((2, 8, 8, 1), dtype="float32"), training=True).shape
        (2, 8, 8, 1)
    """

    kind = "RandomRotation"

    def __init__(
        self,
        factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.factor = normalize_factor(factor, "factor", name)
        self.fill_mode = check_choice(fill_mode, "fill_mode", FILL_MODES, name)
        self.interpolation = check_choice(interpolation, "interpolation", INTERPOLATIONS, name)
        self.seed = check_seed(seed, name)
        self.fill_value = check_fill_value(fill_value, name)
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "factor": self.factor,
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
            "data_format": self.data_format,
        }
