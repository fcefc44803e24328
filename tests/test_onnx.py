"""ONNX export: every exportable layer and activation, and the seed models, run through
onnxruntime on random inputs with several batch sizes and compared with ``model.predict``;
refused layers and settings raise errors that name them."""

import os
import sys

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")
from onnx.reference import ReferenceEvaluator  # noqa: E402

BATCH_SIZES = (1, 5, 33)
TOLERANCE = 1e-5


def randomize(model, rng):
    """Random weights everywhere (so that biases, gates and moving statistics all matter);
    variances stay positive."""
    values = []
    for name, weight in model.named_weights():
        value = rng.normal(0.0, 0.5, size=tuple(weight.shape))
        if name.endswith("moving_variance"):
            value = np.abs(value) + 0.1
        values.append(value.astype(weight.numpy().dtype))
    model.set_weights(values)


def onnx_outputs(path, x):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": x})[0]


def reference_outputs(path, x):
    """The outputs of onnx's own numpy implementation of the operators (which runs float64
    where onnxruntime's CPU provider has no float64 kernels)."""
    return ReferenceEvaluator(str(path)).run(["output"], {"input": x})[0]


def assert_exports_faithfully(
    model, tmp_path, make_input, opset=None, tolerance=TOLERANCE, run=onnx_outputs
):
    """Exports ``model`` and checks the outputs of the file (in onnxruntime unless ``run`` says
    otherwise) against ``predict`` for every batch size; ``make_input(batch)`` gives a batch."""
    path = tmp_path / "model.onnx"
    fg.onnx.export(model, path, opset=opset)
    for batch in BATCH_SIZES:
        x = make_input(batch)
        expected = model.predict(x, verbose=0)
        actual = run(path, x)
        assert actual.dtype == expected.dtype
        assert actual.shape == expected.shape, (batch, actual.shape, expected.shape)
        np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance)
    return path


def normal_input(rng, shape, dtype="float32", scale=2.0):
    return lambda batch: (scale * rng.standard_normal((batch, *shape))).astype(dtype)


def token_input(rng, vocabulary, steps):
    return lambda batch: rng.integers(0, vocabulary, size=(batch, steps)).astype("float32")


# --- activations and core layers -------------------------------------------------------------

ACTIVATIONS = [
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "leaky_relu",
    "elu",
    "gelu",
    "softplus",
    "selu",
    "softsign",
    "silu",
    "exponential",
]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_with_each_activation(activation, rng, tmp_path):
    model = fg.Sequential([layers.Dense(6, activation=activation, input_shape=(9,))])
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (9,), scale=1.0))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_layer(activation, rng, tmp_path):
    model = fg.Sequential([layers.Activation(activation, input_shape=(4, 7))])
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (4, 7)))


def test_dense_without_bias_on_a_sequence(rng, tmp_path):
    model = fg.Sequential([layers.Dense(5, use_bias=False, input_shape=(6, 3))])
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (6, 3)))


def test_dropout_is_the_identity_at_inference(rng, tmp_path):
    model = fg.Sequential([layers.Dropout(0.5, input_shape=(8,))])
    path = assert_exports_faithfully(model, tmp_path, normal_input(rng, (8,)))
    x = rng.standard_normal((4, 8)).astype("float32")
    np.testing.assert_array_equal(onnx_outputs(path, x), x)


@pytest.mark.parametrize(("center", "scale"), [(True, True), (False, True), (True, False)])
def test_batch_normalization_uses_the_moving_statistics(center, scale, rng, tmp_path):
    model = fg.Sequential(
        [
            layers.Dense(5, input_shape=(3, 4)),
            layers.BatchNormalization(center=center, scale=scale, epsilon=0.01),
        ]
    )
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (3, 4)))


def test_flatten(rng, tmp_path):
    model = fg.Sequential([layers.Flatten(input_shape=(3, 4, 2)), layers.Dense(3)])
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (3, 4, 2)))


def test_embedding_gathers_rows(rng, tmp_path):
    model = fg.Sequential([layers.Embedding(50, 4, input_shape=(7,))])
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, token_input(rng, 50, 7))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("opset", [17, 18])
def test_global_average_pooling(data_format, keepdims, opset, rng, tmp_path):
    pool = layers.GlobalAveragePooling1D(data_format=data_format, keepdims=keepdims)
    model = fg.Sequential([layers.Input(shape=(6, 4)), pool])
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (6, 4)), opset=opset)


