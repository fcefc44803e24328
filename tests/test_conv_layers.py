"""Convolution and pooling layers: values against PyTorch on converted weights, float64
gradients against finite differences, Keras's summary, saving, bad arguments, and the keras.io
"Simple MNIST convnet" trained on real MNIST."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ferrograd as fg
from ferrograd import layers


def finite_difference_check(function, tensors, eps=1e-6, rtol=1e-6, atol=1e-8):
    """Central differences of ``sum(function() * w)`` for a fixed random ``w``, against
    backward, for every float64 tensor in ``tensors`` (moved in place)."""
    out = function()
    weights = np.random.default_rng(7).standard_normal(out.shape)
    for t in tensors:
        t.grad = None
    (out * fg.tensor(weights, dtype="float64")).sum().backward()
    for t in tensors:
        analytic = t.grad.numpy()
        values = t.numpy().copy()
        numeric = np.zeros_like(values)
        for index in np.ndindex(values.shape):
            for sign in (1, -1):
                moved = values.copy()
                moved[index] += sign * eps
                fg._core.assign(t, moved)
                with fg.no_grad():
                    numeric[index] += sign * float((function().numpy() * weights).sum())
            numeric[index] /= 2 * eps
        fg._core.assign(t, values)
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)


def tf_same_pads(size, kernel, stride, dilation):
    """TensorFlow's "same" padding along one axis: (before, after), the odd one after."""
    effective = dilation * (kernel - 1) + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def torch_conv2d(x_nhwc, kernel, bias, strides, padding, dilation, groups):
    """PyTorch's conv2d on channels-last input and a Keras kernel (converted)."""
    x = torch.tensor(x_nhwc).permute(0, 3, 1, 2)
    weight = torch.tensor(kernel).permute(3, 2, 0, 1)  # (out, in/groups, kh, kw)
    if padding == "same":
        (top, bottom), (left, right) = (
            tf_same_pads(x.shape[2 + a], kernel.shape[a], strides[a], dilation[a]) for a in (0, 1)
        )
        x = F.pad(x, (left, right, top, bottom))
    y = F.conv2d(
        x,
        weight,
        None if bias is None else torch.tensor(bias),
        stride=strides,
        dilation=dilation,
        groups=groups,
    )
    return y.permute(0, 2, 3, 1).numpy()


