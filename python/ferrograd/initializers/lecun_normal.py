"""Keras's ``LecunNormal`` (the Rust initializer ``src/initializers/lecun_normal.rs``)."""

from ferrograd.initializers.initializer import Initializer


class LecunNormal(Initializer):
    """A truncated normal with ``stddev = sqrt(1 / fan_in)``."""

    _name = "lecun_normal"
