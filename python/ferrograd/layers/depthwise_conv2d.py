"""``DepthwiseConv2D``: each input channel convolved on its own."""

from __future__ import annotations

from ferrograd import activations, initializers, regularizers
from ferrograd.layers.conv_utils import (
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    refuse_unsupported,
)
from ferrograd.layers.layer import Layer, regularizer_settings


def positive_int(value, argument, layer):
    """``value`` checked to be a positive int (not a bool), for ``depth_multiplier`` and
    ``filters``.

    Args:
        value: the argument as given.
        argument: its name, for the message.
        layer: the layer's class name, for the message.

    Examples:
        >>> positive_int(2, "depth_multiplier", "DepthwiseConv2D")
        2
    """
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"{layer}: {argument} must be a positive integer. Received: {argument}={value!r}"
        )
    return value


class DepthwiseConv2D(Layer):
    """Depthwise 2-D convolution: every input channel ``c`` is convolved with its own
    ``depth_multiplier`` filters, giving output channels ``c * depth_multiplier + m``
    (``Conv2D`` with ``groups`` equal to the input channels).

    The kernel has Keras's layout ``(kernel_h, kernel_w, in_channels, depth_multiplier)``;
    PyTorch's ``Conv2d(c, c * m, k, groups=c).weight`` is
    ``kernel.reshape(kh, kw, 1, c * m).transpose(3, 2, 0, 1)`` (see ``docs/weight_layout.md``).

    Args:
        kernel_size: an int or a tuple of 2 ints.
        strides: an int or a tuple of 2 ints (default 1); strides > 1 cannot be combined with
            ``dilation_rate`` > 1.
        padding: ``"valid"`` (default) or ``"same"``.
        depth_multiplier: output channels per input channel (default 1).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: an int or a tuple of 2 ints (default 1).
        activation: a name, a function of ``fg.activations``, or None (linear).
        use_bias: whether to add a bias (default True), ``(in_channels * depth_multiplier,)``.
        depthwise_initializer: default ``"glorot_uniform"``.
        bias_initializer: default ``"zeros"``.
        depthwise_regularizer: e.g. ``fg.regularizers.l2(1e-4)`` (default None).
        bias_regularizer: e.g. ``fg.regularizers.l2(1e-4)`` (default None).
        activity_regularizer: not supported (ValueError when given).
        depthwise_constraint: not supported (ValueError when given).
        bias_constraint: not supported (ValueError when given).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> conv = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
        >>> conv(np.ones((2, 8, 8, 3), dtype="float32")).shape
        (2, 8, 8, 6)
    """

    kind = "DepthwiseConv2D"

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        refuse_unsupported(
            name,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
        )
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size", name)
        self.strides = normalize_tuple(strides, 2, "strides", name)
        self.padding = normalize_padding(padding, name)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", name)
        self.data_format = normalize_data_format(data_format, name)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", name)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{name}: strides > 1 not supported in conjunction with dilation_rate > 1. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": self.depthwise_initializer._settings(),
            "bias_initializer": self.bias_initializer._settings(),
            "depthwise_regularizer": regularizer_settings(self.depthwise_regularizer),
            "bias_regularizer": regularizer_settings(self.bias_regularizer),
        }

    @property
    def kernel(self):
        """The kernel ``(kh, kw, in_channels, depth_multiplier)``, or None before build."""
        return self._weight("kernel")

    @property
    def bias(self):
        """The bias ``(in_channels * depth_multiplier,)``, or None before build or without
        ``use_bias``."""
        return self._weight("bias")
