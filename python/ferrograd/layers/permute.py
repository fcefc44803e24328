"""``Permute``: the axes of every sample reordered."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Permute(Layer):
    """Reorders the axes of every sample; the batch axis stays first.

    Args:
        dims: a permutation of ``1..rank`` (1-based, like Keras: the batch axis is not
            included), e.g. ``(2, 1)`` swaps the two axes of a ``(batch, time, features)``
            input.

    Input shape: ``(batch, d1, ..., dn)``. Output shape: ``(batch, d_dims[0], ...)``.

    Examples:
        >>> layers.Permute((2, 1))(np.ones((2, 3, 4), dtype="float32")).shape
        (2, 4, 3)
    """

    kind = "Permute"

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims_tuple = tuple(dims)
        except TypeError:
            dims_tuple = None
        if dims_tuple is None or sorted(dims_tuple) != list(range(1, len(dims_tuple) + 1)):
            raise ValueError(
                "Permute: dims must be a permutation of 1..rank (the batch axis is not "
                f"included). Received: dims={dims!r}"
            )
        self.dims = dims_tuple

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"dims": list(self.dims)}
