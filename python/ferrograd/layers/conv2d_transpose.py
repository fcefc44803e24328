"""``Conv2DTranspose`` (alias ``Convolution2DTranspose``): transposed 2-D convolution."""

from __future__ import annotations

from ferrograd import activations, initializers, regularizers
from ferrograd.layers.conv_utils import (
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    refuse_unsupported,
)
from ferrograd.layers.layer import Layer, regularizer_settings


class Conv2DTranspose(Layer):
    """Transposed 2-D convolution (the input gradient of ``Conv2D``, sometimes called a
    deconvolution): enlarges feature maps, as in the generators of GANs and the decoders of
    autoencoders. Sizes as Keras computes them: ``in * stride`` with ``"same"`` padding,
    ``in * stride + max(k - stride, 0)`` with ``"valid"``, and with ``output_padding`` ``p``:
    ``(in - 1) * stride + k - 2 * (k // 2 if "same" else 0) + p`` (``k`` dilated).

    The kernel has Keras's layout ``(kernel_h, kernel_w, filters, in_channels)``; PyTorch's
    ``ConvTranspose2d.weight`` is ``kernel.transpose(3, 2, 0, 1)`` (see
    ``docs/weight_layout.md``).

    Args:
        filters: the number of output channels.
        kernel_size: an int or a tuple of 2 ints.
        strides: an int or a tuple of 2 ints (default 1); strides > 1 cannot be combined with
            ``dilation_rate`` > 1.
        padding: ``"valid"`` (default) or ``"same"``.
        output_padding: None (default) or an int or tuple of 2 ints, each smaller than the
            stride: extra rows/columns at the bottom/right of the output.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: an int or a tuple of 2 ints (default 1).
        activation: a name, a function of ``fg.activations``, or None (linear).
        use_bias: whether to add a bias (default True).
        kernel_initializer: default ``"glorot_uniform"``.
        bias_initializer: default ``"zeros"``.
        kernel_regularizer: e.g. ``fg.regularizers.l2(1e-4)`` (default None).
        bias_regularizer: e.g. ``fg.regularizers.l2(1e-4)`` (default None).
        activity_regularizer: not supported (ValueError when given).
        kernel_constraint: not supported (ValueError when given).
        bias_constraint: not supported (ValueError when given).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Input shape: ``(batch, height, width, channels)`` (channels last). Output shape:
    ``(batch, new_height, new_width, filters)``.

    Examples:
        >>> up = layers.Conv2DTranspose(4, 3, strides=2, padding="same")
        >>> up(np.ones((2, 8, 8, 3), dtype="float32")).shape
        (2, 16, 16, 4)
    """

    kind = "Conv2DTranspose"
    _rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        refuse_unsupported(
            name,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(
                f"{name}: filters must be a positive integer. Received: filters={filters!r}"
            )
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, self._rank, "kernel_size", name)
        self.strides = normalize_tuple(strides, self._rank, "strides", name)
        self.padding = normalize_padding(padding, name)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(
                output_padding, self._rank, "output_padding", name, allow_zero=True
            )
            if any(p >= s for p, s in zip(self.output_padding, self.strides, strict=True)):
                raise ValueError(
                    f"{name}: output_padding must be smaller than strides. Received: "
                    f"output_padding={self.output_padding}, strides={self.strides}"
                )
        self.data_format = normalize_data_format(data_format, name)
        self.dilation_rate = normalize_tuple(dilation_rate, self._rank, "dilation_rate", name)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{name}: strides > 1 not supported in conjunction with dilation_rate > 1. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "output_padding": None if self.output_padding is None else list(self.output_padding),
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer._settings(),
            "bias_initializer": self.bias_initializer._settings(),
            "kernel_regularizer": regularizer_settings(self.kernel_regularizer),
            "bias_regularizer": regularizer_settings(self.bias_regularizer),
        }

    @property
    def kernel(self):
        """The kernel ``(*kernel_size, filters, in_channels)``, or None before build."""
        return self._weight("kernel")

    @property
    def bias(self):
        """The bias ``(filters,)``, or None before build or without ``use_bias``."""
        return self._weight("bias")


Convolution2DTranspose = Conv2DTranspose
