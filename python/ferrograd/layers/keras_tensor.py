"""``KerasTensor``: the symbolic tensor that functional models are drawn with."""

from __future__ import annotations

from ferrograd.layers.shapes import format_shape


class KerasTensor:
    """The symbolic output of ``Input`` or of a layer called on one: a shape and a history,
    no values.

    Args:
        shape: the shape, batch axis first (None where unknown).
        dtype: ``"float32"`` or ``"float64"``.
        producer: the layer whose call made it (None for a free-standing tensor).
        inputs: the symbolic tensors that call read.

    Example:
        >>> inputs = layers.Input(shape=(4,))
        >>> layers.Dense(2)(inputs)
        <KerasTensor shape=(None, 2), dtype=float32, produced by 'dense'>
    """

    def __init__(self, shape, dtype="float32", producer=None, inputs=()):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._producer = producer
        self._inputs = tuple(inputs)

    @property
    def ndim(self) -> int:
        """The number of axes, batch axis included."""
        return len(self.shape)

    def __repr__(self):
        origin = f", produced by {self._producer.name!r}" if self._producer else ""
        return f"<KerasTensor shape={format_shape(self.shape)}, dtype={self.dtype}{origin}>"
