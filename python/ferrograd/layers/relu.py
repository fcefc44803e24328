"""``ReLU``: the rectified linear unit, with Keras's cap, leak and threshold."""

from __future__ import annotations

import math

from ferrograd.layers.layer import Layer


def _non_negative(layer: str, name: str, value) -> float:
    """``value`` as a float, or a ValueError naming ``layer`` and ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"{layer}: {name} must be a finite number >= 0. Received: {name}={value!r}"
        )
    return float(value)


class ReLU(Layer):
    """``min(x, max_value)`` where ``x > threshold``, ``negative_slope * (x - threshold)``
    elsewhere; the defaults give ``max(x, 0)``.

    Args:
        max_value: a cap on the output (>= 0), or None for none.
        negative_slope: the slope below the threshold (>= 0).
        threshold: where the unit turns on (>= 0).

    Examples:
        >>> layers.ReLU(max_value=1.0)(np.array([[-1.0, 0.5, 3.0]], dtype="float32")).numpy()
        array([[0. , 0.5, 1. ]], dtype=float32)
    """

    kind = "ReLU"

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = (
            None if max_value is None else _non_negative("ReLU", "max_value", max_value)
        )
        self.negative_slope = _non_negative("ReLU", "negative_slope", negative_slope)
        self.threshold = _non_negative("ReLU", "threshold", threshold)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }
