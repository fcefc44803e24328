"""Keras's ``GlorotUniform`` (the Rust initializer ``src/initializers/glorot_uniform.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class GlorotUniform(RandomInitializer):
    """Uniform in ``[-limit, limit]`` with ``limit = sqrt(6 / (fan_in + fan_out))`` (the Keras
    default for kernels).

    Args:
        seed: None draws from the library's generator; an integer gives the same values at
            every call.
    """

    _name = "glorot_uniform"
