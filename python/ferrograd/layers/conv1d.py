"""``Conv1D`` (alias ``Convolution1D``): 1-D convolution over sequences."""

from __future__ import annotations

from ferrograd.layers.conv2d import Conv2D


class Conv1D(Conv2D):
    """1-D convolution: ``activation(conv1d(inputs, kernel) + bias)``, TensorFlow's padding
    rules; ``padding="causal"`` pads ``dilation_rate * (kernel_size - 1)`` zeros before the
    sequence so that output ``t`` sees only inputs up to ``t``.

    The kernel has Keras's layout ``(kernel_size, in_channels // groups, filters)``;
    PyTorch's ``Conv1d.weight`` is ``kernel.transpose(2, 1, 0)``.

    Args:
        filters: the number of output channels.
        kernel_size: an int or a tuple of 1 int.
        strides: default 1 (strides > 1 cannot be combined with ``dilation_rate`` > 1).
        padding: ``"valid"`` (default), ``"same"`` or ``"causal"``.
        data_format: ``"channels_last"`` (default; ``(batch, steps, channels)``) or
            ``"channels_first"`` (``(batch, channels, steps)``).
        dilation_rate: default 1.
        groups: default 1.
        activation: as for ``Conv2D``.
        use_bias: as for ``Conv2D``.
        kernel_initializer: as for ``Conv2D``.
        bias_initializer: as for ``Conv2D``.
        kernel_regularizer: as for ``Conv2D``.
        bias_regularizer: as for ``Conv2D``. Constraints and ``activity_regularizer`` are not
            supported (ValueError).

    Examples:
        >>> conv = layers.Conv1D(4, 3, padding="causal")
        >>> conv(np.ones((2, 10, 3), dtype="float32")).shape
        (2, 10, 4)
    """

    kind = "Conv1D"
    _rank = 1
    _paddings = ("valid", "same", "causal")

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            **kwargs,
        )


Convolution1D = Conv1D
