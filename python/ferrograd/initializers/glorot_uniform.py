"""Keras's ``GlorotUniform`` (the Rust initializer ``src/initializers/glorot_uniform.rs``)."""

from ferrograd.initializers.initializer import Initializer


class GlorotUniform(Initializer):
    """Uniform in ``[-limit, limit]`` with ``limit = sqrt(6 / (fan_in + fan_out))`` (the Keras
    default for kernels).

    Args:
        shape: (of a call) the shape of the tensor to make, a tuple of ints.
        dtype: (of a call) ``"float32"`` or ``"float64"``; None means float32 (default None).

    Examples:
        >>> fg.set_seed(0)
        >>> kernel = fg.initializers.GlorotUniform()((3, 2))
        >>> kernel.shape
        (3, 2)
    """

    _name = "glorot_uniform"
