"""Keras's ``GlorotNormal`` (the Rust initializer ``src/initializers/glorot_normal.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class GlorotNormal(RandomInitializer):
    """Truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``.

    Args:
        seed: None draws from the library's generator; an integer gives the same values at
            every call.
    """

    _name = "glorot_normal"
