"""``ActivityRegularization``: the identity, with an L1/L2 penalty on its input added to the
loss."""

from __future__ import annotations

import math

from ferrograd.layers.layer import Layer


class ActivityRegularization(Layer):
    """Passes its input through unchanged and adds ``l1 * sum(|x|) + l2 * sum(x ** 2)`` (over
    the whole batch, as Keras 3) to the training loss; ``layer.losses`` and ``model.losses``
    show the penalty of the latest call.

    A layer called at two places of one model counts its latest call only.

    Args:
        l1: the L1 factor (default 0.0).
        l2: the L2 factor (default 0.0).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Input shape: any. Output shape: the same.

    Examples:
        >>> layer = layers.ActivityRegularization(l1=0.1)
        >>> layer(np.array([[1.0, -2.0]], "float32")).numpy()
        array([[ 1., -2.]], dtype=float32)
        >>> float(layer.losses[0].numpy())
        0.3...
    """

    kind = "ActivityRegularization"

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("l1", l1), ("l2", l2)):
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(
                    f"ActivityRegularization: {name} must be a non-negative number. "
                    f"Received: {name}={value!r}"
                )
        self.l1 = float(l1)
        self.l2 = float(l2)

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {"l1": self.l1, "l2": self.l2}