# --- recurrent layers --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [layers.SimpleRNN, layers.LSTM, layers.GRU])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_recurrent_layers(kind, return_sequences, go_backwards, rng, tmp_path):
    model = fg.Sequential(
        [
            layers.Input(shape=(7, 5)),
            kind(6, return_sequences=return_sequences, go_backwards=go_backwards),
        ]
    )
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (7, 5), scale=1.0))


@pytest.mark.parametrize("kind", [layers.LSTM, layers.GRU])
@pytest.mark.parametrize(
    ("activation", "recurrent_activation"),
    [("relu", "sigmoid"), ("elu", "tanh"), ("tanh", "relu"), ("sigmoid", "elu")],
)
def test_gated_layers_with_other_activations(kind, activation, recurrent_activation, rng, tmp_path):
    layer = kind(4, activation=activation, recurrent_activation=recurrent_activation)
    model = fg.Sequential([layers.Input(shape=(5, 3)), layer])
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (5, 3), scale=0.5))


@pytest.mark.parametrize("kind", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_recurrent_layers_without_bias(kind, rng, tmp_path):
    model = fg.Sequential([layers.Input(shape=(4, 3)), kind(5, use_bias=False)])
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (4, 3), scale=1.0))


def test_recurrent_layer_with_an_open_time_axis(rng, tmp_path):
    model = fg.Sequential([layers.Input(shape=(None, 3)), layers.GRU(4, return_sequences=True)])
    randomize(model, rng)
    path = tmp_path / "model.onnx"
    fg.onnx.export(model, path)
    for steps in (1, 6):
        x = rng.standard_normal((3, steps, 3)).astype("float32")
        np.testing.assert_allclose(
            onnx_outputs(path, x), model.predict(x, verbose=0), rtol=TOLERANCE, atol=TOLERANCE
        )


@pytest.mark.parametrize("kind", [layers.SimpleRNN, layers.LSTM, layers.GRU])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional(kind, merge_mode, return_sequences, rng, tmp_path):
    wrapped = kind(4, return_sequences=return_sequences)
    model = fg.Sequential(
        [layers.Input(shape=(6, 3)), layers.Bidirectional(wrapped, merge_mode=merge_mode)]
    )
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (6, 3), scale=1.0))


def test_bidirectional_with_its_own_backward_layer(rng, tmp_path):
    forward = layers.LSTM(4, return_sequences=True)
    backward = layers.LSTM(4, return_sequences=True, go_backwards=True, activation="relu")
    model = fg.Sequential(
        [layers.Input(shape=(5, 3)), layers.Bidirectional(forward, backward_layer=backward)]
    )
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (5, 3), scale=1.0))


# --- the seed models -----------------------------------------------------------------------------


