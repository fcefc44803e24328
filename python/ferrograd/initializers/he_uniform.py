"""Keras's ``HeUniform`` (the Rust initializer ``src/initializers/he_uniform.rs``)."""

from ferrograd.initializers.initializer import Initializer


class HeUniform(Initializer):
    """Uniform with ``limit = sqrt(6 / fan_in)``."""

    _name = "he_uniform"
