"""Keras 3's own files: ``.keras`` models and ``.weights.h5`` weights written by Keras itself
load here with equal predictions and continue training; a file naming code (a ``Lambda``), a
custom object, or a damaged archive is refused with a message that says which."""

import importlib.util
import json
import os
import zipfile

import numpy as np
import pytest

if importlib.util.find_spec("keras") is None or importlib.util.find_spec("h5py") is None:
    pytest.skip("needs keras and h5py (the test extra)", allow_module_level=True)

# Keras runs on PyTorch in CI (the test extra); any installed backend writes the same files.
os.environ.setdefault(
    "KERAS_BACKEND",
    next(
        (name for name in ("torch", "jax", "tensorflow") if importlib.util.find_spec(name)),
        "numpy",
    ),
)

import keras  # noqa: E402
from keras import layers as kl  # noqa: E402

import ferrograd as fg  # noqa: E402
from ferrograd import layers  # noqa: E402
from ferrograd.errors import FileFormatError  # noqa: E402


def randomize(model, seed=0):
    """Non-trivial weights (positive where a variance is expected), so equal predictions mean
    every weight went to the right place."""
    rng = np.random.default_rng(seed)
    values = []
    for weight in model.weights:
        shape = tuple(weight.shape)
        if "variance" in weight.path:
            values.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
        else:
            values.append(rng.uniform(-0.5, 0.5, shape).astype("float32"))
    model.set_weights(values)


def dense_sequential():
    return keras.Sequential(
        [
            keras.Input((6,)),
            kl.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-3)),
            kl.BatchNormalization(),
            kl.Dropout(0.2),
            kl.Dense(3, activation="softmax"),
        ]
    )


def merge_functional():
    inputs = keras.Input((6,))
    left = kl.Dense(5, activation="tanh")(inputs)
    right = kl.Dense(5)(inputs)
    added = kl.Add()([left, right])
    multiplied = kl.Multiply()([left, right])
    merged = kl.Concatenate()([added, multiplied, kl.Subtract()([left, right])])
    normed = kl.LayerNormalization()(merged)
    return keras.Model(inputs, kl.Dense(2)(normed))


def recurrent():
    inputs = keras.Input((7,), dtype="int32")
    embedded = kl.Embedding(20, 4)(inputs)
    sequences = kl.LSTM(5, return_sequences=True)(embedded)
    sequences = kl.SimpleRNN(3, return_sequences=True)(sequences)
    encoded = kl.Bidirectional(kl.GRU(4))(sequences)
    return keras.Model(inputs, kl.Dense(1, activation="sigmoid")(encoded))


def convolutional():
    return keras.Sequential(
        [
            keras.Input((12, 3)),
            kl.Conv1D(4, 3, activation="relu"),
            kl.MaxPooling1D(2),
            kl.Conv1D(2, 2, padding="same"),
            kl.GlobalAveragePooling1D(),
            kl.Dense(2),
        ]
    )


def nested():
    base = keras.Sequential([keras.Input((6,)), kl.Dense(5, activation="relu"), kl.Dense(4)])
    inputs = keras.Input((6,))
    features = base(inputs, training=False)
    return keras.Model(inputs, kl.Dense(1)(kl.Dense(3, activation="relu")(features)))


def conv2d():
    return keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            kl.Conv2D(3, 3, activation="relu"),
            kl.MaxPooling2D(2),
            kl.Conv2D(2, (2, 2), padding="same"),
            kl.Flatten(),
            kl.Dense(2),
        ]
    )


def activations_and_shapes():
    inputs = keras.Input((6,))
    x = kl.ReLU(max_value=2.0)(kl.Dense(8)(inputs))
    x = kl.LeakyReLU(negative_slope=0.1)(x)
    x = kl.Permute((2, 1))(kl.Reshape((4, 2))(x))
    x = kl.Flatten()(kl.PReLU()(x))
    x = kl.RepeatVector(3)(kl.ELU()(kl.Dense(4)(x)))
    x = kl.GlobalMaxPooling1D()(x)
    return keras.Model(inputs, kl.Softmax()(kl.Activation("tanh")(x)))


def two_inputs_two_outputs():
    first, second = keras.Input((6,), name="first"), keras.Input((6,), name="second")
    shared = kl.Dense(4, activation="tanh")
    a, b = shared(first), shared(second)
    merged = kl.Concatenate()([kl.Dot(axes=1)([a, b]), kl.Average()([a, b]), kl.Maximum()([a, b])])
    merged = kl.Concatenate()([merged, kl.Minimum()([a, b])])
    return keras.Model([first, second], [kl.Dense(1)(merged), kl.Dense(2)(merged)])


def masked_recurrent():
    inputs = keras.Input((7,), dtype="int32")
    embedded = kl.Embedding(20, 4, mask_zero=True)(inputs)
    return keras.Model(inputs, kl.Dense(1)(kl.LSTM(5)(embedded)))


