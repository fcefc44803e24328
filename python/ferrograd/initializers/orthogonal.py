"""Keras's ``Orthogonal`` (the Rust initializer ``src/initializers/orthogonal.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix times ``gain`` (Keras's default for recurrent kernels).

    Args:
        seed: None (the default) draws from the library's generator (``fg.set_seed``); an
            integer gives the same values at every call, as a seeded Keras 3 initializer does.
        gain: the multiplier of the orthogonal matrix (default 1.0).

    Examples:
        >>> fg.set_seed(0)
        >>> q = fg.initializers.Orthogonal()((3, 3)).numpy()
        >>> np.allclose(q.T @ q, np.eye(3), atol=1e-5)
        True
    """

    _name = "orthogonal"

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def get_config(self):
        """The constructor's arguments, as ``{"gain": ...}``.

        Returns:
            A dict that ``Orthogonal(**config)`` turns back into an equal initializer.

        Examples:
            >>> fg.initializers.Orthogonal().get_config()
            {'gain': 1.0}
        """
        return {"gain": self.gain, **super().get_config()}
