"""``RandomCrop``: random windows of a fixed size cut from images while training."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format
from ferrograd.layers.image_utils import check_seed, check_size
from ferrograd.layers.layer import Layer


class RandomCrop(Layer):
    """Cuts a ``height`` x ``width`` window at a random position from each image while
    training. At inference, and in training when an image is smaller than the window, it
    takes the largest centred window of the target's aspect ratio and resizes it (bilinear)
    to ``height`` x ``width``, as Keras documents; images of the target size pass unchanged.
    Keras draws one position per batch, this layer one per image. Runs inside the Rust
    ``fit`` loop; the gradient passes to the input.

    Args:
        height: the output height (a positive integer).
        width: the output width (a positive integer).
        seed: an integer seeding this layer's own generator (default None: the library's,
            which ``fg.set_seed`` seeds).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> crop = layers.RandomCrop(24, 24)
        >>> crop(np.ones((2, 28, 28, 1), dtype="float32"), training=True).shape
        (2, 24, 24, 1)
    """

    kind = "RandomCrop"

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.height, self.width = check_size(height, width, name)
        self.seed = check_seed(seed, name)
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "height": self.height,
            "width": self.width,
            "seed": self.seed,
            "data_format": self.data_format,
        }
