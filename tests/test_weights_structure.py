"""``load_weights`` matches weights by structure (layer order, then weight order), as Keras 3
does, so weights load into the same architecture built again under other generated names; any
difference is refused before a weight changes; an HDF5 file says what it is."""

import json
import struct

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers
from ferrograd.errors import FileFormatError


def mlp():
    return fg.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2)])


def test_weights_load_into_the_same_architecture_built_again(tmp_path):
    first = mlp()
    first.save_weights(tmp_path / "w.safetensors")
    second = mlp()  # built again in the same process: dense_2, dense_3
    assert [n for n, _ in second.named_weights()] != [n for n, _ in first.named_weights()]
    second.load_weights(tmp_path / "w.safetensors")
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    np.testing.assert_array_equal(first.predict(x, verbose=0), second.predict(x, verbose=0))


def test_functional_weights_load_into_a_rebuilt_functional_model(tmp_path):
    def build():
        inputs = layers.Input(shape=(3,))
        left = layers.Dense(4)(inputs)
        right = layers.Dense(4)(inputs)
        return fg.Model(inputs, layers.Dense(1)(layers.Concatenate()([left, right])))

    first = build()
    first.save_weights(tmp_path / "w.safetensors")
    second = build()
    second.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_different_structure_is_refused_naming_layers_and_shapes(tmp_path):
    mlp().save_weights(tmp_path / "w.safetensors")
    wider = fg.Sequential([layers.Dense(5, input_shape=(3,)), layers.Dense(2)])
    before = wider.get_weights()
    with pytest.raises(ValueError) as error:
        wider.load_weights(tmp_path / "w.safetensors")
    message = str(error.value)
    name = wider.layers[0].name
    assert f"layer {name!r} weight 'kernel' has shape (3, 5)" in message
    assert "has shape (3, 4)" in message
    for a, b in zip(before, wider.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)

    deeper = fg.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2), layers.Dense(1)])
    before = deeper.get_weights()
    with pytest.raises(ValueError, match="the model has 6 weights .*, the file 4"):
        deeper.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(before, deeper.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_file_records_the_order_of_the_weights(tmp_path):
    model = mlp()
    model.save_weights(tmp_path / "w.safetensors")
    with open(tmp_path / "w.safetensors", "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(length))
    assert json.loads(header["__metadata__"]["order"]) == [n for n, _ in model.named_weights()]


def test_an_hdf5_file_without_h5py_says_what_it_is(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py now fails
    path = tmp_path / "model.weights.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    model = mlp()
    before = model.get_weights()
    with pytest.raises(FileFormatError, match="is an HDF5 file.*pip install h5py"):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_hdf5_file_given_to_load_model_says_what_it_is(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(FileFormatError, match="is an HDF5 file .* model.load_weights"):
        fg.models.load_model(path)
