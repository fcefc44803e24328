"""``RepeatVector``: a 2-D input repeated along a new time axis."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    Args:
        n: the number of repeats, a positive integer.

    Examples:
        >>> layers.RepeatVector(3)(np.ones((2, 4), dtype="float32")).shape
        (2, 3, 4)
    """

    kind = "RepeatVector"

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"RepeatVector: n must be a positive integer. Received: n={n!r}")
        self.n = n

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"n": self.n}
