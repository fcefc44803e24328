"""``BatchNormalization``: per-feature normalisation with learned scale and offset."""

from __future__ import annotations

from ferrograd import initializers
from ferrograd.layers.layer import Layer


class BatchNormalization(Layer):
    """Normalises each feature (last axis) to zero mean and unit variance: with the batch's
    statistics in training, with their moving averages at inference.

    Args:
        momentum: of the moving averages (default 0.99).
        epsilon: added to the variance (default 1e-3).
        center, scale: whether to learn ``beta`` (offset) and ``gamma`` (scale).
        beta_initializer, gamma_initializer: default ``"zeros"`` and ``"ones"``.
        moving_mean_initializer, moving_variance_initializer: default ``"zeros"`` and
            ``"ones"``.

    Examples:
        >>> norm = layers.BatchNormalization()
        >>> norm(np.ones((4, 3), dtype="float32"), training=True).shape
        (4, 3)
    """

    kind = "BatchNormalization"

    def __init__(
        self,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer._settings(),
            "gamma_initializer": self.gamma_initializer._settings(),
            "moving_mean_initializer": self.moving_mean_initializer._settings(),
            "moving_variance_initializer": self.moving_variance_initializer._settings(),
        }
