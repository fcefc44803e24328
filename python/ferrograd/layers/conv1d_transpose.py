"""``Conv1DTranspose`` (alias ``Convolution1DTranspose``): transposed 1-D convolution."""

from __future__ import annotations

from ferrograd.layers.conv2d_transpose import Conv2DTranspose


class Conv1DTranspose(Conv2DTranspose):
    """Transposed 1-D convolution: lengthens sequences (``in * stride`` with ``"same"``
    padding, ``in * stride + max(k - stride, 0)`` with ``"valid"``; with ``output_padding``
    ``p``: ``(in - 1) * stride + k - 2 * (k // 2 if "same" else 0) + p``).

    The kernel has Keras's layout ``(kernel_size, filters, in_channels)``; PyTorch's
    ``ConvTranspose1d.weight`` is ``kernel.transpose(2, 1, 0)``.

    Args:
        filters: the number of output channels.
        kernel_size: an int or a tuple of 1 int.
        strides: default 1 (strides > 1 cannot be combined with ``dilation_rate`` > 1).
        padding: ``"valid"`` (default) or ``"same"``.
        output_padding: None (default) or an int smaller than the stride.
        data_format: ``"channels_last"`` (default; ``(batch, steps, channels)``) or
            ``"channels_first"``.
        dilation_rate: default 1.
        activation: a name, a function of ``fg.activations``, or None (linear, default).
        use_bias: whether to add a bias (default True).
        kernel_initializer: default ``"glorot_uniform"``.
        bias_initializer: default ``"zeros"``.
        kernel_regularizer: e.g. ``fg.regularizers.l2(1e-4)`` (default None).
        bias_regularizer: e.g. ``fg.regularizers.l2(1e-4)`` (default None).
        activity_regularizer: not supported (ValueError when given).
        kernel_constraint: not supported (ValueError when given).
        bias_constraint: not supported (ValueError when given).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> up = layers.Conv1DTranspose(4, 3, strides=2, padding="same")
        >>> up(np.ones((2, 10, 3), dtype="float32")).shape
        (2, 20, 4)
    """

    kind = "Conv1DTranspose"
    _rank = 1


Convolution1DTranspose = Conv1DTranspose
