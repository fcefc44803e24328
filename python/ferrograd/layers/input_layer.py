"""``Input`` and the ``InputLayer`` behind it: where a functional model starts."""

from __future__ import annotations

from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import Layer
from ferrograd.layers.naming import unique_name
from ferrograd.layers.shapes import normalize_shape


class InputLayer(Layer):
    """The placeholder that ``Input`` creates; it holds no weights and is never built.

    Args:
        shape: the shape of one sample (without the batch axis).
        name: the layer's name (``input_layer``, ``input_layer_1``... when omitted).
        dtype: ``"float32"`` (default) or ``"float64"``.

    Example:
        >>> layer = layers.InputLayer((784,), name="pixels")
        >>> layer.output
        <KerasTensor shape=(None, 784), dtype=float32, produced by 'pixels'>
    """

    kind = "Input"

    def __init__(self, shape, name=None, dtype=None):
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype)
        self.shape = (None, *normalize_shape(shape))
        self.output = KerasTensor(self.shape, self.dtype, producer=self)

    def get_config(self) -> dict:
        """``name``, ``dtype`` and ``batch_shape``, as Keras's."""
        return {"name": self.name, "dtype": self.dtype, "batch_shape": list(self.shape)}

    def compute_output_shape(self, input_shape) -> tuple:
        """The input's own shape, batch axis first."""
        return self.shape

    def __call__(self, inputs, training=None):
        raise TypeError("an InputLayer is not called; use layers.Input(shape=...) instead")


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None):  # noqa: N802
    """A symbolic model input of ``shape`` (one sample, without the batch axis).

    Args:
        shape: the shape of one sample, e.g. ``(784,)``.
        batch_size: accepted for Keras compatibility; the batch axis stays open.
        name: the input layer's name.
        dtype: ``"float32"`` (default) or ``"float64"``.
        batch_shape: the shape with the batch axis first, instead of ``shape``.

    Example:
        >>> inputs = layers.Input(shape=(784,))
        >>> outputs = layers.Dense(10, activation="softmax")(inputs)
        >>> model = fg.Model(inputs=inputs, outputs=outputs)
    """
    if batch_shape is not None:
        batch_shape = normalize_shape(batch_shape)
        shape = batch_shape[1:]
    if shape is None:
        raise ValueError("Input needs a shape, e.g. Input(shape=(784,))")
    return InputLayer(shape, name=name, dtype=dtype).output
