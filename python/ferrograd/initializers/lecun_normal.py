"""Keras's ``LecunNormal`` (the Rust initializer ``src/initializers/lecun_normal.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class LecunNormal(RandomInitializer):
    """A truncated normal with ``stddev = sqrt(1 / fan_in)``.

    Args:
        seed: None draws from the library's generator; an integer gives the same values at
            every call.
    """

    _name = "lecun_normal"
