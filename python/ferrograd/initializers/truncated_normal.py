"""Keras's ``TruncatedNormal`` (the Rust initializer ``src/initializers/truncated_normal.rs``)."""

from ferrograd.initializers.random_normal import RandomNormal


class TruncatedNormal(RandomNormal):
    """Normal draws redrawn until within two standard deviations of the mean.

    Args:
        mean: the mean of the distribution (default 0.0).
        stddev: the standard deviation before truncation (default 0.05).

    Examples:
        >>> fg.set_seed(0)
        >>> w = fg.initializers.TruncatedNormal(stddev=0.1)((100,))
        >>> bool((w.abs() <= 0.2).numpy().all())
        True
    """

    _name = "truncated_normal"
