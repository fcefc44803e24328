"""Keras's ``Ones`` (the Rust initializer ``src/initializers/ones.rs``)."""

from ferrograd.initializers.initializer import Initializer


class Ones(Initializer):
    """Every element 1.

    Args:
        shape: (of a call) the shape of the tensor to make, a tuple of ints.
        dtype: (of a call) ``"float32"`` or ``"float64"``; None means float32 (default None).

    Examples:
        >>> fg.initializers.Ones()((2,))
        tensor([1., 1.], shape=(2,), dtype=float32)
    """

    _name = "ones"
