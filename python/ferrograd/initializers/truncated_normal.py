"""Keras's ``TruncatedNormal`` (the Rust initializer ``src/initializers/truncated_normal.rs``)."""

from ferrograd.initializers.random_normal import RandomNormal


class TruncatedNormal(RandomNormal):
    """Normal draws redrawn until within two standard deviations of the mean."""

    _name = "truncated_normal"
