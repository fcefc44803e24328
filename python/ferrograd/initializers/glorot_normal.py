"""Keras's ``GlorotNormal`` (the Rust initializer ``src/initializers/glorot_normal.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class GlorotNormal(RandomInitializer):
    """Truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``.

    ``fan_in`` and ``fan_out`` are the sizes of the shape's last two axes (times the product of
    the others, for a convolution kernel).

    Args:
        seed: None (the default) draws from the library's generator (``fg.set_seed``); an
            integer gives the same values at every call, as a seeded Keras 3 initializer does.
        shape: (of a call) the shape of the tensor to make, a tuple of ints.
        dtype: (of a call) ``"float32"`` or ``"float64"``; None means float32 (default None).

    Examples:
        >>> fg.set_seed(0)
        >>> kernel = fg.initializers.GlorotNormal()((3, 2))
        >>> kernel.shape
        (3, 2)
    """

    _name = "glorot_normal"
