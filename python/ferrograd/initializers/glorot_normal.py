"""Keras's ``GlorotNormal`` (the Rust initializer ``src/initializers/glorot_normal.rs``)."""

from ferrograd.initializers.initializer import Initializer


class GlorotNormal(Initializer):
    """Truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``.

    ``fan_in`` and ``fan_out`` are the sizes of the shape's last two axes (times the product of
    the others, for a convolution kernel).

    Args:
        shape: (of a call) the shape of the tensor to make, a tuple of ints.
        dtype: (of a call) ``"float32"`` or ``"float64"``; None means float32 (default None).

    Examples:
        >>> fg.set_seed(0)
        >>> kernel = fg.initializers.GlorotNormal()((3, 2))
        >>> kernel.shape
        (3, 2)
    """

    _name = "glorot_normal"
