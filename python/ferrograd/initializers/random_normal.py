"""Keras's ``RandomNormal`` (the Rust initializer ``src/initializers/random_normal.rs``)."""

from ferrograd.initializers.initializer import Initializer


class RandomNormal(Initializer):
    """Normal draws of mean ``mean`` and standard deviation ``stddev``.

    Args:
        mean: the mean (default 0.0).
        stddev: the standard deviation (default 0.05).

    Examples:
        >>> fg.set_seed(0)
        >>> kernel = fg.initializers.RandomNormal(stddev=0.1)((3, 2))
        >>> kernel.shape
        (3, 2)
    """

    _name = "random_normal"

    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = float(mean), float(stddev)

    def get_config(self):
        """The constructor's arguments, as ``{"mean": ..., "stddev": ...}``.

        Returns:
            A dict that ``RandomNormal(**config)`` turns back into an equal initializer.

        Examples:
            >>> fg.initializers.RandomNormal().get_config()
            {'mean': 0.0, 'stddev': 0.05}
        """
        return {"mean": self.mean, "stddev": self.stddev}
