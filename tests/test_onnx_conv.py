"""ONNX export of the convolution, pooling, padding, cropping, upsampling and spatial dropout
layers: each model run through onnxruntime on random inputs and compared with
``model.predict``, in both data formats and with every padding rule."""

import numpy as np
import pytest
from test_onnx import assert_exports_faithfully, randomize

import ferrograd as fg
from ferrograd import layers

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def image_layers(data_format):
    f = dict(data_format=data_format)
    return [
        layers.ZeroPadding2D(((1, 0), (2, 1)), **f),
        layers.Conv2D(6, 3, strides=2, padding="same", activation="relu", **f),
        layers.Conv2D(6, (2, 3), dilation_rate=(2, 1), padding="same", groups=3, **f),
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="tanh", **f),
        layers.SeparableConv2D(4, (3, 2), strides=(1, 2), padding="same", **f),
        layers.SpatialDropout2D(0.3, **f),
        layers.MaxPooling2D(3, strides=2, padding="same", **f),
        layers.Conv2DTranspose(3, 3, strides=2, padding="same", **f),
        layers.Conv2DTranspose(2, 4, strides=2, output_padding=1, **f),
        layers.Conv2DTranspose(3, 3, strides=(2, 3), padding="same", output_padding=(1, 2), **f),
        layers.Cropping2D(((2, 1), (0, 3)), **f),
        layers.UpSampling2D((2, 1), **f),
        layers.AveragePooling2D(2, strides=(1, 2), padding="same", **f),
        layers.UpSampling2D(2, interpolation="bilinear", **f),
        layers.AveragePooling2D(3, **f),
        layers.Conv2D(2, 2, use_bias=False, **f),
    ]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("head", ["flatten", "global_max", "global_average"])
def test_image_convnet_exports_faithfully(data_format, head, tmp_path, rng):
    fg.clear_session()
    shape = (11, 10, 3) if data_format == "channels_last" else (3, 11, 10)
    heads = {
        "flatten": [layers.Flatten(), layers.Dense(3, activation="softmax")],
        "global_max": [layers.GlobalMaxPooling2D(data_format=data_format)],
        "global_average": [layers.GlobalAveragePooling2D(data_format=data_format, keepdims=True)],
    }
    model = fg.Sequential([layers.Input(shape=shape), *image_layers(data_format), *heads[head]])
    randomize(model, rng)
    assert_exports_faithfully(
        model, tmp_path, lambda n: rng.standard_normal((n, *shape)).astype("float32")
    )


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_sequence_convnet_exports_faithfully(data_format, tmp_path, rng):
    fg.clear_session()
    f = dict(data_format=data_format)
    shape = (17, 4) if data_format == "channels_last" else (4, 17)
    model = fg.Sequential(
        [
            layers.Input(shape=shape),
            layers.ZeroPadding1D((2, 1), **f),
            layers.Conv1D(6, 3, padding="causal", dilation_rate=2, activation="relu", **f),
            layers.Conv1D(4, 4, strides=2, padding="same", groups=2, **f),
            layers.MaxPooling1D(2, padding="same", **f),
            layers.Conv1DTranspose(3, 3, strides=2, **f),
            layers.Conv1DTranspose(3, 4, strides=3, padding="same", output_padding=2, **f),
            layers.AveragePooling1D(3, strides=2, **f),
            layers.GlobalMaxPooling1D(**f),
        ]
    )
    randomize(model, rng)
    assert_exports_faithfully(
        model, tmp_path, lambda n: rng.standard_normal((n, *shape)).astype("float32")
    )


def test_channels_last_sequence_layers_without_data_format(tmp_path, rng):
    fg.clear_session()
    model = fg.Sequential(
        [
            layers.Input(shape=(12, 3)),
            layers.Cropping1D((1, 2)),
            layers.UpSampling1D(3),
            layers.SpatialDropout1D(0.5),
            layers.Conv1D(2, 5, padding="same"),
        ]
    )
    randomize(model, rng)
    assert_exports_faithfully(
        model, tmp_path, lambda n: rng.standard_normal((n, 12, 3)).astype("float32")
    )


def test_open_spatial_sizes_use_same_upper_padding(tmp_path, rng):
    fg.clear_session()
    model = fg.Sequential(
        [
            layers.Input(shape=(None, None, 2)),
            layers.Conv2D(3, 3, strides=2, padding="same"),
            layers.MaxPooling2D(2, padding="same"),
            layers.Cropping2D(1),
            layers.GlobalAveragePooling2D(),
        ]
    )
    randomize(model, rng)
    path = tmp_path / "model.onnx"
    fg.onnx.export(model, path)
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for size in [(13, 9), (16, 21)]:
        x = rng.standard_normal((2, *size, 2)).astype("float32")
        np.testing.assert_allclose(
            session.run(["output"], {"input": x})[0],
            model.predict(x, verbose=0),
            rtol=1e-5,
            atol=1e-5,
        )


def test_float64_convnet_matches_in_onnx_reference_evaluator(tmp_path, rng):
    # onnxruntime's CPU provider has no float64 convolutions; onnx's own numpy
    # implementation checks the float64 file.
    from test_onnx import reference_outputs

    fg.clear_session()
    model = fg.Sequential(
        [
            layers.Input(shape=(9, 8, 2)),
            layers.ZeroPadding2D(1, dtype="float64"),
            layers.Conv2D(4, 3, strides=2, padding="same", dtype="float64"),
            layers.DepthwiseConv2D(2, depth_multiplier=2, dtype="float64"),
            layers.Conv2DTranspose(3, 3, strides=2, padding="same", dtype="float64"),
            layers.Cropping2D(1, dtype="float64"),
            layers.MaxPooling2D(2, dtype="float64"),
            layers.Flatten(dtype="float64"),
        ]
    )
    randomize(model, rng)
    assert_exports_faithfully(
        model,
        tmp_path,
        lambda n: rng.standard_normal((n, 9, 8, 2)),
        tolerance=1e-10,
        run=reference_outputs,
    )
