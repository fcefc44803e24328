"""Keras's ``HeNormal`` (the Rust initializer ``src/initializers/he_normal.rs``)."""

from ferrograd.initializers.initializer import Initializer


class HeNormal(Initializer):
    """Truncated normal with ``stddev = sqrt(2 / fan_in)`` (for ReLU networks)."""

    _name = "he_normal"
