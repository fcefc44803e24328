"""``PReLU``: a leaky ReLU whose slopes are trained."""

from __future__ import annotations

from ferrograd import initializers, regularizers
from ferrograd.layers.layer import Layer, regularizer_settings


class PReLU(Layer):
    """``x`` where ``x > 0``, ``alpha * x`` elsewhere, with a trainable ``alpha`` of one
    sample's shape (size 1 along ``shared_axes``, where one slope serves the whole axis).

    Args:
        alpha_initializer: default ``"zeros"`` (the layer starts as a ReLU).
        alpha_regularizer: e.g. ``fg.regularizers.l2(1e-4)``.
        alpha_constraint: not supported (must be None).
        shared_axes: the axes (1-based, the batch axis is 0) that share one slope, e.g.
            ``[1]`` for one slope per feature of a ``(batch, time, features)`` input.

    Examples:
        >>> prelu = layers.PReLU(alpha_initializer=fg.initializers.Constant(0.25))
        >>> prelu(np.array([[-4.0, 2.0]], dtype="float32")).numpy()
        array([[-1.,  2.]], dtype=float32)
    """

    kind = "PReLU"

    def __init__(
        self,
        alpha_initializer="zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if alpha_constraint is not None:
            raise ValueError(
                "PReLU: alpha_constraint is not supported. "
                f"Received: alpha_constraint={alpha_constraint!r}"
            )
        if shared_axes is not None:
            axes = [shared_axes] if isinstance(shared_axes, int) else list(shared_axes)
            if not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in axes):
                raise ValueError(
                    "PReLU: shared_axes must be axes >= 1 (the batch axis is 0). "
                    f"Received: shared_axes={shared_axes!r}"
                )
            shared_axes = axes
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.shared_axes = shared_axes

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "alpha_initializer": self.alpha_initializer._settings(),
            "alpha_regularizer": regularizer_settings(self.alpha_regularizer),
            "shared_axes": self.shared_axes,
        }

    @property
    def alpha(self):
        """The slopes below zero, or None before the layer is built."""
        return self._weight("alpha")
