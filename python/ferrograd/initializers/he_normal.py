"""Keras's ``HeNormal`` (the Rust initializer ``src/initializers/he_normal.rs``)."""

from ferrograd.initializers.initializer import Initializer


class HeNormal(Initializer):
    """Truncated normal with ``stddev = sqrt(2 / fan_in)`` (for ReLU networks).

    Args:
        shape: (of a call) the shape of the tensor to make, a tuple of ints.
        dtype: (of a call) ``"float32"`` or ``"float64"``; None means float32 (default None).

    Examples:
        >>> fg.set_seed(0)
        >>> kernel = fg.initializers.HeNormal()((3, 2))
        >>> kernel.shape
        (3, 2)
    """

    _name = "he_normal"
