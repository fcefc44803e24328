"""Keras's ``LecunUniform`` (the Rust initializer ``src/initializers/lecun_uniform.rs``)."""

from ferrograd.initializers.initializer import Initializer


class LecunUniform(Initializer):
    """Uniform with ``limit = sqrt(3 / fan_in)``."""

    _name = "lecun_uniform"
