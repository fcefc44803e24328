"""Keras's ``Ones`` (the Rust initializer ``src/initializers/ones.rs``)."""

from ferrograd.initializers.initializer import Initializer


class Ones(Initializer):
    """Every element 1."""

    _name = "ones"
