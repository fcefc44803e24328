"""Transposed, depthwise and separable convolutions, zero padding, cropping and spatial
dropout: values against PyTorch on converted weights (docs/weight_layout.md), float64
gradients against finite differences, Keras's summary, saving, and bad arguments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_conv_layers import finite_difference_check, tf_same_pads

import ferrograd as fg
from ferrograd import layers


def keras_transposed_size(size, kernel, stride, dilation, padding, output_padding):
    """Keras's ``deconv_output_length`` and the crop TensorFlow's "SAME" padding makes at the
    start: (output length, positions cropped before)."""
    effective = dilation * (kernel - 1) + 1
    full = (size - 1) * stride + effective
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(effective - stride, 0), 0
        length = size * stride
    else:
        pad = effective // 2 if padding == "same" else 0
        length = full - 2 * pad + output_padding
    if padding == "valid":
        return length, 0
    return length, max(full - length, 0) // 2


def torch_conv_transpose(x_last, kernel, bias, strides, dilation, padding, output_padding):
    """A Keras transposed convolution from PyTorch's ``conv_transpose{1,2}d`` without padding
    (the full scatter), cropped and zero-extended to Keras's sizes; channels last in and out.
    The Keras kernel ``(*k, out, in)`` becomes PyTorch's ``(in, out, *k)``."""
    rank = x_last.ndim - 2
    x = torch.tensor(x_last).movedim(-1, 1)
    weight = torch.tensor(kernel).permute(rank + 1, rank, *range(rank))
    f = F.conv_transpose1d if rank == 1 else F.conv_transpose2d
    full = f(x, weight, stride=strides, dilation=dilation).numpy()
    sizes = [
        keras_transposed_size(
            x_last.shape[1 + a],
            kernel.shape[a],
            strides[a],
            dilation[a],
            padding,
            None if output_padding is None else output_padding[a],
        )
        for a in range(rank)
    ]
    out = np.zeros((full.shape[0], full.shape[1], *(length for length, _ in sizes)))
    take = tuple(
        slice(crop, min(crop + length, full.shape[2 + a])) for a, (length, crop) in enumerate(sizes)
    )
    put = tuple(slice(0, s.stop - s.start) for s in take)
    out[(slice(None), slice(None), *put)] = full[(slice(None), slice(None), *take)]
    if bias is not None:
        out += bias.reshape((1, -1) + (1,) * rank)
    return np.moveaxis(out, 1, -1)


TRANSPOSE2D_CASES = [
    dict(filters=3, kernel_size=3, strides=2, padding="same"),
    dict(filters=2, kernel_size=(2, 3), strides=(2, 1)),
    dict(filters=3, kernel_size=3, strides=2, padding="same", output_padding=1),
    dict(filters=2, kernel_size=4, strides=(3, 2), output_padding=(2, 1)),
    dict(filters=2, kernel_size=3, dilation_rate=(2, 1), padding="same"),
    dict(filters=4, kernel_size=(3, 2), strides=2, padding="same", output_padding=(0, 1)),
    dict(filters=2, kernel_size=(2, 4), strides=(2, 3), padding="same", use_bias=False),
    dict(filters=1, kernel_size=1, strides=3, output_padding=2),
]


