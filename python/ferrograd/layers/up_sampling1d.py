"""``UpSampling1D``: each step of a sequence repeated."""

from __future__ import annotations

from ferrograd.layers.conv_utils import normalize_tuple
from ferrograd.layers.layer import Layer


class UpSampling1D(Layer):
    """Repeats each step of a ``(batch, steps, features)`` sequence ``size`` times.

    Args:
        size: the factor (default 2).

    Examples:
        >>> layers.UpSampling1D(3)(np.ones((1, 2, 4), dtype="float32")).shape
        (1, 6, 4)
    """

    kind = "UpSampling1D"

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        (self.size,) = normalize_tuple(size, 1, "size", type(self).__name__)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"size": [self.size]}
