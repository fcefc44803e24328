"""Keras's ``Constant`` (the Rust initializer ``src/initializers/constant.rs``)."""

from ferrograd.initializers.initializer import Initializer


class Constant(Initializer):
    """Every element ``value``."""

    _name = "constant"

    def __init__(self, value=0.0):
        self.value = float(value)

    def get_config(self):
        return {"value": self.value}
