"""Keras's ``HeNormal`` (the Rust initializer ``src/initializers/he_normal.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class HeNormal(RandomInitializer):
    """Truncated normal with ``stddev = sqrt(2 / fan_in)`` (for ReLU networks).

    Args:
        seed: None draws from the library's generator; an integer gives the same values at
            every call.
    """

    _name = "he_normal"
