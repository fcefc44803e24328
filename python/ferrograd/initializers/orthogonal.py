"""Keras's ``Orthogonal`` (the Rust initializer ``src/initializers/orthogonal.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix times ``gain`` (Keras's default for recurrent kernels)."""

    _name = "orthogonal"

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}
