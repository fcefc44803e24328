"""``Input`` and the ``InputLayer`` behind it: where a functional model starts."""

from __future__ import annotations

import numpy as np

from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import Layer
from ferrograd.layers.naming import unique_name
from ferrograd.layers.shapes import normalize_shape

#: The dtypes an ``Input`` may have.
INPUT_DTYPES = ("float32", "float64", "int32", "int64")


class InputLayer(Layer):
    """The placeholder that ``Input`` creates; it holds no weights and is never built.

    Args:
        shape: the shape of one sample (without the batch axis).
        name: the layer's name (``input_layer``, ``input_layer_1``... when omitted).
        dtype: ``"float32"`` (default) or ``"float64"``.

    Examples:
        >>> layer = layers.InputLayer((784,), name="pixels")
        >>> layer.output
        <KerasTensor shape=(None, 784), dtype=float32, produced by 'pixels'>
    """

    kind = "Input"

    def __init__(self, shape, name=None, dtype=None, batch_size=None):
        super().__init__(name=name or unique_name("input_layer"))
        dtype = np.dtype(dtype or "float32").name
        if dtype not in INPUT_DTYPES:
            raise ValueError(
                f"Input: dtype must be one of {', '.join(INPUT_DTYPES)}, received dtype={dtype!r}"
            )
        # An integer input (token ids) is fed to the graph in the model's float dtype.
        self.dtype = dtype
        self.shape = (batch_size, *normalize_shape(shape))
        self._output = KerasTensor(self.shape, self.dtype, producer=self)

    @property
    def output(self):
        """The symbolic tensor the input layer makes."""
        return self._output

    @property
    def input(self):
        """The same symbolic tensor, as Keras's ``InputLayer.input``."""
        return self._output

    def get_config(self) -> dict:
        """``name``, ``dtype`` and ``batch_shape``, as Keras's."""
        return {"name": self.name, "dtype": self.dtype, "batch_shape": list(self.shape)}

    def compute_output_shape(self, input_shape) -> tuple:
        """The input's own shape, batch axis first (an input does not transform anything).

        Args:
            input_shape: ignored.

        Returns:
            The tuple ``shape``.

        Examples:
            >>> layers.InputLayer((3,)).compute_output_shape((None, 3))
            (None, 3)
        """
        return self.shape

    def __call__(self, inputs, training=None, **kwargs):
        raise TypeError("an InputLayer is not called; use layers.Input(shape=...) instead")


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None):  # noqa: N802
    """A symbolic model input of ``shape`` (one sample, without the batch axis).

    Args:
        shape: the shape of one sample, e.g. ``(784,)``.
        batch_size: the batch size, when fixed (None leaves the batch axis open).
        name: the input layer's name.
        dtype: ``"float32"`` (default), ``"float64"``, or ``"int32"``/``"int64"`` for token
            ids (fed to the model in its float dtype).
        batch_shape: the shape with the batch axis first, instead of ``shape``.

    Examples:
        >>> inputs = layers.Input(shape=(784,))
        >>> outputs = layers.Dense(10, activation="softmax")(inputs)
        >>> model = fg.Model(inputs=inputs, outputs=outputs)
    """
    if batch_shape is not None:
        if shape is not None:
            raise ValueError("Input takes shape= or batch_shape=, not both")
        batch_shape = normalize_shape(batch_shape)
        if not batch_shape:
            raise ValueError("Input: batch_shape must include the batch axis")
        shape, batch_size = batch_shape[1:], batch_shape[0]
    if shape is None:
        raise ValueError("Input needs a shape, e.g. Input(shape=(784,))")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"Input: batch_size must be a positive int, received {batch_size!r}")
    return InputLayer(shape, name=name, dtype=dtype, batch_size=batch_size).output
