"""``RandomContrast``: random contrast changes of images while training."""

from __future__ import annotations

import math

from ferrograd.layers.conv_utils import normalize_data_format
from ferrograd.layers.image_utils import check_seed
from ferrograd.layers.layer import Layer


class RandomContrast(Layer):
    """Scales each image's contrast by a random factor while training: ``(x - mean) * f +
    mean`` with ``mean`` the image's mean per channel and ``f`` drawn per image from
    ``[1 - lower, 1 + upper]``, clipped to ``value_range``; passes images unchanged at
    inference. Runs inside the Rust ``fit`` loop; the gradient passes to the input.

    Args:
        factor: a number ``f`` in [0, 1] (meaning ``(f, f)``) or a pair ``(lower, upper)``,
            each in [0, 1].
        value_range: ``(low, high)`` of the pixel values, the clipping range (default
            ``(0, 255)``; pass ``(0, 1)`` for images scaled to [0, 1]).
        seed: an integer seeding this layer's own generator (default None: the library's,
            which ``fg.set_seed`` seeds).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> contrast = layers.RandomContrast(0.5, value_range=(0, 1))
        >>> contrast(np.full((2, 4, 4, 3), 0.5, dtype="float32"), training=True).shape
        (2, 4, 4, 3)
    """

    kind = "RandomContrast"

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__

        def number(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        pair = list(factor) if isinstance(factor, (list, tuple)) else [factor, factor]
        if len(pair) != 2 or not all(number(v) and 0 <= v <= 1 for v in pair):
            raise ValueError(
                f"{name}: factor must be a number in [0, 1] or a pair (lower, upper) of them. "
                f"Received: factor={factor!r}"
            )
        bounds = list(value_range) if isinstance(value_range, (list, tuple)) else None
        if (
            bounds is None
            or len(bounds) != 2
            or not all(map(number, bounds))
            or not (bounds[0] < bounds[1])
        ):
            raise ValueError(
                f"{name}: value_range must be a pair (low, high) with low < high. "
                f"Received: value_range={value_range!r}"
            )
        self.factor = [float(v) for v in pair]
        self.value_range = [float(v) for v in bounds]
        self.seed = check_seed(seed, name)
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "factor": self.factor,
            "value_range": self.value_range,
            "seed": self.seed,
            "data_format": self.data_format,
        }
