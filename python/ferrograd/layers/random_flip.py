"""``RandomFlip``: random left-right and top-bottom flips of images while training."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format
from ferrograd.layers.image_utils import check_choice, check_seed
from ferrograd.layers.layer import Layer


class RandomFlip(Layer):
    """Flips each image with probability 1/2 while training; passes images unchanged at
    inference. As in Keras, one draw per image decides, and in ``"horizontal_and_vertical"``
    mode it flips both ways. Runs inside the Rust ``fit`` loop; the gradient passes to the
    input. Randomness: the layer's own generator when ``seed`` is given, else the library's
    (``fg.set_seed``).

    Args:
        mode: ``"horizontal"`` (left-right), ``"vertical"`` (top-bottom) or
            ``"horizontal_and_vertical"`` (default).
        seed: an integer seeding this layer's own generator (default None).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Input shape: ``(batch, height, width, channels)`` (or channels first).

    Examples:
        >>> flip = layers.RandomFlip("horizontal")
        >>> flip(np.ones((2, 4, 4, 3), dtype="float32"), training=True).shape
        (2, 4, 4, 3)
    """

    kind = "RandomFlip"

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        modes = ("horizontal", "vertical", "horizontal_and_vertical")
        self.mode = check_choice(mode, "mode", modes, name)
        self.seed = check_seed(seed, name)
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"mode": self.mode, "seed": self.seed, "data_format": self.data_format}
