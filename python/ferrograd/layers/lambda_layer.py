"""``Lambda``: a layer made of a Python function, as Keras's ``layers.Lambda``. The function
is traced into the model's graph (see ``ferrograd.tracing``), so ``fit`` runs it in Rust."""

from __future__ import annotations

from collections.abc import Callable

from ferrograd.layers.layer import Layer


class Lambda(Layer):
    """Wraps a function of tensors as a layer: ``layers.Lambda(lambda x: x * 2)``.

    The function computes with ``ferrograd.ops`` (or the ``Tensor`` methods); ``fit`` traces
    it once into the model's graph. A file saved with a ``Lambda`` layer names the function;
    loading it needs the function in ``custom_objects``, since a file never holds code.

    Args:
        function: takes the input (a tensor, or a list for several) and returns a tensor.
        output_shape: accepted for Keras's signature; the shape comes from the traced
            function.
        mask: not supported (None).
        arguments: keyword arguments passed to ``function`` at each call.
        **kwargs: ``name``, ``dtype``, ``trainable``, ``input_shape``.

    Examples:
        >>> double = layers.Lambda(lambda x: x * 2.0)
        >>> double(np.ones((1, 2), dtype="float32")).tolist()
        [[2.0, 2.0]]
        >>> seq = fg.Sequential([layers.Input(shape=(3,)), layers.Lambda(fg.ops.square)])
        >>> seq.predict(np.full((1, 3), 3.0, dtype="float32"), verbose=0).tolist()
        [[9.0, 9.0, 9.0]]
    """

    def __init__(
        self,
        function: Callable,
        output_shape=None,
        mask=None,
        arguments: dict | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda takes a function, received {function!r}")
        if mask is not None:
            raise ValueError(f"layer {self.name!r}: Lambda(mask=...) is not supported")
        self.function = function
        self.output_shape_arg = output_shape
        self.arguments = dict(arguments or {})

    def call(self, inputs):
        """``function(inputs, **arguments)``.

        Args:
            inputs: the input tensor, or a list of them.

        Returns:
            What the function returns.

        Examples:
            >>> layers.Lambda(lambda x: x + 1.0).call(fg.zeros(2)).tolist()
            [1.0, 1.0]
        """
        return self.function(inputs, **self.arguments)

    def get_config(self) -> dict:
        """The name, dtype and the function's name (its code is never saved)."""
        config = super().get_config()
        config["function"] = getattr(self.function, "__name__", repr(self.function))
        config["arguments"] = dict(self.arguments)
        return config