@pytest.mark.parametrize("case", TRANSPOSE2D_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_transpose_matches_torch(case, data_format, rng):
    x = rng.standard_normal((2, 4, 5, 3))
    layer = layers.Conv2DTranspose(**case, data_format=data_format, dtype="float64")
    x_in = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    layer.build(x_in.shape)
    kernel = rng.standard_normal(layer.kernel.shape)
    assert kernel.shape == (*layer.kernel_size, case["filters"], 3)
    bias = rng.standard_normal(case["filters"]) if layer.use_bias else None
    layer.set_weights([kernel] if bias is None else [kernel, bias])
    y = layer(x_in).numpy()
    expected = torch_conv_transpose(
        x, kernel, bias, layer.strides, layer.dilation_rate, layer.padding, layer.output_padding
    )
    if data_format == "channels_first":
        expected = expected.transpose(0, 3, 1, 2)
    assert y.shape == expected.shape
    assert tuple(layer.compute_output_shape(x_in.shape)) == y.shape
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


def test_conv2d_transpose_with_symmetric_crop_is_torchs_padded_layer(rng):
    # kernel 4, stride 2, "same" (the DCGAN generator's layer) crops 1 at each end: it is
    # nn.ConvTranspose2d(padding=1) with the weight permuted (3, 2, 0, 1).
    x = rng.standard_normal((2, 5, 6, 3))
    layer = layers.Conv2DTranspose(4, 4, strides=2, padding="same", dtype="float64")
    y = layer(x).numpy()
    kernel, bias = (w.numpy() for w in (layer.kernel, layer.bias))
    torch_layer = torch.nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1).double()
    with torch.no_grad():
        torch_layer.weight.copy_(torch.tensor(kernel).permute(3, 2, 0, 1))
        torch_layer.bias.copy_(torch.tensor(bias))
        expected = torch_layer(torch.tensor(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    assert y.shape == (2, 10, 12, 4)
    np.testing.assert_allclose(y, expected.numpy(), rtol=1e-10, atol=1e-10)


TRANSPOSE1D_CASES = [
    dict(filters=3, kernel_size=3, strides=2, padding="same"),
    dict(filters=2, kernel_size=4, strides=3),
    dict(filters=2, kernel_size=3, strides=3, padding="same", output_padding=2),
    dict(filters=2, kernel_size=2, dilation_rate=3, use_bias=False),
    dict(filters=1, kernel_size=5, strides=2, output_padding=1),
]


@pytest.mark.parametrize("case", TRANSPOSE1D_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv1d_transpose_matches_torch(case, data_format, rng):
    x = rng.standard_normal((2, 6, 3))
    layer = layers.Conv1DTranspose(**case, data_format=data_format, dtype="float64")
    x_in = x if data_format == "channels_last" else x.transpose(0, 2, 1)
    layer.build(x_in.shape)
    kernel = rng.standard_normal(layer.kernel.shape)
    bias = rng.standard_normal(case["filters"]) if layer.use_bias else None
    layer.set_weights([kernel] if bias is None else [kernel, bias])
    y = layer(x_in).numpy()
    expected = torch_conv_transpose(
        x, kernel, bias, layer.strides, layer.dilation_rate, layer.padding, layer.output_padding
    )
    if data_format == "channels_first":
        expected = expected.transpose(0, 2, 1)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


def torch_depthwise(x_last, kernel, strides, padding, dilation):
    """PyTorch's grouped conv2d (groups = channels) on a Keras depthwise kernel
    ``(kh, kw, c, m)``, which is ``(c * m, 1, kh, kw)`` there; channels last in and out."""
    kh, kw, c, m = kernel.shape
    weight = torch.tensor(kernel.reshape(kh, kw, 1, c * m)).permute(3, 2, 0, 1)
    x = torch.tensor(x_last).permute(0, 3, 1, 2)
    if padding == "same":
        (top, bottom), (left, right) = (
            tf_same_pads(x.shape[2 + a], kernel.shape[a], strides[a], dilation[a]) for a in (0, 1)
        )
        x = F.pad(x, (left, right, top, bottom))
    y = F.conv2d(x, weight, stride=strides, dilation=dilation, groups=c)
    return y.permute(0, 2, 3, 1).numpy()


DEPTHWISE_CASES = [
    dict(kernel_size=3),
    dict(kernel_size=(2, 3), depth_multiplier=2, strides=2, padding="same"),
    dict(kernel_size=3, depth_multiplier=3, dilation_rate=(1, 2), padding="same"),
    dict(kernel_size=(3, 1), strides=(1, 3), use_bias=False),
]


@pytest.mark.parametrize("case", DEPTHWISE_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depthwise_conv2d_matches_torch(case, data_format, rng):
    x = rng.standard_normal((2, 7, 8, 3))
    layer = layers.DepthwiseConv2D(**case, data_format=data_format, dtype="float64")
    x_in = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    layer.build(x_in.shape)
    m = layer.depth_multiplier
    kernel = rng.standard_normal(layer.kernel.shape)
    assert kernel.shape == (*layer.kernel_size, 3, m)
    bias = rng.standard_normal(3 * m) if layer.use_bias else None
    layer.set_weights([kernel] if bias is None else [kernel, bias])
    y = layer(x_in).numpy()
    expected = torch_depthwise(x, kernel, layer.strides, layer.padding, layer.dilation_rate)
    if bias is not None:
        expected = expected + bias
    if data_format == "channels_first":
        expected = expected.transpose(0, 3, 1, 2)
    assert tuple(layer.compute_output_shape(x_in.shape)) == y.shape
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


SEPARABLE_CASES = [
    dict(filters=4, kernel_size=3),
    dict(filters=2, kernel_size=(3, 2), depth_multiplier=2, strides=2, padding="same"),
    dict(filters=5, kernel_size=2, dilation_rate=2, activation="relu", use_bias=False),
]


@pytest.mark.parametrize("case", SEPARABLE_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_separable_conv2d_matches_torch(case, data_format, rng):
    x = rng.standard_normal((2, 7, 6, 3))
    layer = layers.SeparableConv2D(**case, data_format=data_format, dtype="float64")
    x_in = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    layer.build(x_in.shape)
    m, filters = layer.depth_multiplier, case["filters"]
    depthwise = rng.standard_normal(layer.depthwise_kernel.shape)
    pointwise = rng.standard_normal(layer.pointwise_kernel.shape)
    assert depthwise.shape == (*layer.kernel_size, 3, m)
    assert pointwise.shape == (1, 1, 3 * m, filters)
    bias = rng.standard_normal(filters) if layer.use_bias else None
    weights = [depthwise, pointwise] + ([] if bias is None else [bias])
    layer.set_weights(weights)
    y = layer(x_in).numpy()
    mixed = torch_depthwise(x, depthwise, layer.strides, layer.padding, layer.dilation_rate)
    expected = F.conv2d(
        torch.tensor(mixed).permute(0, 3, 1, 2),
        torch.tensor(pointwise).permute(3, 2, 0, 1),
        None if bias is None else torch.tensor(bias),
    ).permute(0, 2, 3, 1)
    if case.get("activation") == "relu":
        expected = torch.relu(expected)
    expected = expected.numpy()
    if data_format == "channels_first":
        expected = expected.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        (layers.Conv2DTranspose, dict(filters=2, kernel_size=(2, 3), strides=2), (2, 3, 2, 2)),
        (
            layers.Conv2DTranspose,
            dict(filters=2, kernel_size=3, strides=(2, 3), padding="same", output_padding=(1, 2)),
            (1, 3, 2, 2),
        ),
        (
            layers.Conv2DTranspose,
            dict(filters=3, kernel_size=2, dilation_rate=2, data_format="channels_first"),
            (2, 2, 3, 2),
        ),
        (
            layers.Conv1DTranspose,
            dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=1),
            (2, 4, 2),
        ),
        (layers.Conv1DTranspose, dict(filters=2, kernel_size=2, dilation_rate=2), (2, 3, 3)),
        (layers.DepthwiseConv2D, dict(kernel_size=2, depth_multiplier=2), (2, 4, 3, 2)),
        (
            layers.DepthwiseConv2D,
            dict(kernel_size=3, strides=2, padding="same", activation="tanh"),
            (1, 5, 4, 3),
        ),
        (
            layers.DepthwiseConv2D,
            dict(kernel_size=2, dilation_rate=(2, 1), data_format="channels_first"),
            (2, 2, 4, 3),
        ),
        (
            layers.SeparableConv2D,
            dict(filters=3, kernel_size=2, depth_multiplier=2, strides=2, padding="same"),
            (2, 4, 5, 2),
        ),
        (
            layers.SeparableConv2D,
            dict(filters=2, kernel_size=(2, 3), dilation_rate=(1, 2), activation="tanh"),
            (1, 4, 6, 2),
        ),
    ],
)
def test_convolution_gradients_match_finite_differences(cls, kwargs, shape, rng):
    layer = cls(**kwargs, dtype="float64")
    layer.build(shape)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.get_weights()])
    x = fg.tensor(rng.standard_normal(shape), dtype="float64", requires_grad=True)
    finite_difference_check(lambda: layer(x), [x, *layer.weights])


