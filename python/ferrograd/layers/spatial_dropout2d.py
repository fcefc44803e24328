"""``SpatialDropout2D``: whole feature maps dropped in training."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_data_format
from ferrograd.layers.layer import Layer


def check_rate_and_seed(rate, seed, layer):
    """``rate`` as a float in [0, 1); a ``seed`` other than None is refused (the drops come
    from the library generator, seeded by ``fg.set_seed``).

    Args:
        rate: the fraction to drop.
        seed: Keras's per-layer seed argument.
        layer: the layer's class name, for messages.

    Examples:
        >>> check_rate_and_seed(0.5, None, "SpatialDropout2D")
        0.5
    """
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"{layer}: rate must be a number in [0, 1). Received: rate={rate!r}")
    if seed is not None:
        raise ValueError(
            f"{layer}: seed is not supported by ferrograd (the drops follow fg.set_seed). "
            f"Received: seed={seed!r}"
        )
    return float(rate)


class SpatialDropout2D(Layer):
    """During training, sets whole feature maps (channels) to zero with probability
    ``rate`` and scales the others by ``1 / (1 - rate)``; does nothing at inference.
    Neighbouring pixels are strongly correlated, so dropping single pixels barely
    regularises a convnet; dropping channels does. The drops follow ``fg.set_seed``.

    Args:
        rate: the fraction of channels to drop, in [0, 1).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: not supported (ValueError when given): use ``fg.set_seed``.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> drop = layers.SpatialDropout2D(0.5)
        >>> float(drop(np.ones((1, 2, 2, 3), dtype="float32"), training=False).numpy().sum())
        12.0
    """

    kind = "SpatialDropout2D"

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.rate = check_rate_and_seed(rate, seed, name)
        self.data_format = normalize_data_format(data_format, name)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"rate": self.rate, "data_format": self.data_format}
