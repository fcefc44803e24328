"""Keras's ``RandomUniform`` (the Rust initializer ``src/initializers/random_uniform.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class RandomUniform(RandomInitializer):
    """Uniform draws in ``[minval, maxval)``.

    Args:
        seed: None (the default) draws from the library's generator (``fg.set_seed``); an
            integer gives the same values at every call, as a seeded Keras 3 initializer does.
        minval: the lower bound, included (default -0.05).
        maxval: the upper bound, excluded (default 0.05).

    Examples:
        >>> fg.set_seed(0)
        >>> w = fg.initializers.RandomUniform(minval=0.0, maxval=1.0)((100,))
        >>> bool(((w >= 0.0) * (w < 1.0)).numpy().all())
        True
    """

    _name = "random_uniform"

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def get_config(self):
        """The constructor's arguments, as ``{"minval": ..., "maxval": ...}``.

        Returns:
            A dict that ``RandomUniform(**config)`` turns back into an equal initializer.

        Examples:
            >>> fg.initializers.RandomUniform().get_config()
            {'minval': -0.05, 'maxval': 0.05}
        """
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}
