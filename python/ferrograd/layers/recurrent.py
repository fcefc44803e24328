"""The recurrent layers ``SimpleRNN``, ``LSTM`` and ``GRU``, and the ``Bidirectional`` wrapper.

Each call runs the whole sequence as one fused op in the Rust core (backpropagation through
time included). Equations, gate order and weight layout are Keras's; see
``docs/weight_layout.md`` for moving weights from Keras or PyTorch.
"""

from __future__ import annotations

from ferrograd import activations, initializers, regularizers
from ferrograd.layers.core import _regularizer_settings
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
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer._settings(),
            "recurrent_initializer": self.recurrent_initializer._settings(),
            "bias_initializer": self.bias_initializer._settings(),
            "kernel_regularizer": _regularizer_settings(self.kernel_regularizer),
            "recurrent_regularizer": _regularizer_settings(self.recurrent_regularizer),
            "bias_regularizer": _regularizer_settings(self.bias_regularizer),
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
                "model's layers have one output: call the layer on tensors to get the states, or "
                "use return_state=False in a model"
            )

    @property
    def kernel(self):
        return self._weight("kernel")

    @property
    def recurrent_kernel(self):
        return self._weight("recurrent_kernel")

    @property
    def bias(self):
        return self._weight("bias")

    def _weight(self, name):
        for weight_name, tensor, _ in self._weight_entries():
            if weight_name == name:
                return tensor
        return None


class SimpleRNN(_RNN):
    """A fully connected recurrent layer: ``h_t = activation(x_t @ kernel + h_{t-1} @
    recurrent_kernel + bias)``.

    Args:
        units: the size of the state and output.
        activation: default ``"tanh"``.
        use_bias: default True.
        kernel_initializer: for ``kernel`` (input_dim, units); default ``"glorot_uniform"``.
        recurrent_initializer: for ``recurrent_kernel`` (units, units); default
            ``"orthogonal"``.
        bias_initializer: default ``"zeros"``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: default None.
        dropout: the fraction of input features dropped in training (one mask per call, the
            same at every step); default 0.
        recurrent_dropout: the same for the state fed back; default 0.
        return_sequences: return the output of every step (default False: the last one).
        return_state: also return the final state (on calls on tensors); default False.
        go_backwards: process the sequence from its end (outputs in that order); default False.

    Input shape: ``(batch, time, features)``, with an optional ``(batch, time)`` mask (from
    ``Embedding(mask_zero=True)`` or ``mask=``); masked steps keep the state unchanged.
    Output shape: ``(batch, time, units)`` with ``return_sequences``, else ``(batch, units)``;
    with ``return_state`` a list ``[output, h]``.

    Example:
        >>> rnn = layers.SimpleRNN(4)
        >>> rnn(np.random.rand(32, 10, 8).astype("float32")).shape
        (32, 4)
    """

    kind = "SimpleRNN"


