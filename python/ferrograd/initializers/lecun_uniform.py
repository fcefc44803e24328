"""Keras's ``LecunUniform`` (the Rust initializer ``src/initializers/lecun_uniform.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class LecunUniform(RandomInitializer):
    """Uniform with ``limit = sqrt(3 / fan_in)``.

    Args:
        seed: None draws from the library's generator; an integer gives the same values at
            every call.
    """

    _name = "lecun_uniform"
