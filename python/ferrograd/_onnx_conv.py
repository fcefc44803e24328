"""The ONNX nodes of the convolution, pooling, padding, cropping, upsampling and spatial
dropout layers, for ``fg.onnx.export``.

ONNX's ``Conv``, ``ConvTranspose``, ``MaxPool``, ``AveragePool`` and linear ``Resize`` read
channels first, ``(batch, channels, *spatial)``; a channels-last layer is written between two
``Transpose`` nodes (onnxruntime's graph optimizer cancels the pairs that meet between
consecutive layers). TensorFlow's "same" padding (the odd element after) is written as explicit
``pads`` when the spatial sizes are known and as ``auto_pad="SAME_UPPER"``, the same rule, when
they are not.
"""

from __future__ import annotations

import numpy as np

from ferrograd import activations
from ferrograd.layers import (
    AveragePooling1D,
    AveragePooling2D,
    Conv2D,
    Conv2DTranspose,
    Cropping1D,
    Cropping2D,
    DepthwiseConv2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
    SeparableConv2D,
    SpatialDropout1D,
    SpatialDropout2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding2D,
)

#: The layers this module writes, for the message of a refused export.
EXPORTED = (
    "Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, "
    "MaxPooling1D/2D, AveragePooling1D/2D, GlobalMaxPooling1D/2D, GlobalAveragePooling2D, "
    "ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D, SpatialDropout1D/2D"
)


def export_layer(builder, layer, x: str):
    """The output name of ``layer``'s nodes applied to ``x``, or None when ``layer`` is not
    one of this module's (subclasses are tested before their bases)."""
    if isinstance(layer, Conv2DTranspose):
        return _conv_transpose(builder, layer, x)
    if isinstance(layer, SeparableConv2D):
        return _separable(builder, layer, x)
    if isinstance(layer, DepthwiseConv2D):
        return _depthwise(builder, layer, x)
    if isinstance(layer, Conv2D):
        return _conv(builder, layer, x)
    if isinstance(layer, MaxPooling2D):
        return _pool(builder, layer, x)
    if isinstance(layer, GlobalMaxPooling2D):
        return _global_pool(builder, layer, x)
    if isinstance(layer, ZeroPadding2D):
        return _zero_padding(builder, layer, x)
    if isinstance(layer, (Cropping1D, Cropping2D)):
        return _cropping(builder, layer, x)
    if isinstance(layer, (UpSampling1D, UpSampling2D)):
        return _upsampling(builder, layer, x)
    if isinstance(layer, (SpatialDropout1D, SpatialDropout2D)):
        return x
    return None


# --- layouts and sizes -----------------------------------------------------------------------


def _rank(layer) -> int:
    return len(layer._input_shape) - 2


def _channels_first(layer) -> bool:
    return getattr(layer, "data_format", "channels_last") == "channels_first"


def _spatial_sizes(layer) -> list:
    """The input's spatial sizes (None where open)."""
    shape = list(layer._input_shape)
    return shape[2:] if _channels_first(layer) else shape[1:-1]


def _to_first(builder, layer, x: str) -> str:
    if _channels_first(layer):
        return x
    rank = _rank(layer)
    perm = [0, rank + 1, *range(1, rank + 1)]
    return builder.add("Transpose", [x], f"{layer.name}/to_channels_first", perm=perm)


def _to_last(builder, layer, y: str) -> str:
    if _channels_first(layer):
        return y
    rank = _rank(layer)
    perm = [0, *range(2, rank + 2), 1]
    return builder.add("Transpose", [y], f"{layer.name}/to_channels_last", perm=perm)


