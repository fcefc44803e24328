"""``Rescaling``: ``x * scale + offset``, e.g. pixel values from [0, 255] to [0, 1]."""

from __future__ import annotations

import math

from ferrograd.layers.layer import Layer


def _finite_number(layer: str, name: str, value) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{layer}: {name} must be a finite number. Received: {name}={value!r}")
    return float(value)


class Rescaling(Layer):
    """Multiplies its inputs by ``scale`` and adds ``offset``, in training and at inference.

    Args:
        scale: the factor (a number).
        offset: added after scaling (default 0.0).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Input shape: any. Output shape: the same.

    Examples:
        >>> layers.Rescaling(1 / 127.5, offset=-1)(np.array([[0.0, 255.0]], "float32")).numpy()
        array([[-1.,  1.]], dtype=float32)
    """

    kind = "Rescaling"

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _finite_number("Rescaling", "scale", scale)
        self.offset = _finite_number("Rescaling", "offset", offset)

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {"scale": self.scale, "offset": self.offset}
