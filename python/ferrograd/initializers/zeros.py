"""Keras's ``Zeros`` (the Rust initializer ``src/initializers/zeros.rs``)."""

from ferrograd.initializers.initializer import Initializer


class Zeros(Initializer):
    """Every element 0 (Keras's default for biases).

    Args:
        shape: (of a call) the shape of the tensor to make, a tuple of ints.
        dtype: (of a call) ``"float32"`` or ``"float64"``; None means float32 (default None).

    Examples:
        >>> fg.initializers.Zeros()((2,), dtype="float64")
        tensor([0., 0.], shape=(2,), dtype=float64)
    """

    _name = "zeros"