def _padding_attributes(layer, kernel, strides, dilation) -> dict:
    """``pads`` (or ``auto_pad``) of a convolution or pooling with TensorFlow's rules."""
    rank = len(kernel)
    if layer.padding == "valid":
        return {"pads": [0] * (2 * rank)}
    if layer.padding == "causal":
        return {"pads": [dilation[0] * (kernel[0] - 1), 0]}
    sizes = _spatial_sizes(layer)
    if any(size is None for size in sizes):
        return {"auto_pad": "SAME_UPPER"}
    before, after = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilation, strict=True):
        effective = d * (k - 1) + 1
        out = -(-size // s)
        total = max((out - 1) * s + effective - size, 0)
        before.append(total // 2)
        after.append(total - total // 2)
    return {"pads": before + after}


def _activation(builder, layer, y: str) -> str:
    """The layer's activation on its (channels-last or channels-first) output; the channel
    axis of a softmax is the layer's own."""
    name = activations.serialize(layer.activation)
    if name == "softmax" and _channels_first(layer):
        raise ValueError(
            f"the layer {layer.name!r} ({type(layer).__name__}) has data_format="
            "'channels_first' and a softmax activation, which export() cannot write"
        )
    return builder.activation(layer.activation, y, layer, "activation")


# --- convolutions ----------------------------------------------------------------------------


def _onnx_kernel(kernel: np.ndarray) -> np.ndarray:
    """A Keras kernel ``(*k, a, b)`` as ONNX's ``(b, a, *k)``: ``Conv``'s ``(out, in / group,
    *k)`` from a convolution's ``(*k, in / group, out)``, ``ConvTranspose``'s ``(in, out,
    *k)`` from a transposed convolution's ``(*k, out, in)``."""
    rank = kernel.ndim - 2
    return kernel.transpose(rank + 1, rank, *range(rank))


def _weights(layer) -> dict:
    return {name: tensor.numpy() for name, tensor, _ in layer._weight_entries()}


def _conv_node(builder, layer, x, kernel, bias, weight_name, group, strides, dilation):
    inputs = [x, builder.constant(f"{layer.name}/{weight_name}", _onnx_kernel(kernel))]
    if bias is not None:
        inputs.append(builder.constant(f"{layer.name}/bias", bias))
    k = list(kernel.shape[:-2])
    return builder.add(
        "Conv",
        inputs,
        layer.name,
        kernel_shape=k,
        strides=list(strides),
        dilations=list(dilation),
        group=group,
        **_padding_attributes(layer, k, strides, dilation),
    )


def _conv(builder, layer, x: str) -> str:
    weights = _weights(layer)
    y = _conv_node(
        builder,
        layer,
        _to_first(builder, layer, x),
        weights["kernel"],
        weights.get("bias"),
        "kernel",
        layer.groups,
        layer.strides,
        layer.dilation_rate,
    )
    return _activation(builder, layer, _to_last(builder, layer, y))


def _grouped_depthwise(kernel: np.ndarray) -> np.ndarray:
    """A depthwise kernel ``(kh, kw, c, m)`` as the grouped convolution's ``(kh, kw, 1,
    c * m)``."""
    kh, kw, c, m = kernel.shape
    return kernel.reshape(kh, kw, 1, c * m)


def _depthwise(builder, layer, x: str) -> str:
    weights = _weights(layer)
    channels = weights["kernel"].shape[2]
    y = _conv_node(
        builder,
        layer,
        _to_first(builder, layer, x),
        _grouped_depthwise(weights["kernel"]),
        weights.get("bias"),
        "kernel",
        channels,
        layer.strides,
        layer.dilation_rate,
    )
    return _activation(builder, layer, _to_last(builder, layer, y))


def _separable(builder, layer, x: str) -> str:
    weights = _weights(layer)
    depthwise = weights["depthwise_kernel"]
    mixed = _conv_node(
        builder,
        layer,
        _to_first(builder, layer, x),
        _grouped_depthwise(depthwise),
        None,
        "depthwise_kernel",
        depthwise.shape[2],
        layer.strides,
        layer.dilation_rate,
    )
    pointwise = [
        mixed,
        builder.constant(
            f"{layer.name}/pointwise_kernel", _onnx_kernel(weights["pointwise_kernel"])
        ),
    ]
    if "bias" in weights:
        pointwise.append(builder.constant(f"{layer.name}/bias", weights["bias"]))
    y = builder.add("Conv", pointwise, f"{layer.name}/pointwise", kernel_shape=[1, 1])
    return _activation(builder, layer, _to_last(builder, layer, y))


def _conv_transpose(builder, layer, x: str) -> str:
    """ONNX's ``ConvTranspose`` gives the full scatter, ``(in - 1) * s + e`` long, plus its
    ``output_padding``, less its ``pads``; Keras's sizes differ from the full scatter by an
    amount that does not depend on ``in``, cropped (half at the start, the odd one at the end)
    or added at the end."""
    weights = _weights(layer)
    begin, end, extra = [], [], []
    for k, s, d, i in zip(
        layer.kernel_size,
        layer.strides,
        layer.dilation_rate,
        range(len(layer.kernel_size)),
        strict=True,
    ):
        effective = d * (k - 1) + 1
        # With an input of length 1: the full scatter is `effective` long.
        p = None if layer.output_padding is None else layer.output_padding[i]
        if p is None:
            length = s if layer.padding == "same" else s + max(effective - s, 0)
        elif layer.padding == "same":
            length = effective - 2 * (effective // 2) + p
        else:
            length = effective + p
        surplus = effective - length
        if surplus >= 0:
            begin.append(surplus // 2)
            end.append(surplus - surplus // 2)
            extra.append(0)
        else:
            begin.append(0)
            end.append(0)
            extra.append(-surplus)
    inputs = [
        _to_first(builder, layer, x),
        builder.constant(f"{layer.name}/kernel", _onnx_kernel(weights["kernel"])),
    ]
    if "bias" in weights:
        inputs.append(builder.constant(f"{layer.name}/bias", weights["bias"]))
    y = builder.add(
        "ConvTranspose",
        inputs,
        layer.name,
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.strides),
        dilations=list(layer.dilation_rate),
        pads=begin + end,
        output_padding=extra,
    )
    return _activation(builder, layer, _to_last(builder, layer, y))


# --- pooling, padding, cropping, upsampling --------------------------------------------------


def _pool(builder, layer, x: str) -> str:
    pool = list(layer.pool_size)
    strides = list(layer.strides or layer.pool_size)
    attributes = _padding_attributes(layer, pool, strides, [1] * len(pool))
    if isinstance(layer, (AveragePooling1D, AveragePooling2D)):
        # Keras's "same" average counts only the input positions in each window.
        op, attributes["count_include_pad"] = "AveragePool", 0
    else:
        op = "MaxPool"
    y = builder.add(
        op,
        [_to_first(builder, layer, x)],
        layer.name,
        kernel_shape=pool,
        strides=strides,
        **attributes,
    )
    return _to_last(builder, layer, y)


def _global_pool(builder, layer, x: str) -> str:
    rank = _rank(layer)
    first = 2 if _channels_first(layer) else 1
    axes = list(range(first, first + rank))
    op = "ReduceMean" if isinstance(layer, GlobalAveragePooling2D) else "ReduceMax"
    keepdims = int(layer.keepdims)
    if builder.opset >= 18:
        axes_name = builder.int_constant(f"{layer.name}/axes", axes)
        return builder.add(op, [x, axes_name], layer.name, keepdims=keepdims)
    return builder.add(op, [x], layer.name, axes=axes, keepdims=keepdims)


def _spatial_axes(layer) -> list:
    first = 2 if _channels_first(layer) else 1
    return list(range(first, first + _rank(layer)))


def _zero_padding(builder, layer, x: str) -> str:
    rank = len(layer._input_shape)
    begin, end = [0] * rank, [0] * rank
    for axis, (before, after) in zip(_spatial_axes(layer), layer.padding, strict=True):
        begin[axis], end[axis] = before, after
    pads = builder.int_constant(f"{layer.name}/pads", begin + end)
    return builder.add("Pad", [x, pads], layer.name, mode="constant")


def _cropping(builder, layer, x: str) -> str:
    axes = _spatial_axes(layer)
    starts = [before for before, _ in layer.cropping]
    # A negative end counts from the axis's end, so open sizes need nothing more.
    ends = [-after if after else np.iinfo(np.int64).max for _, after in layer.cropping]
    return builder.add(
        "Slice",
        [
            x,
            builder.int_constant(f"{layer.name}/starts", starts),
            builder.int_constant(f"{layer.name}/ends", ends),
            builder.int_constant(f"{layer.name}/axes", axes),
        ],
        layer.name,
    )


def _upsampling(builder, layer, x: str) -> str:
    rank = _rank(layer)
    size = list(layer.size) if isinstance(layer.size, tuple) else [layer.size]
    interpolation = getattr(layer, "interpolation", "nearest")
    if interpolation == "nearest":
        # Nearest with floor on asymmetric coordinates repeats each position `size` times;
        # it works on any axes, so the layout stays as it is.
        scales = [1.0] * (rank + 2)
        for axis, factor in zip(_spatial_axes(layer), size, strict=True):
            scales[axis] = float(factor)
        return builder.add(
            "Resize",
            [x, "", builder.constant(f"{layer.name}/scales", np.asarray(scales, np.float32))],
            layer.name,
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )
    scales = np.asarray([1.0, 1.0, *map(float, size)], np.float32)
    y = builder.add(
        "Resize",
        [_to_first(builder, layer, x), "", builder.constant(f"{layer.name}/scales", scales)],
        layer.name,
        mode="linear",
        coordinate_transformation_mode="half_pixel",
    )
    return _to_last(builder, layer, y)