class LSTM(_RNN):
    """Long Short-Term Memory (Hochreiter and Schmidhuber, 1997), with Keras's gate order
    (input, forget, cell, output) and weight layout.

    ``z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias``, split into four blocks of
    ``units``; ``i, f, o = recurrent_activation(z_i, z_f, z_o)``;
    ``c_t = f * c_{t-1} + i * activation(z_c)``; ``h_t = o * activation(c_t)``.

    Args:
        units: the size of the states and output.
        activation: default ``"tanh"``.
        recurrent_activation: of the gates; default ``"sigmoid"``.
        use_bias: default True.
        kernel_initializer: for ``kernel`` (input_dim, 4 * units); default
            ``"glorot_uniform"``.
        recurrent_initializer: for ``recurrent_kernel`` (units, 4 * units); default
            ``"orthogonal"``.
        bias_initializer: for ``bias`` (4 * units,); default ``"zeros"``.
        unit_forget_bias: start the forget gate's bias at 1 (default True).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: default None.
        dropout: the fraction of input features dropped in training (one mask per call, the
            same at every step and for every gate); default 0.
        recurrent_dropout: the same for the state fed back; default 0.
        return_sequences: return the output of every step (default False: the last one).
        return_state: also return the final states (on calls on tensors); default False.
        go_backwards: process the sequence from its end (outputs in that order); default False.

    Input shape: ``(batch, time, features)``, with an optional ``(batch, time)`` mask; masked
    steps keep both states unchanged and repeat the previous output.
    Output shape: ``(batch, time, units)`` with ``return_sequences``, else ``(batch, units)``;
    with ``return_state`` a list ``[output, h, c]``.

    Example:
        >>> lstm = layers.LSTM(4, return_sequences=True, return_state=True)
        >>> output, h, c = lstm(np.random.rand(32, 10, 8).astype("float32"))
        >>> output.shape, h.shape, c.shape
        ((32, 10, 4), (32, 4), (32, 4))
    """

    kind = "LSTM"
    _state_names = ("h", "c")

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        *,
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def settings(self) -> dict:
        return {
            **super().settings(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }


class GRU(_RNN):
    """Gated Recurrent Unit (Cho et al., 2014) in Keras 3's default form, ``reset_after=True``
    (the reset gate applies after the recurrent matmul, as in cuDNN and PyTorch), gate order
    (update z, reset r, candidate h).

    ``x_z|x_r|x_h = x_t @ kernel + bias[0]``; ``r_z|r_r|r_h = h_{t-1} @ recurrent_kernel +
    bias[1]``; ``z = recurrent_activation(x_z + r_z)``; ``r = recurrent_activation(x_r + r_r)``;
    ``hh = activation(x_h + r * r_h)``; ``h_t = z * h_{t-1} + (1 - z) * hh``.

    Args:
        units: the size of the state and output.
        activation: default ``"tanh"``.
        recurrent_activation: of the gates; default ``"sigmoid"``.
        use_bias: default True; the bias has shape (2, 3 * units): input bias, recurrent bias.
        kernel_initializer, recurrent_initializer, bias_initializer: default
            ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: default None.
        dropout, recurrent_dropout: as for ``LSTM``; default 0.
        return_sequences, return_state, go_backwards: as for ``LSTM``; default False.
        reset_after: only True is supported.

    Input shape: ``(batch, time, features)``, with an optional ``(batch, time)`` mask.
    Output shape: ``(batch, time, units)`` with ``return_sequences``, else ``(batch, units)``;
    with ``return_state`` a list ``[output, h]``.

    Example:
        >>> gru = layers.GRU(4)
        >>> gru(np.random.rand(32, 10, 8).astype("float32")).shape
        (32, 4)
    """

    kind = "GRU"

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        *,
        reset_after=True,
        **kwargs,
    ):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        if not reset_after:
            raise ValueError(
                "reset_after=False is not supported; ferrograd implements Keras 3's default "
                "reset_after=True (the cuDNN and PyTorch convention). Received: reset_after=False"
            )
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = True

    def settings(self) -> dict:
        return {
            **super().settings(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }


class Bidirectional(MaskAwareLayer):
    """Runs a recurrent layer forwards and a copy of it backwards over the same sequence, and
    merges their outputs.

    The backward copy's output sequence is flipped back to the input's time order before the
    merge, and with ``return_sequences`` both halves output zeros at masked steps (as in Keras).
    The wrapped layer only supplies settings: both halves get fresh weights, named
    ``forward_lstm/kernel``, ``backward_lstm/kernel``, ... after the wrapped kind.

    Args:
        layer: a ``SimpleRNN``, ``LSTM`` or ``GRU``.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"ave"``, ``"mul"``, or None for the two
            outputs as a list (on calls on tensors only).
        backward_layer: an optional layer of the same kind for the backward half, with the
            opposite ``go_backwards``.

    Input shape: as the wrapped layer's. Output shape: the wrapped layer's, with twice the
    units for ``"concat"``; with ``return_state``, the output then the forward and backward
    states.

    Example:
        >>> model = fg.Sequential([
        ...     layers.Embedding(10000, 64, mask_zero=True),
        ...     layers.Bidirectional(layers.LSTM(32)),
        ...     layers.Dense(1, activation="sigmoid"),
        ... ])
    """

    kind = "Bidirectional"

    def __init__(self, layer, merge_mode="concat", *, backward_layer=None, **kwargs):
        if not isinstance(layer, _RNN):
            raise ValueError(
                f"Bidirectional wraps a SimpleRNN, LSTM or GRU layer. Received: layer={layer!r}"
            )
        if backward_layer is not None and not isinstance(backward_layer, type(layer)):
            raise ValueError(
                f"backward_layer must be a {type(layer).__name__} like layer. Received: "
                f"backward_layer={backward_layer!r}"
            )
        if merge_mode not in ("concat", "sum", "ave", "mul", None):
            raise ValueError(
                "merge_mode must be one of 'concat', 'sum', 'ave', 'mul' or None. Received: "
                f"merge_mode={merge_mode!r}"
            )
        kwargs.setdefault("dtype", layer.dtype)
        super().__init__(**kwargs)
        self.layer = layer
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def settings(self) -> dict:
        def wrapped(layer):
            return {"class_name": layer.kind, "config": layer.settings()}

        return {
            "layer": wrapped(self.layer),
            "merge_mode": self.merge_mode,
            "backward_layer": None if self.backward_layer is None else wrapped(self.backward_layer),
        }

    def _check_single_output(self) -> None:
        if self.return_state or self.merge_mode is None:
            raise ValueError(
                "Bidirectional with return_state=True or merge_mode=None has several outputs, "
                "and a model's layers have one: call it on tensors instead"
            )