CONV_CASES = [
    dict(filters=4, kernel_size=3),
    dict(filters=3, kernel_size=(2, 3), strides=2, padding="same"),
    dict(filters=2, kernel_size=(3, 2), strides=(1, 2), padding="same", use_bias=False),
    dict(filters=4, kernel_size=3, dilation_rate=2, padding="same"),
    dict(filters=6, kernel_size=(2, 2), dilation_rate=(1, 2), groups=3),
    dict(filters=6, kernel_size=(1, 3), strides=(3, 1), groups=3, padding="same"),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_matches_torch(case, data_format, rng):
    x = rng.standard_normal((2, 9, 8, 6))
    layer = layers.Conv2D(**case, data_format=data_format, dtype="float64")
    x_in = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    y = layer(x_in).numpy()
    kernel = layer.kernel.numpy()
    assert kernel.shape == (*layer.kernel_size, 6 // layer.groups, case["filters"])
    bias = rng.standard_normal(case["filters"]) if layer.use_bias else None
    if bias is not None:
        layer.set_weights([kernel, bias])
        y = layer(x_in).numpy()
    expected = torch_conv2d(
        x, kernel, bias, layer.strides, layer.padding, layer.dilation_rate, layer.groups
    )
    if data_format == "channels_first":
        expected = expected.transpose(0, 3, 1, 2)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "kind, kwargs",
    [
        ("max", dict()),
        ("max", dict(pool_size=3, strides=2, padding="same")),
        ("max", dict(pool_size=(2, 3), strides=(1, 2))),
        ("avg", dict()),
        ("avg", dict(pool_size=(3, 2), strides=1)),
    ],
)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pooling2d_matches_torch(kind, kwargs, data_format, rng):
    x = rng.standard_normal((2, 7, 8, 3))
    cls = layers.MaxPooling2D if kind == "max" else layers.AveragePooling2D
    layer = cls(**kwargs, data_format=data_format, dtype="float64")
    x_in = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    y = layer(x_in).numpy()
    pool, strides = layer.pool_size, layer.strides or layer.pool_size
    xt = torch.tensor(x).permute(0, 3, 1, 2)
    if layer.padding == "same":
        (top, bottom), (left, right) = (
            tf_same_pads(xt.shape[2 + a], pool[a], strides[a], 1) for a in (0, 1)
        )
        xt = F.pad(xt, (left, right, top, bottom), value=-np.inf)
    if kind == "max":
        expected = F.max_pool2d(xt, pool, strides)
    else:
        expected = F.avg_pool2d(xt, pool, strides)
    expected = expected.permute(0, 2, 3, 1).numpy()
    if data_format == "channels_first":
        expected = expected.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_average_pooling_same_padding_averages_only_the_input(rng):
    x = rng.standard_normal((1, 3, 3, 1))
    y = layers.AveragePooling2D(2, strides=2, padding="same", dtype="float64")(x).numpy()
    assert y.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(y[0, 1, 1, 0], x[0, 2, 2, 0])
    np.testing.assert_allclose(y[0, 0, 1, 0], x[0, :2, 2, 0].mean())


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(filters=2, kernel_size=(2, 3), strides=2, padding="same", activation="tanh"),
        dict(
            filters=4, kernel_size=2, dilation_rate=(2, 1), groups=2, data_format="channels_first"
        ),
    ],
)
def test_conv2d_gradients_match_finite_differences(kwargs, rng):
    layer = layers.Conv2D(**kwargs, dtype="float64")
    shape = (2, 4, 5, 4)
    x = fg.tensor(rng.standard_normal(shape), dtype="float64", requires_grad=True)
    layer.build(shape)
    layer.set_weights([layer.kernel.numpy(), rng.standard_normal(kwargs["filters"])])
    finite_difference_check(lambda: layer(x), [x, layer.kernel, layer.bias])


@pytest.mark.parametrize("cls", [layers.MaxPooling2D, layers.AveragePooling2D])
def test_pooling2d_gradients_match_finite_differences(cls, rng):
    layer = cls(pool_size=(2, 3), strides=(1, 2), padding="same", dtype="float64")
    x = fg.tensor(rng.standard_normal((2, 5, 6, 2)), dtype="float64", requires_grad=True)
    finite_difference_check(lambda: layer(x), [x])