@pytest.mark.parametrize(
    "layer, shape",
    [
        (layers.ZeroPadding2D(((1, 0), (2, 1)), dtype="float64"), (2, 3, 2, 2)),
        (layers.ZeroPadding2D(1, data_format="channels_first", dtype="float64"), (1, 2, 2, 3)),
        (layers.ZeroPadding1D((2, 1), dtype="float64"), (2, 3, 2)),
        (layers.Cropping2D(((1, 0), (1, 2)), dtype="float64"), (2, 4, 5, 2)),
        (layers.Cropping2D(1, data_format="channels_first", dtype="float64"), (1, 2, 3, 4)),
        (layers.Cropping1D((0, 2), dtype="float64"), (2, 5, 2)),
    ],
)
def test_padding_and_cropping_gradients_match_finite_differences(layer, shape, rng):
    x = fg.tensor(rng.standard_normal(shape), dtype="float64", requires_grad=True)
    finite_difference_check(lambda: layer(x), [x])


def test_spatial_dropout_gradient_is_its_mask(rng):
    layer = layers.SpatialDropout2D(0.5, dtype="float64")
    x = fg.tensor(rng.standard_normal((3, 2, 2, 8)), dtype="float64", requires_grad=True)
    fg.set_seed(5)
    y = layer(x, training=True)
    (y * fg.tensor(np.full(y.shape, 3.0), dtype="float64")).sum().backward()
    mask = y.numpy() / x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), 3 * mask)
    assert set(np.unique(np.round(mask, 12))) <= {0.0, 2.0}


