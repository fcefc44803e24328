"""Keras's ``RandomNormal`` (the Rust initializer ``src/initializers/random_normal.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class RandomNormal(RandomInitializer):
    """Normal draws of mean ``mean`` and standard deviation ``stddev``."""

    _name = "random_normal"

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}