def mnist_convnet():
    return fg.Sequential(
        [
            layers.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def test_mnist_convnet_summary_reads_like_keras(capsys):
    fg.clear_session()
    mnist_convnet().summary()
    text = capsys.readouterr().out
    for row in [
        ("conv2d (Conv2D)", "(None, 26, 26, 32)", "320"),
        ("max_pooling2d (MaxPooling2D)", "(None, 13, 13, 32)", "0"),
        ("conv2d_1 (Conv2D)", "(None, 11, 11, 64)", "18,496"),
        ("max_pooling2d_1 (MaxPooling2D)", "(None, 5, 5, 64)", "0"),
        ("flatten (Flatten)", "(None, 1600)", "0"),
        ("dropout (Dropout)", "(None, 1600)", "0"),
        ("dense (Dense)", "(None, 10)", "16,010"),
    ]:
        line = next((ln for ln in text.splitlines() if row[0] in ln), None)
        assert line is not None, (row, text)
        assert row[1] in line and line.rstrip(" │|").endswith(row[2]), (row, line)
    assert "Total params: 34,826" in text


def test_conv_model_save_load_round_trip(tmp_path, rng):
    inputs = layers.Input(shape=(3, 10, 9))
    h = layers.Conv2D(
        4, 3, strides=2, padding="same", data_format="channels_first", activation="relu"
    )(inputs)
    h = layers.BatchNormalization()(layers.Conv2D(5, 2, data_format="channels_first")(h))
    h = layers.AveragePooling2D(2, padding="same", data_format="channels_first")(h)
    h = layers.MaxPooling2D(1, data_format="channels_first")(h)
    outputs = layers.Dense(2)(layers.Flatten()(h))
    model = fg.Model(inputs, outputs)
    x = rng.standard_normal((4, 3, 10, 9)).astype("float32")
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "conv.fgm")
    loaded = fg.models.load_model(tmp_path / "conv.fgm")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    assert [type(layer).__name__ for layer in loaded.layers][1:4] == [
        "Conv2D",
        "Conv2D",
        "BatchNormalization",
    ]
    assert loaded.layers[1].get_config()["data_format"] == "channels_first"


def test_batch_normalization_and_dropout_on_images(rng):
    x = rng.standard_normal((8, 4, 5, 3)) * 3 + 2
    norm = layers.BatchNormalization(dtype="float64")
    y = norm(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-10)
    variance = x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), variance / (variance + 1e-3), rtol=1e-8)
    drop = layers.Dropout(0.5)
    ones = np.ones((4, 6, 6, 3), dtype="float32")
    dropped = drop(ones, training=True).numpy()
    assert dropped.shape == ones.shape
    assert set(np.unique(dropped)) <= {0.0, 2.0} and 0.3 < (dropped == 0).mean() < 0.7
    np.testing.assert_array_equal(drop(ones, training=False).numpy(), ones)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: layers.Conv2D(2, 5)(np.ones((1, 4, 4, 1), "f")), r"Conv2D.*\(None, 4, 4, 1\)"),
        (lambda: layers.MaxPooling2D(5)(np.ones((1, 4, 4, 1), "float32")), r"MaxPooling2D.*4, 4"),
        (lambda: layers.Conv2D(2, 3, groups=2)(np.ones((1, 4, 4, 3), "f")), r"Conv2D.*groups"),
        (lambda: layers.Conv2D(4, 3, groups=3), r"Conv2D.*groups=3.*filters=4"),
        (lambda: layers.Conv2D(2, -1), r"Conv2D.*kernel_size=-1"),
        (lambda: layers.Conv2D(0, 3), r"Conv2D.*filters=0"),
        (lambda: layers.Conv2D(2, 3, strides=2, dilation_rate=2), r"Conv2D.*strides.*dilation"),
        (lambda: layers.Conv2D(2, 3, padding="causal"), r"Conv2D.*padding='causal'"),
        (lambda: layers.Conv2D(2, 3, data_format="nhwc"), r"Conv2D.*data_format"),
        (lambda: layers.Conv2D(2, 3, kernel_constraint="non_neg"), r"Conv2D.*kernel_constraint"),
        (lambda: layers.Conv2D(2, 3, activity_regularizer="l2"), r"Conv2D.*activity_regularizer"),
        (lambda: layers.Conv2D(2, 3)(np.ones((4, 4, 1), "float32")), r"Conv2D.*rank 4"),
        (lambda: layers.MaxPooling2D(strides=-2), r"MaxPooling2D.*strides=-2"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_the_layer(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_channels_that_do_not_match_the_built_layer_are_refused():
    conv = layers.Conv2D(2, 3)
    conv(np.ones((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match=r"Conv2D.*3 input channels.*\((None|1), 5, 5, 2\)"):
        conv(np.ones((1, 5, 5, 2), "float32"))


def test_mnist_convnet_trains_on_real_mnist():
    (x_train, y_train), (x_test, y_test) = fg.datasets.mnist.load_data()
    x_train = (x_train[:4000].astype("float32") / 255)[..., None]
    y_train = fg.utils.to_categorical(y_train[:4000], 10)
    x_test = (x_test[:1000].astype("float32") / 255)[..., None]
    y_test = fg.utils.to_categorical(y_test[:1000], 10)
    fg.utils.set_random_seed(1)
    model = mnist_convnet()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=3, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.9, (loss, accuracy)


CONV1D_CASES = [
    dict(filters=3, kernel_size=3),
    dict(filters=4, kernel_size=4, strides=3, padding="same"),
    dict(filters=2, kernel_size=3, dilation_rate=2, padding="causal"),
    dict(filters=4, kernel_size=2, padding="causal", groups=2, use_bias=False),
    dict(filters=6, kernel_size=5, dilation_rate=2, padding="same", groups=2),
]


@pytest.mark.parametrize("case", CONV1D_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv1d_matches_torch(case, data_format, rng):
    x = rng.standard_normal((2, 11, 4))
    layer = layers.Conv1D(**case, data_format=data_format, dtype="float64")
    x_in = x if data_format == "channels_last" else x.transpose(0, 2, 1)
    layer.build(x_in.shape)
    bias = rng.standard_normal(case["filters"]) if layer.use_bias else None
    kernel = layer.kernel.numpy()
    assert kernel.shape == (layer.kernel_size[0], 4 // layer.groups, case["filters"])
    if bias is not None:
        layer.set_weights([kernel, bias])
    y = layer(x_in).numpy()
    xt = torch.tensor(x).permute(0, 2, 1)
    (k,), (s,), (d,) = layer.kernel_size, layer.strides, layer.dilation_rate
    if layer.padding == "same":
        xt = F.pad(xt, tf_same_pads(11, k, s, d))
    elif layer.padding == "causal":
        xt = F.pad(xt, (d * (k - 1), 0))
    expected = F.conv1d(
        xt,
        torch.tensor(kernel).permute(2, 1, 0),
        None if bias is None else torch.tensor(bias),
        stride=s,
        dilation=d,
        groups=layer.groups,
    ).numpy()
    if data_format == "channels_last":
        expected = expected.transpose(0, 2, 1)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cls", [layers.MaxPooling1D, layers.AveragePooling1D])
@pytest.mark.parametrize("kwargs", [dict(), dict(pool_size=3, strides=2), dict(pool_size=4)])
def test_pooling1d_matches_torch(cls, kwargs, rng):
    x = rng.standard_normal((2, 9, 3))
    y = cls(**kwargs, dtype="float64")(x).numpy()
    pool = kwargs.get("pool_size", 2)
    stride = kwargs.get("strides", pool)
    xt = torch.tensor(x).permute(0, 2, 1)
    f = F.max_pool1d if cls is layers.MaxPooling1D else F.avg_pool1d
    expected = f(xt, pool, stride).permute(0, 2, 1).numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_pooling1d_same_padding_and_channels_first(rng):
    x = rng.standard_normal((1, 2, 5))
    y = layers.MaxPooling1D(2, padding="same", data_format="channels_first", dtype="float64")(x)
    np.testing.assert_array_equal(
        y.numpy(), np.stack([x[..., 0:2].max(-1), x[..., 2:4].max(-1), x[..., 4]], -1)
    )
    y = layers.AveragePooling1D(2, padding="same", dtype="float64")(x.transpose(0, 2, 1))
    np.testing.assert_allclose(y.numpy()[0, 2], x[0, :, 4])


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pooling_matches_numpy(keepdims, data_format, rng):
    x2 = rng.standard_normal((2, 3, 4, 5))
    x1 = rng.standard_normal((2, 6, 5))
    axes2 = (1, 2) if data_format == "channels_last" else (2, 3)
    axes1 = (1,) if data_format == "channels_last" else (2,)
    for cls, x, axes, f in [
        (layers.GlobalMaxPooling2D, x2, axes2, np.max),
        (layers.GlobalAveragePooling2D, x2, axes2, np.mean),
        (layers.GlobalMaxPooling1D, x1, axes1, np.max),
    ]:
        layer = cls(data_format=data_format, keepdims=keepdims, dtype="float64")
        y = layer(x).numpy()
        np.testing.assert_allclose(y, f(x, axis=axes, keepdims=keepdims), rtol=1e-12)
        assert tuple(layer.compute_output_shape(x.shape)) == y.shape


def test_conv1d_and_pooling1d_gradients_match_finite_differences(rng):
    conv = layers.Conv1D(
        3, 3, padding="causal", dilation_rate=2, activation="tanh", dtype="float64"
    )
    x = fg.tensor(rng.standard_normal((2, 7, 2)), dtype="float64", requires_grad=True)
    conv.build((2, 7, 2))
    conv.set_weights([conv.kernel.numpy(), rng.standard_normal(3)])
    finite_difference_check(lambda: conv(x), [x, conv.kernel, conv.bias])
    for layer in [
        layers.MaxPooling1D(3, strides=2, padding="same", dtype="float64"),
        layers.AveragePooling1D(3, strides=1, dtype="float64"),
        layers.GlobalMaxPooling1D(dtype="float64"),
        layers.GlobalAveragePooling2D(dtype="float64", data_format="channels_first"),
    ]:
        y = fg.tensor(rng.standard_normal((2, 7, 2)), dtype="float64", requires_grad=True)
        if isinstance(layer, layers.GlobalAveragePooling2D):
            y = fg.tensor(rng.standard_normal((2, 2, 3, 4)), dtype="float64", requires_grad=True)
        finite_difference_check(lambda layer=layer, y=y: layer(y), [y])


def test_sequence_convnet_summary_and_round_trip(tmp_path, rng, capsys):
    fg.clear_session()
    model = fg.Sequential(
        [
            layers.Input(shape=(20, 3)),
            layers.Conv1D(8, 5, padding="causal", activation="relu"),
            layers.MaxPooling1D(2),
            layers.Conv1D(4, 3, strides=2, padding="same", groups=2),
            layers.AveragePooling1D(2, padding="same"),
            layers.GlobalMaxPooling1D(),
            layers.Dense(2),
        ]
    )
    model.summary()
    text = capsys.readouterr().out
    for name, shape, params in [
        ("conv1d (Conv1D)", "(None, 20, 8)", "128"),
        ("max_pooling1d (MaxPooling1D)", "(None, 10, 8)", "0"),
        ("conv1d_1 (Conv1D)", "(None, 5, 4)", "52"),
        ("average_pooling1d (AveragePooling1D)", "(None, 3, 4)", "0"),
        ("global_max_pooling1d (GlobalMaxPooling1D)", "(None, 4)", "0"),
    ]:
        line = next(ln for ln in text.splitlines() if name in ln)
        assert shape in line and line.rstrip(" │|").endswith(params), line
    x = rng.standard_normal((5, 20, 3)).astype("float32")
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "seq.fgm")
    loaded = fg.models.load_model(tmp_path / "seq.fgm")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: layers.Conv1D(2, 4)(np.ones((1, 3, 2), "f")), r"Conv1D.*\(None, 3, 2\)"),
        (lambda: layers.Conv1D(2, (2, 2)), r"Conv1D.*kernel_size"),
        (lambda: layers.Conv2D(2, 3, padding="causal"), r"Conv2D.*padding"),
        (lambda: layers.Conv1D(2, 3)(np.ones((1, 4, 4, 2), "f")), r"Conv1D.*rank 3"),
        (lambda: layers.MaxPooling1D(0), r"MaxPooling1D.*pool_size=0"),
        (lambda: layers.GlobalMaxPooling2D()(np.ones((2, 3), "f")), r"GlobalMaxPooling2D.*rank 4"),
        (lambda: layers.GlobalAveragePooling2D(data_format="x"), r"GlobalAveragePooling2D"),
    ],
)
def test_bad_1d_and_global_arguments_raise_value_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_upsampling2d_matches_torch(interpolation, data_format, rng):
    x = rng.standard_normal((2, 3, 4, 2))
    layer = layers.UpSampling2D(
        (2, 3), data_format=data_format, interpolation=interpolation, dtype="float64"
    )
    x_in = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    y = layer(x_in).numpy()
    mode = dict(mode="nearest") if interpolation == "nearest" else dict(mode="bilinear")
    if interpolation == "bilinear":
        mode["align_corners"] = False
    expected = F.interpolate(torch.tensor(x).permute(0, 3, 1, 2), scale_factor=(2, 3), **mode)
    expected = expected.numpy()
    if data_format == "channels_last":
        expected = expected.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    assert layer.compute_output_shape(x_in.shape)[1:] == y.shape[1:]


def test_upsampling1d_repeats_and_has_gradients(rng):
    x = rng.standard_normal((2, 3, 2))
    y = layers.UpSampling1D(3, dtype="float64")(x).numpy()
    np.testing.assert_array_equal(y, np.repeat(x, 3, axis=1))
    layer = layers.UpSampling2D(2, interpolation="bilinear", dtype="float64")
    t = fg.tensor(rng.standard_normal((1, 3, 2, 2)), dtype="float64", requires_grad=True)
    finite_difference_check(lambda: layer(t), [t])
    with pytest.raises(ValueError, match=r"UpSampling2D.*interpolation='bicubic'"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match=r"UpSampling1D.*size=0"):
        layers.UpSampling1D(0)


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 2e-4)])
def test_convnet_block_gradients_match_torch(dtype, tolerance, rng):
    """Conv2D with a fused relu/sigmoid (the one-pass backward: 12 channels, 3x3), max pooling
    (its gradient found again from input and output) and a second conv: values and every
    gradient against PyTorch's autograd on the same weights."""
    x = rng.standard_normal((3, 12, 11, 12))
    block = [
        layers.Conv2D(16, 3, activation="relu", dtype=dtype),
        layers.MaxPooling2D(2),
        layers.Conv2D(8, 3, padding="same", activation="sigmoid", dtype=dtype),
    ]
    h = fg.tensor(x, dtype=dtype, requires_grad=True)
    out = h
    for layer in block:
        out = layer(out)
    upstream = rng.standard_normal(out.shape)
    (out * fg.tensor(upstream, dtype=dtype)).sum().backward()

    torch_dtype = torch.float64 if dtype == "float64" else torch.float32
    xt = torch.tensor(x, dtype=torch_dtype).permute(0, 3, 1, 2).requires_grad_()
    params = []
    for layer in (block[0], block[2]):
        kernel, bias = (w.numpy() for w in (layer.kernel, layer.bias))
        weight = torch.tensor(kernel, dtype=torch_dtype).permute(3, 2, 0, 1).requires_grad_()
        params.append((weight, torch.tensor(bias, dtype=torch_dtype).requires_grad_()))
    yt = torch.relu(F.conv2d(xt, *params[0]))
    yt = F.max_pool2d(yt, 2)
    yt = torch.sigmoid(F.conv2d(F.pad(yt, (1, 1, 1, 1)), *params[1]))
    (yt * torch.tensor(upstream, dtype=torch_dtype).permute(0, 3, 1, 2)).sum().backward()

    def close(ours, theirs):
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)

    close(out.numpy(), yt.detach().permute(0, 2, 3, 1).numpy())
    close(h.grad.numpy(), xt.grad.permute(0, 2, 3, 1).numpy())
    for layer, (weight, bias) in zip((block[0], block[2]), params, strict=True):
        close(layer.kernel.grad.numpy(), weight.grad.permute(2, 3, 1, 0).numpy())
        close(layer.bias.grad.numpy(), bias.grad.numpy())