def test_padding_and_cropping_match_numpy(rng):
    x = rng.standard_normal((2, 4, 5, 3))
    y = layers.ZeroPadding2D(((1, 2), (0, 3)), dtype="float64")(x).numpy()
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0))))
    y = layers.ZeroPadding2D((1, 2), data_format="channels_first", dtype="float64")(x).numpy()
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2))))
    y = layers.ZeroPadding1D(2, dtype="float64")(x[:, 0]).numpy()
    np.testing.assert_array_equal(y, np.pad(x[:, 0], ((0, 0), (2, 2), (0, 0))))
    y = layers.Cropping2D(((1, 2), (0, 3)), dtype="float64")(x).numpy()
    np.testing.assert_array_equal(y, x[:, 1:2, 0:2])
    y = layers.Cropping2D((1, 1), data_format="channels_first", dtype="float64")(x).numpy()
    np.testing.assert_array_equal(y, x[:, :, 1:4, 1:2])
    y = layers.Cropping1D((1, 2), dtype="float64")(x[:, 0]).numpy()
    np.testing.assert_array_equal(y, x[:, 0, 1:3])
    # Keras's defaults: ZeroPadding2D pads 1 everywhere, Cropping1D crops 1 at each end.
    assert layers.ZeroPadding2D()(x).shape == (2, 6, 7, 3)
    assert layers.Cropping1D()(x[:, 0]).shape == (2, 3, 3)
    assert layers.Cropping2D()(x).shape == x.shape


