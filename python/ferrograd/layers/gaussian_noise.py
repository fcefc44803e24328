"""``GaussianNoise``: additive zero-mean normal noise in training, a regulariser."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


def seed_setting(layer: str, seed):
    """``seed`` checked: None (draws from the generator ``fg.set_seed`` seeds) or a
    non-negative integer (a generator of the layer's own)."""
    if seed is None:
        return None
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(
            f"{layer}: seed must be None or a non-negative integer. Received: seed={seed!r}"
        )
    return seed


class GaussianNoise(Layer):
    """Adds normal noise of mean 0 and standard deviation ``stddev`` to its inputs during
    training; the identity at inference.

    Args:
        stddev: the noise's standard deviation, in [0, 1] (Keras's bounds).
        seed: None (default: draws from the generator that ``fg.set_seed`` seeds) or an integer
            seeding a generator of the layer's own.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Input shape: any. Output shape: the same.

    Examples:
        >>> noise = layers.GaussianNoise(0.1, seed=1)
        >>> noise(np.ones((1, 3), "float32"), training=False).numpy()
        array([[1., 1., 1.]], dtype=float32)
    """

    kind = "GaussianNoise"

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(stddev, (int, float)) or isinstance(stddev, bool) or not 0 <= stddev <= 1:
            raise ValueError(
                f"GaussianNoise: stddev must be a number in [0, 1]. Received: stddev={stddev!r}"
            )
        self.stddev = float(stddev)
        self.seed = seed_setting("GaussianNoise", seed)

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {"stddev": self.stddev, "seed": self.seed}
