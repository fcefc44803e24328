"""The core layers: ``Dense``, ``Activation``, ``Dropout``, ``Flatten``, ``BatchNormalization``."""

from ferrograd import activations, initializers, regularizers
from ferrograd.layers.base import Layer


def _regularizer_settings(regularizer):
    regularizer = regularizers.get(regularizer)
    return None if regularizer is None else regularizer.get_config()


class Dense(Layer):
    """A densely connected layer: ``activation(inputs @ kernel + bias)`` on the last axis.

    The kernel has shape ``(input_features, units)`` (Keras's layout; PyTorch's ``Linear``
    stores the transpose).

    Args:
        units: the number of outputs.
        activation: a name (``"relu"``, ``"softmax"``, ...), a function of
            ``fg.activations``, or None (linear).
        use_bias: whether to add a bias.
        kernel_initializer: default ``"glorot_uniform"``.
        bias_initializer: default ``"zeros"``.
        kernel_regularizer, bias_regularizer: e.g. ``fg.regularizers.l2(1e-4)``.

    Input shape: ``(batch, ..., input_features)``. Output shape: ``(batch, ..., units)``.

    Example:
        >>> layer = layers.Dense(3, activation="relu")
        >>> layer(np.ones((2, 4), dtype="float32")).shape
        (2, 3)
    """

    kind = "Dense"

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"units must be a positive integer. Received: units={units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def settings(self):
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer._settings(),
            "bias_initializer": self.bias_initializer._settings(),
            "kernel_regularizer": _regularizer_settings(self.kernel_regularizer),
            "bias_regularizer": _regularizer_settings(self.bias_regularizer),
        }

    @property
    def kernel(self):
        return self._weight("kernel")

    @property
    def bias(self):
        return self._weight("bias")

    def _weight(self, name):
        for weight_name, tensor, _ in self._weight_entries():
            if weight_name == name:
                return tensor
        return None


class Activation(Layer):
    """Applies an activation function: ``layers.Activation("relu")``."""

    kind = "Activation"

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def settings(self):
        return {"activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Sets a fraction ``rate`` of its inputs to zero during training (and scales the rest by
    ``1 / (1 - rate)``); does nothing at inference.

    Args:
        rate: the fraction to drop, in [0, 1).
    """

    kind = "Dropout"

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"rate must be a number in [0, 1). Received: rate={rate!r}")
        self.rate = float(rate)

    def settings(self):
        return {"rate": self.rate}


class Flatten(Layer):
    """Flattens every axis but the batch axis: ``(batch, 28, 28)`` becomes ``(batch, 784)``."""

    kind = "Flatten"


class BatchNormalization(Layer):
    """Normalises each feature (last axis) to zero mean and unit variance: with the batch's
    statistics in training, with their moving averages at inference.

    Args:
        momentum: of the moving averages (default 0.99).
        epsilon: added to the variance (default 1e-3).
        center, scale: whether to learn ``beta`` (offset) and ``gamma`` (scale).
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
