"""Keras's ``HeUniform`` (the Rust initializer ``src/initializers/he_uniform.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class HeUniform(RandomInitializer):
    """Uniform with ``limit = sqrt(6 / fan_in)``.

    Args:
        seed: None draws from the library's generator; an integer gives the same values at
            every call.
    """

    _name = "he_uniform"