@pytest.mark.parametrize(
    "layer, shape, channel_axis",
    [
        (layers.SpatialDropout2D(0.4), (4, 5, 6, 32), 3),
        (layers.SpatialDropout2D(0.4, data_format="channels_first"), (4, 32, 5, 6), 1),
        (layers.SpatialDropout1D(0.4), (4, 7, 32), 2),
    ],
)
def test_spatial_dropout_drops_whole_channels_in_training_only(layer, shape, channel_axis):
    ones = np.ones(shape, dtype="float32")
    np.testing.assert_array_equal(layer(ones, training=False).numpy(), ones)
    np.testing.assert_array_equal(layer(ones).numpy(), ones)
    fg.set_seed(11)
    dropped = layer(ones, training=True).numpy()
    spatial = tuple(a for a in range(1, len(shape)) if a != channel_axis)
    # Every (sample, channel) is all kept (scaled by 1 / 0.6) or all dropped.
    low, high = dropped.min(axis=spatial), dropped.max(axis=spatial)
    np.testing.assert_array_equal(low, high)
    assert set(np.unique(np.round(low, 5))) <= {0.0, np.float32(round(1 / 0.6, 5))}
    assert 0.2 < (low == 0).mean() < 0.6
    # Seeded: the same seed gives the same channels, another seed others.
    fg.set_seed(11)
    np.testing.assert_array_equal(layer(ones, training=True).numpy(), dropped)
    fg.set_seed(12)
    assert not np.array_equal(layer(ones, training=True).numpy(), dropped)


def image_model():
    return fg.Sequential(
        [
            layers.Input(shape=(28, 28, 3)),
            layers.ZeroPadding2D(2),
            layers.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"),
            layers.SeparableConv2D(8, 3, strides=2, padding="same"),
            layers.SpatialDropout2D(0.2),
            layers.Conv2DTranspose(4, 3, strides=2),
            layers.Cropping2D(((1, 0), (2, 1))),
            layers.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1),
            layers.GlobalAveragePooling2D(),
        ]
    )


def sequence_model():
    return fg.Sequential(
        [
            layers.Input(shape=(20, 3)),
            layers.ZeroPadding1D((1, 2)),
            layers.Conv1DTranspose(4, 3, strides=2, activation="relu"),
            layers.Cropping1D((2, 3)),
            layers.SpatialDropout1D(0.1),
            layers.Conv1DTranspose(2, 4, strides=2, padding="same"),
        ]
    )


def summary_rows(model, capsys):
    model.summary()
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "make, rows, total",
    [
        (
            image_model,
            [
                ("zero_padding2d (ZeroPadding2D)", "(None, 32, 32, 3)", "0"),
                # Keras: 3 * 3 * 3 * 2 kernel + 6 bias.
                ("depthwise_conv2d (DepthwiseConv2D)", "(None, 30, 30, 6)", "60"),
                # 3 * 3 * 6 depthwise + 6 * 8 pointwise + 8 bias.
                ("separable_conv2d (SeparableConv2D)", "(None, 15, 15, 8)", "110"),
                ("spatial_dropout2d (SpatialDropout2D)", "(None, 15, 15, 8)", "0"),
                # 15 * 2 + max(3 - 2, 0) = 31; 3 * 3 * 4 * 8 + 4.
                ("conv2d_transpose (Conv2DTranspose)", "(None, 31, 31, 4)", "292"),
                ("cropping2d (Cropping2D)", "(None, 30, 28, 4)", "0"),
                # (30 - 1) * 2 + 3 - 2 * 1 + 1 = 60, (28 - 1) * 2 + 2 = 56; 3 * 3 * 2 * 4 + 2.
                ("conv2d_transpose_1 (Conv2DTranspose)", "(None, 60, 56, 2)", "74"),
                ("global_average_pooling2d (GlobalAveragePooling2D)", "(None, 2)", "0"),
            ],
            "536",
        ),
        (
            sequence_model,
            [
                ("zero_padding1d (ZeroPadding1D)", "(None, 23, 3)", "0"),
                # 23 * 2 + 1 = 47; 3 * 4 * 3 + 4.
                ("conv1d_transpose (Conv1DTranspose)", "(None, 47, 4)", "40"),
                ("cropping1d (Cropping1D)", "(None, 42, 4)", "0"),
                ("spatial_dropout1d (SpatialDropout1D)", "(None, 42, 4)", "0"),
                # 42 * 2 = 84; 4 * 2 * 4 + 2.
                ("conv1d_transpose_1 (Conv1DTranspose)", "(None, 84, 2)", "34"),
            ],
            "74",
        ),
    ],
)
def test_summary_reads_like_keras(make, rows, total, capsys):
    fg.clear_session()
    text = summary_rows(make(), capsys)
    for name, shape, params in rows:
        line = next((ln for ln in text.splitlines() if name in ln), None)
        assert line is not None, (name, text)
        assert shape in line and line.rstrip(" │|").endswith(params), (name, line)
    assert f"Total params: {total}" in text


