"""``ELU``: the exponential linear unit."""

from __future__ import annotations

import math

from ferrograd.layers.layer import Layer


class ELU(Layer):
    """``x`` where ``x > 0``, ``alpha * (exp(x) - 1)`` elsewhere.

    Args:
        alpha: the scale of the negative part (a finite number).

    Examples:
        >>> layers.ELU()(np.array([[0.0, 2.0]], dtype="float32")).numpy()
        array([[0., 2.]], dtype=float32)
    """

    kind = "ELU"

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if (
            isinstance(alpha, bool)
            or not isinstance(alpha, (int, float))
            or not math.isfinite(alpha)
        ):
            raise ValueError(f"ELU: alpha must be a finite number. Received: alpha={alpha!r}")
        self.alpha = float(alpha)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"alpha": self.alpha}
