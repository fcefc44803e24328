"""Keras's ``Orthogonal`` (the Rust initializer ``src/initializers/orthogonal.rs``)."""

from ferrograd.initializers.initializer import Initializer


class Orthogonal(Initializer):
    """A random orthogonal matrix times ``gain`` (Keras's default for recurrent kernels).

    Args:
        gain: the multiplier of the orthogonal matrix (default 1.0).

    Examples:
        >>> fg.set_seed(0)
        >>> q = fg.initializers.Orthogonal()((3, 3)).numpy()
        >>> np.allclose(q.T @ q, np.eye(3), atol=1e-5)
        True
    """

    _name = "orthogonal"

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def get_config(self):
        """The constructor's arguments, as ``{"gain": ...}``.

        Returns:
            A dict that ``Orthogonal(**config)`` turns back into an equal initializer.

        Examples:
            >>> fg.initializers.Orthogonal().get_config()
            {'gain': 1.0}
        """
        return {"gain": self.gain}