def recurrent_states():
    inputs = keras.Input((5, 3))
    output, state_h, state_c = kl.LSTM(4, return_state=True)(inputs)
    sequences, state = kl.GRU(2, return_sequences=True, return_state=True)(inputs)
    pooled = kl.GlobalAveragePooling1D()(sequences)
    merged = kl.Concatenate()([output, state_h, state_c, state, pooled])
    return keras.Model(inputs, kl.Dense(2)(merged))


def pooling_and_upsampling():
    image = keras.Input((8, 8, 2))
    x = kl.UpSampling2D(2)(kl.AveragePooling2D(2)(image))
    sequence = kl.UpSampling1D(2)(kl.AveragePooling1D(2)(kl.Reshape((8, 16))(x)))
    pooled = [
        kl.GlobalMaxPooling2D()(x),
        kl.GlobalAveragePooling2D()(x),
        kl.GlobalAveragePooling1D()(kl.Identity()(sequence)),
    ]
    return keras.Model(image, kl.Dense(2)(kl.Concatenate()(pooled)))


BUILDERS = {
    "pooling_and_upsampling": (pooling_and_upsampling, "image"),
    "recurrent_states": (recurrent_states, "short sequence"),
    "conv2d": (conv2d, "image"),
    "activations_and_shapes": (activations_and_shapes, "float"),
    "two_inputs_two_outputs": (two_inputs_two_outputs, "pair"),
    "masked_recurrent": (masked_recurrent, "padded tokens"),
    "dense_sequential": (dense_sequential, "float"),
    "merge_functional": (merge_functional, "float"),
    "recurrent": (recurrent, "tokens"),
    "convolutional": (convolutional, "sequence"),
    "nested": (nested, "float"),
}


def sample(kind, rows=16):
    rng = np.random.default_rng(1)
    if kind == "short sequence":
        return rng.standard_normal((rows, 5, 3)).astype("float32")
    if kind == "image":
        return rng.standard_normal((rows, 8, 8, 2)).astype("float32")
    if kind == "pair":
        return [sample("float", rows), sample("float", rows) * 2]
    if kind == "padded tokens":
        tokens = rng.integers(1, 20, (rows, 7)).astype("int32")
        tokens[:, 4:] *= np.arange(rows)[:, None] % 2 == 0  # every other row padded with 0s
        return tokens
    if kind == "tokens":
        return rng.integers(0, 20, (rows, 7)).astype("int32")
    if kind == "sequence":
        return rng.standard_normal((rows, 12, 3)).astype("float32")
    return rng.standard_normal((rows, 6)).astype("float32")


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keras_files")
    written = {}
    for name, (build, kind) in BUILDERS.items():
        model = build()
        randomize(model)
        model.compile(optimizer="adam", loss="mse")
        x = sample(kind)
        expected = model.predict(x, verbose=0)
        model.save(folder / f"{name}.keras")
        model.save_weights(folder / f"{name}.weights.h5")
        written[name] = (folder / f"{name}.keras", folder / f"{name}.weights.h5", x, expected)
    return written


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_keras_models_load_with_equal_predictions_and_train_on(keras_files, name):
    path, _, x, expected = keras_files[name]
    model = fg.models.load_model(path)
    assert_close(model.predict(x, verbose=0), expected)
    assert model.compiled
    y = [np.zeros_like(e) for e in expected] if isinstance(expected, list) else expected * 0
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    before, after = np.ravel(before)[0], np.ravel(after)[0]
    assert np.isfinite(after) and after < before


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_keras_weights_files_load_into_the_same_architecture(keras_files, name):
    path, weights_path, x, expected = keras_files[name]
    # The same architecture built here from the file's description, then its weights replaced.
    model = fg.models.load_model(path, compile=False)
    fresh = fg.models.clone_model(model)
    with pytest.raises(AssertionError):
        assert_close(fresh.predict(x, verbose=0), expected)
    fresh.load_weights(weights_path)
    assert_close(fresh.predict(x, verbose=0), expected)


def assert_close(found, expected):
    if isinstance(expected, list):
        assert isinstance(found, list) and len(found) == len(expected)
        for f, e in zip(found, expected, strict=True):
            np.testing.assert_allclose(f, e, atol=1e-5, rtol=1e-5)
    else:
        np.testing.assert_allclose(found, expected, atol=1e-5, rtol=1e-5)


