"""``LSTM``: the Long Short-Term Memory layer."""

from __future__ import annotations

from ferrograd import activations
from ferrograd.layers.rnn import _RNN


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

    Examples:
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
        """The settings the Rust layer is built from."""
        return {
            **super().settings(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }
