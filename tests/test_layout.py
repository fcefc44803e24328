"""The package layout: the layer registry, the one batch pipeline of fit/evaluate/predict
(``ferrograd.data_adapter``), and the docstring examples of the modules they live in."""

import doctest
import importlib
import io
import itertools

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers, saving
from ferrograd.data_adapter import prepare
from ferrograd.layers import registry as registry_module
from ferrograd.layers.registry import register_layer, registered_layers

# -- the registry ---------------------------------------------------------------------------


def test_every_layer_class_is_registered_under_its_kind():
    registry = registered_layers()
    kinds = set()
    for name in layers.__all__:
        cls = getattr(layers, name)
        if isinstance(cls, type) and issubclass(cls, layers.Layer) and cls.kind:
            assert registry[cls.kind] is cls, name
            kinds.add(cls.kind)
    assert set(saving.layer_classes()) == kinds - {"Input"}


def test_the_model_file_reader_finds_layers_through_the_registry():
    assert saving.layer_classes()["GlobalAveragePooling1D"] is layers.GlobalAveragePooling1D
    assert "Input" not in saving.layer_classes()  # an InputLayer is the model's, not a file's


@pytest.fixture
def scratch_registry(monkeypatch):
    """Classes the test defines register into a copy, not the session's registry."""
    monkeypatch.setattr(registry_module, "_classes", dict(registry_module._classes))


def test_a_subclass_without_its_own_kind_keeps_the_built_in_class_registered(scratch_registry):
    class Wider(layers.Dense):
        pass

    class Again(layers.Layer):
        kind = "Dense"

    assert registered_layers()["Dense"] is layers.Dense


def test_a_new_kind_registers_itself_but_files_only_name_kinds_the_core_builds(scratch_registry):
    class Unbuilt(layers.Layer):
        kind = "NotARustLayerYet"

    assert registered_layers()["NotARustLayerYet"] is Unbuilt
    assert "NotARustLayerYet" not in saving.layer_classes()
    assert register_layer(Unbuilt) is Unbuilt  # idempotent, usable as a decorator


# -- the batch pipeline -----------------------------------------------------------------------


def test_prepare_arrays_for_each_mode():
    x, y = np.ones((10, 3)), np.arange(10.0)
    fit = prepare(x, y, mode="fit", dtype="float32", batch_size=4, validation_split=0.2)
    assert fit.x.dtype == np.float32 and fit.x.flags.c_contiguous
    assert (fit.sample_shape, fit.y_shape, fit.steps) == ((3,), (8,), 2)
    assert fit.validation.as_validation()[1].tolist() == [8.0, 9.0]
    limited = prepare(x, y, mode="fit", dtype="float32", batch_size=4, steps=1)
    assert limited.steps == 1 and limited.validation is None
    evaluate = prepare(x, y, mode="evaluate", dtype="float64", batch_size=4, steps=1)
    assert (evaluate.steps, evaluate.x.dtype) == (3, np.float64)  # steps only bound fit here
    predict = prepare(x, mode="predict", dtype="float32", batch_size=3)
    assert (predict.y, predict.y_shape, predict.steps) == (None, None, 4)


def test_prepare_validation_data_overrides_the_split_without_reading_it():
    x, y = np.ones((10, 3)), np.zeros(10)
    data = prepare(
        x,
        y,
        mode="fit",
        dtype="float32",
        batch_size=4,
        validation_split=5.0,  # ignored, as Keras does, when validation_data is given
        validation_data=(np.ones((2, 3)), np.zeros(2)),
    )
    assert len(data.x) == 10 and len(data.validation.x) == 2
    with pytest.raises(ValueError, match=r"validation_data must be \(x_val, y_val\)"):
        prepare(x, y, mode="fit", dtype="float32", batch_size=4, validation_data=np.ones(3))
    with pytest.raises(ValueError, match="validation_data is empty"):
        prepare(x, y, mode="fit", dtype="float32", batch_size=4, validation_data=(x[:0], y[:0]))


def test_prepare_streams_peeks_once_and_puts_the_batch_back():
    batches = [(np.ones((4, 3)), np.zeros(4)) for _ in range(3)]
    data = prepare(iter(batches), mode="evaluate", dtype="float32", batch_size=4)
    assert (data.sample_shape, data.y_shape, data.steps) == ((3,), (4,), None)
    assert data.is_stream and len(list(data.x)) == 3
    predict = prepare(iter(batches), mode="predict", dtype="float32", batch_size=4, steps=2)
    assert isinstance(predict.x, itertools.islice) and predict.steps == 2
    assert len(list(predict.x)) == 2
    validation = prepare(
        iter(batches), mode="fit", dtype="float32", validation_data=iter(batches)
    ).validation
    assert validation.is_stream and len(validation.as_validation()) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: prepare(None, None, mode="fit", dtype="float32"), r"fit\(\) needs x and y"),
        (
            lambda: prepare(np.ones((0, 2)), np.ones(0), mode="evaluate", dtype="float32"),
            r"evaluate\(\) received empty arrays",
        ),
        (lambda: prepare(iter([]), mode="predict", dtype="float32"), "yielded no batches"),
        (
            lambda: prepare(iter([]), np.ones(2), mode="fit", dtype="float32"),
            "y must be None",
        ),
        (
            lambda: prepare(iter([]), mode="fit", dtype="float32", validation_split=0.1),
            "validation_split needs arrays",
        ),
        (lambda: prepare(np.ones(2), mode="train", dtype="float32"), "mode must be one of"),
        (
            lambda: prepare(
                np.ones(2), np.ones(2), mode="evaluate", dtype="float32", validation_split=0.5
            ),
            "mode='fit'",
        ),
    ],
)
def test_prepare_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- docstring examples -----------------------------------------------------------------------

DOCUMENTED = [
    "layers.naming",
    "layers.shapes",
    "layers.keras_tensor",
    "layers.weights",
    "layers.registry",
    "layers.layer",
    "layers.input_layer",
    "layers.dense",
    "layers.activation",
    "layers.dropout",
    "layers.flatten",
    "layers.batch_normalization",
    "layers.embedding",
    "layers.simple_rnn",
    "layers.lstm",
    "layers.gru",
    "layers.bidirectional",
    "layers.global_average_pooling1d",
    "_data",
    "data_adapter",
    "models.summary",
    "models.topology",
    "models.progress",
    "saving.archive",
    "saving.atomic",
    "saving.config",
    "saving.weights_file",
    "saving.model_file",
]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the saving examples write model.fgm and w.safetensors here
    fg.clear_session()
    model = fg.Sequential(
        [layers.Dense(2, input_shape=(3,)), layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.save("model.fgm")
    model.save_weights("w.safetensors")
    fg.clear_session()
    module = importlib.import_module(f"ferrograd.{name}")
    result = doctest.testmod(
        module,
        extraglobs={"fg": fg, "layers": layers, "np": np, "io": io, "model": model},
        optionflags=doctest.ELLIPSIS,
    )
    assert result.attempted > 0 and result.failed == 0, name
