"""Keras's ``GlorotNormal`` (the Rust initializer ``src/initializers/glorot_normal.rs``)."""

from ferrograd.initializers.initializer import Initializer


class GlorotNormal(Initializer):
    """Truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``."""

    _name = "glorot_normal"
