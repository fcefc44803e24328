"""Keras's ``RandomUniform`` (the Rust initializer ``src/initializers/random_uniform.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class RandomUniform(RandomInitializer):
    """Uniform draws in ``[minval, maxval)``."""

    _name = "random_uniform"

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}
