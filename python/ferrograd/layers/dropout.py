"""``Dropout``: random zeroing of inputs in training."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Dropout(Layer):
    """Sets a fraction ``rate`` of its inputs to zero during training (and scales the rest by
    ``1 / (1 - rate)``); does nothing at inference.

    Args:
        rate: the fraction to drop, in [0, 1).

    Examples:
        >>> dropout = layers.Dropout(0.5)
        >>> dropout(np.ones((1, 4), dtype="float32"), training=False).numpy()
        array([[1., 1., 1., 1.]], dtype=float32)
    """

    kind = "Dropout"

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"rate must be a number in [0, 1). Received: rate={rate!r}")
        self.rate = float(rate)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"rate": self.rate}
