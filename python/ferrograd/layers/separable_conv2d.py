"""``SeparableConv2D`` (alias ``SeparableConvolution2D``): depthwise then pointwise
convolution."""

from __future__ import annotations

from ferrograd import activations, initializers, regularizers
from ferrograd.layers.conv_utils import (
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    refuse_unsupported,
)
from ferrograd.layers.depthwise_conv2d import positive_int
from ferrograd.layers.layer import Layer, regularizer_settings


class SeparableConv2D(Layer):
    """Depthwise separable 2-D convolution: a depthwise convolution (each input channel with
    its own ``depth_multiplier`` filters, ``strides``, ``padding`` and ``dilation_rate``
    applying here) followed by a 1x1 convolution to ``filters`` channels, then the bias and
    the activation. Far fewer weights than ``Conv2D`` for the same receptive field.

    Weights as Keras stores them: ``depthwise_kernel`` ``(kh, kw, in_channels,
    depth_multiplier)``, ``pointwise_kernel`` ``(1, 1, in_channels * depth_multiplier,
    filters)``, ``bias`` ``(filters,)``.

    Args:
        filters: the number of output channels.
        kernel_size: an int or a tuple of 2 ints.
        strides: an int or a tuple of 2 ints (default 1); strides > 1 cannot be combined with
            ``dilation_rate`` > 1.
        padding: ``"valid"`` (default) or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: an int or a tuple of 2 ints (default 1).
        depth_multiplier: depthwise output channels per input channel (default 1).
        activation: a name, a function of ``fg.activations``, or None (linear).
        use_bias: whether to add a bias (default True).
        depthwise_initializer: default ``"glorot_uniform"``.
        pointwise_initializer: default ``"glorot_uniform"``.
        bias_initializer: default ``"zeros"``.
        depthwise_regularizer: e.g. ``fg.regularizers.l2(1e-4)`` (default None).
        pointwise_regularizer: e.g. ``fg.regularizers.l2(1e-4)`` (default None).
        bias_regularizer: e.g. ``fg.regularizers.l2(1e-4)`` (default None).
        activity_regularizer: not supported (ValueError when given).
        depthwise_constraint: not supported (ValueError when given).
        pointwise_constraint: not supported (ValueError when given).
        bias_constraint: not supported (ValueError when given).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Examples:
        >>> conv = layers.SeparableConv2D(8, 3, depth_multiplier=2)
        >>> conv(np.ones((2, 8, 8, 3), dtype="float32")).shape
        (2, 6, 6, 8)
    """

    kind = "SeparableConv2D"

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = type(self).__name__
        refuse_unsupported(
            name,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint,
            bias_constraint=bias_constraint,
        )
        self.filters = positive_int(filters, "filters", name)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size", name)
        self.strides = normalize_tuple(strides, 2, "strides", name)
        self.padding = normalize_padding(padding, name)
        self.data_format = normalize_data_format(data_format, name)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", name)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{name}: strides > 1 not supported in conjunction with dilation_rate > 1. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", name)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def settings(self):
        """The settings the Rust layer is built from."""
        return {
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "depth_multiplier": self.depth_multiplier,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": self.depthwise_initializer._settings(),
            "pointwise_initializer": self.pointwise_initializer._settings(),
            "bias_initializer": self.bias_initializer._settings(),
            "depthwise_regularizer": regularizer_settings(self.depthwise_regularizer),
            "pointwise_regularizer": regularizer_settings(self.pointwise_regularizer),
            "bias_regularizer": regularizer_settings(self.bias_regularizer),
        }

    @property
    def depthwise_kernel(self):
        """``(kh, kw, in_channels, depth_multiplier)``, or None before build."""
        return self._weight("depthwise_kernel")

    @property
    def pointwise_kernel(self):
        """``(1, 1, in_channels * depth_multiplier, filters)``, or None before build."""
        return self._weight("pointwise_kernel")

    @property
    def bias(self):
        """The bias ``(filters,)``, or None before build or without ``use_bias``."""
        return self._weight("bias")


SeparableConvolution2D = SeparableConv2D
