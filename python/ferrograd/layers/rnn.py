"""The base the recurrent layers ``SimpleRNN``, ``LSTM`` and ``GRU`` share: their common
arguments, settings, weights, states and masks.

Each call runs the whole sequence as one fused op in the Rust core (backpropagation through
time included). Equations, gate order and weight layout are Keras's; see
``docs/weight_layout.md`` for moving weights from Keras or PyTorch.
"""

from __future__ import annotations

from ferrograd import activations, initializers, regularizers
from ferrograd.layers.layer import regularizer_settings
from ferrograd.layers.masking import MaskAwareLayer


class _RNN(MaskAwareLayer):
    """What ``SimpleRNN``, ``LSTM`` and ``GRU`` share: settings, weights, states and masks."""

    _state_names: tuple = ("h",)

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        *,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"units must be a positive integer. Received: units={units!r}")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate < 1:
                raise ValueError(f"{name} must be a number in [0, 1). Received: {name}={rate!r}")
        if stateful:
            raise ValueError(
                "stateful=True is not supported: each call starts from zero states. Received: "
                "stateful=True"
            )
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        # The whole sequence is always one fused op; unrolling would change nothing.
        self.unroll = bool(unroll)
        self.stateful = False
        self.zero_output_for_mask = bool(zero_output_for_mask)

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer._settings(),
            "recurrent_initializer": self.recurrent_initializer._settings(),
            "bias_initializer": self.bias_initializer._settings(),
            "kernel_regularizer": regularizer_settings(self.kernel_regularizer),
            "recurrent_regularizer": regularizer_settings(self.recurrent_regularizer),
            "bias_regularizer": regularizer_settings(self.bias_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    def _check_single_output(self) -> None:
        if self.return_state:
            states = ", ".join(self._state_names)
            raise ValueError(
                f"{type(self).__name__} with return_state=True returns [output, {states}], and a "
                "Sequential model chains layers of one output: use the functional API "
                "(output, *states = layer(x)), or return_state=False"
            )

    @property
    def kernel(self):
        """The input kernel, or None before the layer is built."""
        return self._weight("kernel")

    @property
    def recurrent_kernel(self):
        """The kernel applied to the state fed back, or None before the layer is built."""
        return self._weight("recurrent_kernel")

    @property
    def bias(self):
        """The bias, or None before the layer is built or without ``use_bias``."""
        return self._weight("bias")
