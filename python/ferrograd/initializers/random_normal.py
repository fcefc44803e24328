"""Keras's ``RandomNormal`` (the Rust initializer ``src/initializers/random_normal.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class RandomNormal(RandomInitializer):
    """Normal draws of mean ``mean`` and standard deviation ``stddev``.

    Args:
        seed: None (the default) draws from the library's generator (``fg.set_seed``); an
            integer gives the same values at every call, as a seeded Keras 3 initializer does.
        mean: the mean (default 0.0).
        stddev: the standard deviation (default 0.05).

    Examples:
        >>> fg.set_seed(0)
        >>> kernel = fg.initializers.RandomNormal(stddev=0.1)((3, 2))
        >>> kernel.shape
        (3, 2)
    """

    _name = "random_normal"

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def get_config(self):
        """The constructor's arguments, as ``{"mean": ..., "stddev": ...}``.

        Returns:
            A dict that ``RandomNormal(**config)`` turns back into an equal initializer.

        Examples:
            >>> fg.initializers.RandomNormal().get_config()
            {'mean': 0.0, 'stddev': 0.05}
        """
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}