@pytest.mark.parametrize(
    "make, shape", [(image_model, (3, 28, 28, 3)), (sequence_model, (3, 20, 3))]
)
def test_save_load_round_trip(make, shape, tmp_path, rng):
    model = make()
    x = rng.standard_normal(shape).astype("float32")
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "model.fgm")
    loaded = fg.models.load_model(tmp_path / "model.fgm")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    for original, copy in zip(model.layers, loaded.layers, strict=True):
        assert type(copy) is type(original)
        assert copy.get_config() == original.get_config()


def test_models_with_the_new_layers_train():
    fg.set_seed(3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8, 8, 2)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0).astype("float32")
    model = fg.Sequential(
        [
            layers.Input(shape=(8, 8, 2)),
            layers.ZeroPadding2D(1),
            layers.SeparableConv2D(4, 3, activation="relu"),
            layers.SpatialDropout2D(0.25),
            layers.DepthwiseConv2D(3, strides=2, padding="same"),
            layers.Conv2DTranspose(2, 2, strides=2),
            layers.Cropping2D(1),
            layers.GlobalAveragePooling2D(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer="adam")
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: layers.DepthwiseConv2D(5)(np.ones((1, 4, 4, 2), "f")),
            r"DepthwiseConv2D.*\(None, 4, 4, 2\)",
        ),
        (
            lambda: layers.SeparableConv2D(2, (3, 5))(np.ones((1, 4, 4, 2), "f")),
            r"SeparableConv2D.*\(None, 4, 4, 2\)",
        ),
        (
            lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2),
            r"Conv2DTranspose.*output_padding.*strides",
        ),
        (lambda: layers.Conv1DTranspose(2, 3, output_padding=-1), r"Conv1DTranspose.*output_pad"),
        (lambda: layers.Conv2DTranspose(0, 3), r"Conv2DTranspose.*filters=0"),
        (lambda: layers.Conv2DTranspose(2, -3), r"Conv2DTranspose.*kernel_size=-3"),
        (lambda: layers.Conv2DTranspose(2, 3, padding="causal"), r"Conv2DTranspose.*padding"),
        (
            lambda: layers.Conv2DTranspose(2, 3, strides=2, dilation_rate=2),
            r"Conv2DTranspose.*strides.*dilation",
        ),
        (
            lambda: layers.Conv2DTranspose(2, 3, kernel_constraint="non_neg"),
            r"Conv2DTranspose.*kernel_constraint",
        ),
        (
            lambda: layers.Conv1DTranspose(2, 3)(np.ones((1, 4, 4, 2), "f")),
            r"Conv1DTranspose.*rank 3",
        ),
        (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), r"DepthwiseConv2D.*depth_mult"),
        (lambda: layers.DepthwiseConv2D(3, strides=-1), r"DepthwiseConv2D.*strides=-1"),
        (
            lambda: layers.DepthwiseConv2D(3, depthwise_constraint="non_neg"),
            r"DepthwiseConv2D.*depthwise_constraint",
        ),
        (
            lambda: layers.SeparableConv2D(2, 3, pointwise_constraint="non_neg"),
            r"SeparableConv2D.*pointwise_constraint",
        ),
        (lambda: layers.SeparableConv2D(-2, 3), r"SeparableConv2D.*filters=-2"),
        (lambda: layers.ZeroPadding2D(-1), r"ZeroPadding2D.*padding=-1"),
        (lambda: layers.ZeroPadding2D(((1, 2, 3), 1)), r"ZeroPadding2D.*padding"),
        (lambda: layers.ZeroPadding1D((1, -2)), r"ZeroPadding1D.*padding"),
        (lambda: layers.Cropping2D(((0, -1), 0)), r"Cropping2D.*cropping"),
        (
            lambda: layers.Cropping2D(((2, 2), (0, 0)))(np.ones((1, 4, 5, 1), "f")),
            r"Cropping2D.*\(None, 4, 5, 1\)",
        ),
        (
            lambda: layers.Cropping1D((3, 3))(np.ones((1, 5, 2), "f")),
            r"Cropping1D.*\(None, 5, 2\)",
        ),
        (lambda: layers.Cropping2D(1)(np.ones((1, 4, 4), "f")), r"Cropping2D.*rank 4"),
        (lambda: layers.SpatialDropout2D(1.0), r"SpatialDropout2D.*rate=1.0"),
        (lambda: layers.SpatialDropout1D(0.5, seed=3), r"SpatialDropout1D.*seed"),
        (lambda: layers.SpatialDropout2D(0.5)(np.ones((2, 3), "f")), r"SpatialDropout2D.*rank 4"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_the_layer(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    "layer, built, other",
    [
        (layers.Conv2DTranspose(2, 3), (1, 5, 5, 3), (1, 5, 5, 2)),
        (layers.Conv1DTranspose(2, 3), (1, 5, 3), (1, 5, 4)),
        (layers.DepthwiseConv2D(3), (1, 5, 5, 3), (1, 5, 5, 2)),
        (layers.SeparableConv2D(2, 3), (1, 5, 5, 3), (1, 5, 5, 2)),
    ],
)
def test_channels_that_do_not_match_the_built_kernel_are_refused(layer, built, other):
    layer(np.ones(built, "float32"))
    name = type(layer).__name__
    shape = r"\((None|1), " + ", ".join(map(str, other[1:])) + r"\)"
    with pytest.raises(ValueError, match=rf"{name}.*built for {built[-1]} input channels.*{shape}"):
        layer(np.ones(other, "float32"))


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=1), (0, 4, 4, 3)),
        (lambda: layers.Conv1DTranspose(2, 3, padding="same"), (0, 5, 3)),
        (lambda: layers.DepthwiseConv2D(3, depth_multiplier=2), (0, 5, 5, 3)),
        (lambda: layers.SeparableConv2D(4, 3), (0, 5, 5, 3)),
        (lambda: layers.ZeroPadding2D(1), (0, 3, 3, 2)),
        (lambda: layers.ZeroPadding1D(1), (0, 3, 2)),
        (lambda: layers.Cropping2D(1), (0, 3, 3, 2)),
        (lambda: layers.Cropping1D(1), (0, 3, 2)),
        (lambda: layers.SpatialDropout2D(0.5), (0, 3, 3, 2)),
        (lambda: layers.SpatialDropout1D(0.5), (0, 3, 2)),
    ],
)
def test_an_empty_batch_gives_an_empty_batch(make, shape):
    layer = make()
    out = layer(fg.tensor(np.zeros(shape, dtype="float32")), training=True)
    assert out.shape[0] == 0
    assert tuple(out.shape[1:]) == tuple(layer.compute_output_shape((None, *shape[1:]))[1:])


