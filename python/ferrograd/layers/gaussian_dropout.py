"""``GaussianDropout``: multiplicative normal noise of mean 1 in training."""

from __future__ import annotations

from ferrograd.layers.gaussian_noise import seed_setting
from ferrograd.layers.layer import Layer


class GaussianDropout(Layer):
    """Multiplies its inputs by normal noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` during training (Keras's formula); the identity at inference.

    Args:
        rate: the drop probability the noise stands for, in [0, 1) (1 would be infinite
            noise, refused).
        seed: None (default: the generator ``fg.set_seed`` seeds) or an integer seeding a
            generator of the layer's own.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Input shape: any. Output shape: the same.

    Examples:
        >>> layers.GaussianDropout(0.2)(np.ones((1, 2), "float32")).numpy()
        array([[1., 1.]], dtype=float32)
    """

    kind = "GaussianDropout"

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise ValueError(
                f"GaussianDropout: rate must be a number in [0, 1). Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.seed = seed_setting("GaussianDropout", seed)

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {"rate": self.rate, "seed": self.seed}