def test_binary_classifier(rng, tmp_path):
    model = fg.Sequential(
        [
            layers.Dense(64, activation="relu", input_shape=(20,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, normal_input(rng, (20,), scale=1.0))


def test_functional_classifier(rng, tmp_path):
    inputs = layers.Input(shape=(784,))
    hidden = layers.Dense(128, activation="relu")(inputs)
    outputs = layers.Dense(10, activation="softmax")(hidden)
    model = fg.Model(inputs=inputs, outputs=outputs)
    assert_exports_faithfully(model, tmp_path, lambda batch: rng.random((batch, 784), "float32"))


def test_mlp_784_512_256_128_10_after_training(rng, tmp_path):
    model = fg.Sequential(
        [
            layers.Dense(512, activation="relu", input_shape=(784,)),
            layers.Dropout(0.2),
            layers.Dense(256, activation="relu"),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rng.random((256, 784), dtype="float32")
    y = rng.integers(0, 10, size=256).astype("float32")
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    assert_exports_faithfully(model, tmp_path, lambda batch: rng.random((batch, 784), "float32"))


def test_stacked_lstm_text_classifier(rng, tmp_path):
    model = fg.Sequential(
        [
            layers.Embedding(1000, 16, input_shape=(20,)),
            layers.LSTM(16, return_sequences=True),
            layers.Dropout(0.5),
            layers.LSTM(16),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    randomize(model, rng)
    assert_exports_faithfully(model, tmp_path, token_input(rng, 1000, 20))


def test_functional_model_with_a_shared_layer(rng, tmp_path):
    inputs = layers.Input(shape=(6,))
    shared = layers.Dense(6, activation="tanh", name="shared")
    outputs = layers.Dense(2, name="head")(shared(shared(inputs)))
    model = fg.Model(inputs=inputs, outputs=outputs)
    randomize(model, rng)
    path = assert_exports_faithfully(model, tmp_path, normal_input(rng, (6,)))
    initializers = {tensor.name for tensor in onnx.load(str(path)).graph.initializer}
    assert initializers == {"shared/kernel", "shared/bias", "head/kernel", "head/bias"}


def test_float64_model_runs_in_onnxruntime(rng, tmp_path):
    model = fg.Sequential(
        [
            layers.Embedding(30, 5, input_shape=(6,), dtype="float64"),
            layers.GlobalAveragePooling1D(dtype="float64"),
            layers.BatchNormalization(dtype="float64"),
            layers.Dense(8, activation="leaky_relu", dtype="float64"),
            layers.Dense(8, activation="selu", dtype="float64"),
            layers.Dense(3, activation="softmax", dtype="float64"),
        ]
    )
    randomize(model, rng)
    tokens = token_input(rng, 30, 6)
    path = assert_exports_faithfully(
        model, tmp_path, lambda batch: tokens(batch).astype("float64"), tolerance=1e-12
    )
    graph = onnx.load(str(path)).graph
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert {tensor.data_type for tensor in graph.initializer} <= {
        onnx.TensorProto.DOUBLE,
        onnx.TensorProto.INT64,
    }


FLOAT64_LAYERS = {
    # onnxruntime's CPU provider has no float64 kernels for these operators, so the files are
    # checked in onnx's reference implementation (which only knows the default cell
    # activations, the ones used here).
    "elu": lambda: layers.Activation("elu", dtype="float64"),
    "softplus": lambda: layers.Activation("softplus", dtype="float64"),
    "softsign": lambda: layers.Activation("softsign", dtype="float64"),
    "simple_rnn": lambda: layers.SimpleRNN(4, return_sequences=True, dtype="float64"),
    "lstm": lambda: layers.LSTM(4, dtype="float64"),
    "lstm_backwards": lambda: layers.LSTM(
        4, return_sequences=True, go_backwards=True, dtype="float64"
    ),
    "gru": lambda: layers.GRU(4, go_backwards=True, dtype="float64"),
    "gru_sequences": lambda: layers.GRU(4, return_sequences=True, dtype="float64"),
    "bidirectional": lambda: layers.Bidirectional(
        layers.LSTM(3, return_sequences=True, dtype="float64")
    ),
}


@pytest.mark.parametrize("which", FLOAT64_LAYERS)
def test_float64_layers_in_the_reference_implementation(which, rng, tmp_path):
    model = fg.Sequential([layers.Input(shape=(5, 3)), FLOAT64_LAYERS[which]()])
    randomize(model, rng)
    assert_exports_faithfully(
        model,
        tmp_path,
        normal_input(rng, (5, 3), "float64"),
        tolerance=1e-12,
        run=reference_outputs,
    )


@pytest.mark.parametrize("opset", [17, 18, 20])
def test_a_model_of_many_kinds_at_several_opsets(opset, rng, tmp_path):
    model = fg.Sequential(
        [
            layers.Embedding(50, 4, input_shape=(6,)),
            layers.Bidirectional(layers.GRU(3, return_sequences=True)),
            layers.LSTM(5, return_sequences=True, go_backwards=True),
            layers.GlobalAveragePooling1D(),
            layers.BatchNormalization(),
            layers.Dense(4, activation="gelu"),
            layers.Dense(2, activation="softmax"),
        ]
    )
    randomize(model, rng)
    path = assert_exports_faithfully(model, tmp_path, token_input(rng, 50, 6), opset=opset)
    assert [(o.domain, o.version) for o in onnx.load(str(path)).opset_import] == [("", opset)]


# --- the file ----------------------------------------------------------------------------------


def test_the_file_names_its_input_output_batch_axis_and_opset(rng, tmp_path):
    model = fg.Sequential([layers.Dense(3, input_shape=(4,))])
    path = tmp_path / "model.onnx"
    fg.onnx.export(model, str(path))
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["output"]
    input_dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in input_dims] == ["batch", 4]
    output_dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in output_dims] == ["batch", 3]
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", fg.onnx.DEFAULT_OPSET)]
    assert fg.onnx.DEFAULT_OPSET == 17


def test_export_replaces_a_file_atomically(rng, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"an older file")
    model = fg.Sequential([layers.Dense(2, input_shape=(3,))])
    randomize(model, rng)
    fg.onnx.export(model, path)
    assert os.listdir(tmp_path) == ["model.onnx"]
    x = rng.standard_normal((2, 3)).astype("float32")
    np.testing.assert_allclose(onnx_outputs(path, x), model.predict(x, verbose=0), rtol=1e-6)


def test_a_refused_export_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"an older file")
    model = fg.Sequential([layers.Embedding(10, 3, mask_zero=True, input_shape=(4,))])
    with pytest.raises(ValueError):
        fg.onnx.export(model, path)
    assert path.read_bytes() == b"an older file"
    assert os.listdir(tmp_path) == ["model.onnx"]


# --- refusals ---------------------------------------------------------------------------------


def test_masking_is_refused_by_name(tmp_path):
    model = fg.Sequential(
        [
            layers.Embedding(100, 8, mask_zero=True, input_shape=(5,), name="tokens"),
            layers.LSTM(4),
        ]
    )
    with pytest.raises(ValueError, match=r"'tokens' \(Embedding\) has mask_zero=True"):
        fg.onnx.export(model, tmp_path / "model.onnx")


@pytest.mark.parametrize(
    ("kind", "setting", "activation"),
    [
        (layers.SimpleRNN, "activation", "exponential"),
        (layers.GRU, "activation", "linear"),
        (layers.LSTM, "recurrent_activation", "exponential"),
        (layers.LSTM, "activation", "linear"),
    ],
)
def test_a_cell_activation_onnx_cannot_take_is_refused_by_name(
    kind, setting, activation, rng, tmp_path
):
    layer = kind(3, name="encoder", **{setting: activation})
    model = fg.Sequential([layers.Input(shape=(4, 2)), layer])
    model.predict(rng.standard_normal((2, 4, 2)).astype("float32"), verbose=0)  # ferrograd runs it
    pattern = f"'encoder' \\({kind.__name__}\\) has {setting}='{activation}'"
    with pytest.raises(ValueError, match=pattern):
        fg.onnx.export(model, tmp_path / "model.onnx")


def test_an_unknown_layer_class_is_refused_by_name(tmp_path):
    class Custom(layers.Layer):
        """A user's layer reusing a core kind: export() cannot know what it means."""

        kind = "Dense"

        def settings(self):
            return {"units": 3}

    model = fg.Sequential([layers.Dense(3, input_shape=(2,)), Custom(name="mystery")])
    with pytest.raises(ValueError, match=r"'mystery' \(Custom\) cannot be exported"):
        fg.onnx.export(model, tmp_path / "model.onnx")


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="takes a ferrograd model"):
        fg.onnx.export("model", tmp_path / "model.onnx")
    unbuilt = fg.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="not built"):
        fg.onnx.export(unbuilt, tmp_path / "model.onnx")
    model = fg.Sequential([layers.Dense(3, input_shape=(2,))])
    with pytest.raises(ValueError, match="opset=12"):
        fg.onnx.export(model, tmp_path / "model.onnx", opset=12)
    with pytest.raises(TypeError, match="opset='17'"):
        fg.onnx.export(model, tmp_path / "model.onnx", opset="17")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fg.onnx.export(model, tmp_path / "missing" / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


def test_without_onnx_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)
    model = fg.Sequential([layers.Dense(3, input_shape=(2,))])
    with pytest.raises(ImportError, match=r"pip install ferrograd\[onnx\]"):
        fg.onnx.export(model, tmp_path / "model.onnx")
