"""``GRU``: the Gated Recurrent Unit layer."""

from __future__ import annotations

from ferrograd import activations
from ferrograd.layers.rnn import _RNN


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

    Examples:
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
        """The settings the Rust layer is built from."""
        return {
            **super().settings(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }
