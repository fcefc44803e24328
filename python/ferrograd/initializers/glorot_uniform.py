"""Keras's ``GlorotUniform`` (the Rust initializer ``src/initializers/glorot_uniform.rs``)."""

from ferrograd.initializers.initializer import Initializer


class GlorotUniform(Initializer):
    """Uniform in ``[-limit, limit]`` with ``limit = sqrt(6 / (fan_in + fan_out))`` (the Keras
    default for kernels)."""

    _name = "glorot_uniform"