def test_a_keras_weights_file_loads_into_a_model_written_with_ferrograd(keras_files):
    _, weights_path, x, expected = keras_files["dense_sequential"]
    model = fg.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(6,)),
            layers.BatchNormalization(),
            layers.Dropout(0.2),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.load_weights(weights_path)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5, rtol=1e-5)

    wrong = fg.Sequential([layers.Dense(9, input_shape=(6,)), layers.Dense(3)])
    before = wrong.get_weights()
    with pytest.raises(FileFormatError, match=r"shape \(6, 9\) meets layers/dense/vars/0"):
        wrong.load_weights(weights_path)
    for a, b in zip(before, wrong.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def rewrite_config(source, target, change):
    with zipfile.ZipFile(source) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    change(config)
    entries["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def test_a_keras_file_with_a_lambda_is_refused(tmp_path):
    inputs = keras.Input((3,))
    outputs = kl.Dense(1)(kl.Lambda(lambda t: t * 2)(inputs))
    keras.Model(inputs, outputs).save(tmp_path / "lambda.keras")
    with pytest.raises(FileFormatError, match="Lambda holding Python code"):
        fg.models.load_model(tmp_path / "lambda.keras")


def test_custom_objects_and_unknown_modules_are_refused(keras_files, tmp_path):
    path = keras_files["dense_sequential"][0]

    def custom_layer(config):
        layer = config["config"]["layers"][1]
        layer["module"], layer["registered_name"] = "my_package.layers", "Custom>MyDense"

    rewrite_config(path, tmp_path / "custom.keras", custom_layer)
    with pytest.raises(FileFormatError, match="custom object 'Dense' of module 'my_package"):
        fg.models.load_model(tmp_path / "custom.keras")

    def registered_activation(config):
        config["config"]["layers"][1]["config"]["activation"] = {
            "module": None,
            "class_name": "swishy",
            "config": {},
            "registered_name": "Custom>swishy",
        }

    rewrite_config(path, tmp_path / "registered.keras", registered_activation)
    with pytest.raises(FileFormatError, match="custom registered object 'Custom>swishy'"):
        fg.models.load_model(tmp_path / "registered.keras")

    def unsupported_argument(config):
        config["config"]["layers"][1]["config"]["kernel_constraint"] = {
            "module": "keras.constraints",
            "class_name": "NonNeg",
            "config": {},
            "registered_name": None,
        }

    rewrite_config(path, tmp_path / "constraint.keras", unsupported_argument)
    with pytest.raises(FileFormatError, match="kernel_constraint=.* is not supported"):
        fg.models.load_model(tmp_path / "constraint.keras")


def test_truncated_and_corrupt_keras_files_are_refused_cleanly(keras_files, tmp_path):
    data = keras_files["merge_functional"][0].read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30):
        truncated = tmp_path / f"cut{cut}.keras"
        truncated.write_bytes(data[:cut])
        with pytest.raises(FileFormatError):
            fg.models.load_model(truncated)
    corrupt = bytearray(data)
    middle = len(corrupt) // 2
    corrupt[middle : middle + 64] = b"\xff" * 64
    (tmp_path / "corrupt.keras").write_bytes(bytes(corrupt))
    with pytest.raises(FileFormatError):
        fg.models.load_model(tmp_path / "corrupt.keras")


def test_a_legacy_or_foreign_hdf5_file_is_refused_by_name(tmp_path):
    import h5py

    with h5py.File(tmp_path / "legacy.h5", "w") as legacy:
        legacy.create_group("model_weights")
        legacy.attrs["layer_names"] = [b"dense"]
    model = fg.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(FileFormatError, match="a Keras 2 \\(legacy .h5\\) file"):
        model.load_weights(tmp_path / "legacy.h5")
    with h5py.File(tmp_path / "other.h5", "w") as other:
        other["x"] = np.zeros(3)
    with pytest.raises(FileFormatError, match="not a Keras 3 weights file"):
        model.load_weights(tmp_path / "other.h5")


def test_model_from_json_reads_keras_json():
    model = merge_functional()
    randomize(model, seed=3)
    x = sample("float")
    copy = fg.models.model_from_json(model.to_json())
    assert [w.shape for w in copy.weights] == [tuple(w.shape) for w in model.weights]
    copy.set_weights([np.asarray(w) for w in model.get_weights()])
    assert_close(copy.predict(x, verbose=0), model.predict(x, verbose=0))
    text = model.to_json().replace('"class_name": "Dense"', '"class_name": "Lambda"', 1)
    with pytest.raises(FileFormatError, match="Lambda holding Python code"):
        fg.models.model_from_json(text)


def test_keras_seeded_initializers_and_variance_scaling_are_read(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            kl.Dense(
                3,
                kernel_initializer=keras.initializers.VarianceScaling(
                    scale=2.0, mode="fan_out", distribution="uniform", seed=5
                ),
                bias_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=7),
            ),
        ]
    )
    model.save(tmp_path / "seeded.keras")
    loaded = fg.models.load_model(tmp_path / "seeded.keras")
    dense = loaded.layers[-1]
    assert dense.kernel_initializer.get_config() == {
        "scale": 2.0,
        "mode": "fan_out",
        "distribution": "uniform",
        "seed": 5,
    }
    assert dense.bias_initializer.seed == 7
    np.testing.assert_allclose(loaded.get_weights()[0], np.asarray(model.get_weights()[0]))
