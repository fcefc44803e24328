"""Keras's ``HeUniform`` (the Rust initializer ``src/initializers/he_uniform.rs``)."""

from ferrograd.initializers.initializer import RandomInitializer


class HeUniform(RandomInitializer):
    """Uniform with ``limit = sqrt(6 / fan_in)`` (for ReLU networks).

    Args:
        seed: None (the default) draws from the library's generator (``fg.set_seed``); an
            integer gives the same values at every call, as a seeded Keras 3 initializer does.
        shape: (of a call) the shape of the tensor to make, a tuple of ints.
        dtype: (of a call) ``"float32"`` or ``"float64"``; None means float32 (default None).

    Examples:
        >>> fg.set_seed(0)
        >>> kernel = fg.initializers.HeUniform()((3, 2))
        >>> kernel.shape
        (3, 2)
    """

    _name = "he_uniform"
