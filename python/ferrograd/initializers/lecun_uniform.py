"""Keras's ``LecunUniform`` (the Rust initializer ``src/initializers/lecun_uniform.rs``)."""

from ferrograd.initializers.initializer import Initializer


class LecunUniform(Initializer):
    """Uniform with ``limit = sqrt(3 / fan_in)``.

    Args:
        shape: (of a call) the shape of the tensor to make, a tuple of ints.
        dtype: (of a call) ``"float32"`` or ``"float64"``; None means float32 (default None).

    Examples:
        >>> fg.set_seed(0)
        >>> kernel = fg.initializers.LecunUniform()((3, 2))
        >>> kernel.shape
        (3, 2)
    """

    _name = "lecun_uniform"
