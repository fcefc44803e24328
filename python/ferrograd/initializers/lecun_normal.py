"""Keras's ``LecunNormal`` (the Rust initializer ``src/initializers/lecun_normal.rs``)."""

from ferrograd.initializers.initializer import Initializer


class LecunNormal(Initializer):
    """A truncated normal with ``stddev = sqrt(1 / fan_in)`` (for SELU networks).

    Args:
        shape: (of a call) the shape of the tensor to make, a tuple of ints.
        dtype: (of a call) ``"float32"`` or ``"float64"``; None means float32 (default None).

    Examples:
        >>> fg.set_seed(0)
        >>> kernel = fg.initializers.LecunNormal()((3, 2))
        >>> kernel.shape
        (3, 2)
    """

    _name = "lecun_normal"
