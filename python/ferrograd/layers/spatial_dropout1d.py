"""``SpatialDropout1D``: whole channels of sequences dropped in training."""

from __future__ import annotations

from ferrograd.layers.layer import Layer
from ferrograd.layers.spatial_dropout2d import check_rate_and_seed


class SpatialDropout1D(Layer):
    """During training, sets whole channels of ``(batch, steps, channels)`` inputs to zero
    with probability ``rate`` (the same channels at every step) and scales the others by
    ``1 / (1 - rate)``; does nothing at inference. The drops follow ``fg.set_seed``.

    Args:
        rate: the fraction of channels to drop, in [0, 1).
        seed: not supported (ValueError when given): use ``fg.set_seed``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> drop = layers.SpatialDropout1D(0.5)
        >>> drop(np.ones((1, 4, 3), dtype="float32"), training=False).shape
        (1, 4, 3)
    """

    kind = "SpatialDropout1D"

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate_and_seed(rate, seed, type(self).__name__)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"rate": self.rate}
