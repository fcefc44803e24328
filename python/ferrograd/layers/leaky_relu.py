"""``LeakyReLU``: a ReLU with a fixed slope below zero."""

from __future__ import annotations

import warnings

from ferrograd.layers.layer import Layer
from ferrograd.layers.relu import _non_negative


class LeakyReLU(Layer):
    """``x`` where ``x > 0``, ``negative_slope * x`` elsewhere.

    Args:
        negative_slope: the slope below zero (>= 0); Keras 3's default is 0.3. The Keras 2
            name ``alpha`` is accepted with a warning, as Keras 3 does.

    Examples:
        >>> layers.LeakyReLU()(np.array([[-1.0, 2.0]], dtype="float32")).numpy()
        array([[-0.3,  2. ]], dtype=float32)
    """

    kind = "LeakyReLU"

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2
            )
        super().__init__(**kwargs)
        self.negative_slope = _non_negative("LeakyReLU", "negative_slope", negative_slope)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"negative_slope": self.negative_slope}
