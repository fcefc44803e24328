"""``SimpleRNN``: the fully connected recurrent layer."""

from __future__ import annotations

from ferrograd.layers.rnn import _RNN


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

    Examples:
        >>> rnn = layers.SimpleRNN(4)
        >>> rnn(np.random.rand(32, 10, 8).astype("float32")).shape
        (32, 4)
    """

    kind = "SimpleRNN"
