"""``Reshape``: a new shape for every sample."""

from __future__ import annotations

from ferrograd.layers.layer import Layer


class Reshape(Layer):
    """Reshapes every sample to ``target_shape``; the batch axis stays.

    Args:
        target_shape: the shape of one sample (a tuple of positive integers); one entry may
            be ``-1``, inferred from the sample's size.

    Input shape: ``(batch, ...)``. Output shape: ``(batch, *target_shape)``.

    Examples:
        >>> layers.Reshape((3, -1))(np.ones((2, 12), dtype="float32")).shape
        (2, 3, 4)
    """

    kind = "Reshape"

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(target_shape)
        except TypeError:
            target = None
        if (
            target is None
            or not all(isinstance(d, int) and not isinstance(d, bool) for d in target)
            or any(d == 0 or d < -1 for d in target)
            or target.count(-1) > 1
        ):
            raise ValueError(
                "Reshape: target_shape must be a tuple of positive integers with at most one "
                f"-1. Received: target_shape={target_shape!r}"
            )
        self.target_shape = target

    def settings(self):
        """The settings the Rust layer is built from."""
        return {"target_shape": list(self.target_shape)}
