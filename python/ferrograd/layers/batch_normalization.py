"""``BatchNormalization``: per-feature normalisation with learned scale and offset."""

from __future__ import annotations

from ferrograd import initializers
from ferrograd.layers.layer import Layer


class BatchNormalization(Layer):
    """Normalises each feature (the entries along ``axis``) to zero mean and unit variance
    over every other axis: with the batch's statistics in training, with their moving averages
    at inference. The moving averages follow Keras, ``moving = moving * momentum + batch *
    (1 - momentum)`` with the biased batch variance (PyTorch's ``BatchNorm2d`` takes
    ``momentum = 1 - this momentum`` and keeps the unbiased variance).

    Args:
        axis: the feature axis (default -1, the channels of ``channels_last`` images; 1 for
            ``channels_first``). One integer: a list of axes is not supported (ValueError).
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
        axis=-1,
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
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(
                "BatchNormalization: axis must be one integer (several feature axes are not "
                f"supported by ferrograd). Received: axis={axis!r}"
            )
        if axis == 0:
            raise ValueError(
                "BatchNormalization: axis 0 is the batch axis and cannot hold the features. "
                f"Received: axis={axis!r}"
            )
        self.axis = axis
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer._settings(),
            "gamma_initializer": self.gamma_initializer._settings(),
            "moving_mean_initializer": self.moving_mean_initializer._settings(),
            "moving_variance_initializer": self.moving_variance_initializer._settings(),
        }
