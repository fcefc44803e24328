"""``Softmax``: the softmax over one axis, as a layer."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Softmax(Layer):
    """``exp(x) / sum(exp(x))`` over ``axis``.

    Keras's call argument ``mask`` (which sends masked positions to zero) is not supported:
    calls take no mask, and a mask arriving from an earlier layer passes through unchanged
    without affecting the values.

    Args:
        axis: the axis to normalise, an integer (negative counts from the end; the batch
            axis cannot be chosen). Keras's tuple of axes is not supported.

    Examples:
        >>> layers.Softmax()(np.array([[0.0, 0.0]], dtype="float32")).numpy()
        array([[0.5, 0.5]], dtype=float32)
    """

    kind = "Softmax"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(
                "Softmax: axis must be an integer (a tuple of axes is not supported). "
                f"Received: axis={axis!r}"
            )
        self.axis = axis

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"axis": self.axis}
