"""``LayerNormalization``: each sample normalised over its feature axes."""

from __future__ import annotations

import math

from ferrograd import initializers, regularizers
from ferrograd.layers.layer import Layer, regularizer_settings


class LayerNormalization(Layer):
    """``(x - mean) / sqrt(variance + epsilon) * gamma + beta``, with the mean and variance
    of each sample over ``axis`` (unlike ``BatchNormalization``, nothing is shared across
    the batch, so training and inference agree).

    Args:
        axis: the axis or axes to normalise (not the batch axis); default the last.
        epsilon: added to the variance; Keras's default is 1e-3 (PyTorch's is 1e-5).
        center: whether to add the trained offset ``beta``.
        scale: whether to multiply by the trained scale ``gamma``.
        rms_scaling: not supported (must be False).
        beta_initializer: default ``"zeros"``.
        gamma_initializer: default ``"ones"``.
        beta_regularizer, gamma_regularizer: e.g. ``fg.regularizers.l2(1e-4)``.
        beta_constraint, gamma_constraint: not supported (must be None).

    Examples:
        >>> norm = layers.LayerNormalization()
        >>> norm(np.array([[1.0, 3.0]], dtype="float32")).numpy().round(3)
        array([[-1.,  1.]], dtype=float32)
    """

    kind = "LayerNormalization"

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        rms_scaling=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("rms_scaling", rms_scaling if rms_scaling else None),
            ("beta_constraint", beta_constraint),
            ("gamma_constraint", gamma_constraint),
        ):
            if value is not None:
                raise ValueError(
                    f"LayerNormalization: {name} is not supported. Received: {name}={value!r}"
                )
        axes = [axis] if isinstance(axis, int) else list(axis)
        if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise ValueError(
                "LayerNormalization: axis must be an integer or a list of integers. "
                f"Received: axis={axis!r}"
            )
        if (
            isinstance(epsilon, bool)
            or not isinstance(epsilon, (int, float))
            or not math.isfinite(epsilon)
            or epsilon <= 0
        ):
            raise ValueError(
                f"LayerNormalization: epsilon must be a positive number. Received: "
                f"epsilon={epsilon!r}"
            )
        self.axis = axis if isinstance(axis, int) else axes
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer._settings(),
            "gamma_initializer": self.gamma_initializer._settings(),
            "beta_regularizer": regularizer_settings(self.beta_regularizer),
            "gamma_regularizer": regularizer_settings(self.gamma_regularizer),
        }

    @property
    def gamma(self):
        """The scale, or None before the layer is built or without ``scale``."""
        return self._weight("gamma")

    @property
    def beta(self):
        """The offset, or None before the layer is built or without ``center``."""
        return self._weight("beta")
