"""Keras's ``Constant`` (the Rust initializer ``src/initializers/constant.rs``)."""

from ferrograd.initializers.initializer import Initializer


class Constant(Initializer):
    """Every element ``value``.

    Args:
        value: the value of every element (default 0.0).

    Examples:
        >>> fg.initializers.Constant(2.0)((2,))
        tensor([2., 2.], shape=(2,), dtype=float32)
    """

    _name = "constant"

    def __init__(self, value=0.0):
        self.value = float(value)

    def get_config(self):
        """The constructor's arguments, as ``{"value": ...}``.

        Returns:
            A dict that ``Constant(**config)`` turns back into an equal initializer.

        Examples:
            >>> fg.initializers.Constant().get_config()
            {'value': 0.0}
        """
        return {"value": self.value}
