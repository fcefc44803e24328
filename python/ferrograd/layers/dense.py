"""``Dense``: the densely connected layer."""

from __future__ import annotations

from ferrograd import activations, initializers, regularizers
from ferrograd.layers.layer import Layer, regularizer_settings


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

    Examples:
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
        """The settings the Rust layer is built from."""
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer._settings(),
            "bias_initializer": self.bias_initializer._settings(),
            "kernel_regularizer": regularizer_settings(self.kernel_regularizer),
            "bias_regularizer": regularizer_settings(self.bias_regularizer),
        }

    @property
    def kernel(self):
        """The input kernel, or None before the layer is built."""
        return self._weight("kernel")

    @property
    def bias(self):
        """The bias, or None before the layer is built or without ``use_bias``."""
        return self._weight("bias")
