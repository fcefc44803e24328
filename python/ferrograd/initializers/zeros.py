"""Keras's ``Zeros`` (the Rust initializer ``src/initializers/zeros.rs``)."""

from ferrograd.initializers.initializer import Initializer


class Zeros(Initializer):
    """Every element 0 (Keras's default for biases)."""

    _name = "zeros"