@pytest.mark.parametrize(
    "name",
    [
        "conv1d_transpose",
        "conv2d_transpose",
        "depthwise_conv2d",
        "separable_conv2d",
        "zero_padding1d",
        "zero_padding2d",
        "cropping1d",
        "cropping2d",
        "spatial_dropout1d",
        "spatial_dropout2d",
        "conv_utils",
    ],
)
def test_docstring_examples_run(name):
    import doctest
    import importlib

    module = importlib.import_module(f"ferrograd.layers.{name}")
    result = doctest.testmod(module, extraglobs={"fg": fg, "layers": layers, "np": np})
    assert result.attempted > 0 and result.failed == 0, name


def denoising_autoencoder():
    """keras.io's "Convolutional autoencoder for image denoising", the import changed."""
    inputs = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    autoencoder = fg.Model(inputs, x)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    return autoencoder


def test_the_keras_io_denoising_autoencoder_runs_and_learns(capsys):
    fg.clear_session()
    model = denoising_autoencoder()
    text = summary_rows(model, capsys)
    for name, shape, params in [
        ("conv2d_transpose (Conv2DTranspose)", "(None, 14, 14, 32)", "9,248"),
        ("conv2d_transpose_1 (Conv2DTranspose)", "(None, 28, 28, 32)", "9,248"),
        ("conv2d_2 (Conv2D)", "(None, 28, 28, 1)", "289"),
    ]:
        line = next(ln for ln in text.splitlines() if name in ln)
        assert shape in line and line.rstrip(" │|").endswith(params), line
    assert "Total params: 28,353" in text
    (x_train, _), _ = fg.datasets.mnist.load_data()
    x = (x_train[:512].astype("float32") / 255)[..., None]
    noisy = np.clip(x + 0.4 * np.random.default_rng(0).normal(size=x.shape), 0, 1)
    history = model.fit(noisy.astype("float32"), x, batch_size=128, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert losses[0] > losses[1] > losses[2] and losses[-1] < 0.9 * losses[0], losses


def test_training_with_spatial_dropout_is_reproducible_from_the_seed():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 6, 6, 2)).astype("float32")
    y = rng.standard_normal((48, 1)).astype("float32")

    def train(seed):
        fg.clear_session()
        fg.set_seed(seed)
        model = fg.Sequential(
            [
                layers.Input(shape=(6, 6, 2)),
                layers.DepthwiseConv2D(3, depth_multiplier=4),
                layers.SpatialDropout2D(0.5),
                layers.Conv2DTranspose(2, 3),
                layers.Flatten(),
                layers.Dense(1),
            ]
        )
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return model.get_weights()

    first, again, other = train(4), train(4), train(5)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize(
    "make, shape, penalised",
    [
        (
            lambda r: layers.Conv2DTranspose(2, 3, kernel_regularizer=r, bias_regularizer=r),
            (1, 4, 4, 3),
            ["kernel", "bias"],
        ),
        (lambda r: layers.Conv1DTranspose(2, 3, kernel_regularizer=r), (1, 4, 3), ["kernel"]),
        (
            lambda r: layers.DepthwiseConv2D(2, depthwise_regularizer=r, bias_regularizer=r),
            (1, 4, 4, 3),
            ["kernel", "bias"],
        ),
        (
            lambda r: layers.SeparableConv2D(
                2, 2, depthwise_regularizer=r, pointwise_regularizer=r
            ),
            (1, 4, 4, 3),
            ["depthwise_kernel", "pointwise_kernel"],
        ),
    ],
)
def test_regularizers_add_their_penalty(make, shape, penalised, rng):
    layer = make(fg.regularizers.l1_l2(l1=0.1, l2=0.01))
    layer.build(shape)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.get_weights()])
    weights = {name: tensor.numpy() for name, tensor, _ in layer._weight_entries()}
    expected = sum(
        0.1 * np.abs(weights[name]).sum() + 0.01 * (weights[name] ** 2).sum() for name in penalised
    )
    (penalty,) = layer.losses
    assert penalty.item() == pytest.approx(expected, rel=1e-5)
