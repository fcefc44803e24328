"""Bad input gets a clear exception or numpy's answer: sizes no machine can hold, NaN that must
not vanish in a fused kernel, conversions Python refuses, and zero-sized dimensions.

The oversize cases run in a child process under an address-space limit, so that a regression
fails the test instead of taking the machine down.
"""

import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers

# --- sizes no machine can hold -------------------------------------------------------------

OVERSIZE_CASES = [
    "fg.ones(2**36)",
    "fg.zeros(2**40, 8)",
    "fg.randn(2**40, 8)",
    "fg.full((2**20, 2**20, 8), 1.0)",
    "layers.Dense(2**40).build((None, 4))",
    "layers.Embedding(2**40, 8).build((None, 3))",
    "layers.LSTM(2**20).build((None, 3, 4))",
]


def run_limited(code: str, address_space_gib: int = 8) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter whose address space is capped."""
    prelude = textwrap.dedent(
        f"""
        import resource
        limit = {address_space_gib} * 2**30
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        import ferrograd as fg
        from ferrograd import layers
        """
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("expression", OVERSIZE_CASES)
def test_a_size_beyond_the_machine_raises_memory_error_at_once(expression):
    code = f"""
        try:
            {expression}
        except MemoryError as error:
            print("MemoryError:", error)
        else:
            print("no error")
    """
    completed = run_limited(code)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.startswith("MemoryError:"), completed.stdout
    # The message says how much was asked for and how much the machine has.
    assert "cannot allocate" in completed.stdout
    assert "the machine can give at most" in completed.stdout


def test_a_size_within_the_machine_still_allocates():
    assert fg.zeros(1024, 1024).shape == (1024, 1024)


# --- NaN is not hidden by the fused Dense activation ------------------------------------------


def test_nan_input_gives_nan_through_a_fused_relu_dense():
    fg.set_seed(1)
    model = fg.Sequential([layers.Dense(4, activation="relu", input_shape=(3,))])
    x = np.array([[np.nan, 1.0, 2.0], [1.0, 2.0, 3.0]], dtype="float32")
    out = model.predict(x, verbose=0)
    assert np.isnan(out[0]).all()
    assert np.isfinite(out[1]).all()
    # The same as the unfused composition, which already propagated NaN.
    dense = model.layers[0]
    kernel, bias = (w.numpy() for w in dense.weights)
    unfused = (fg.tensor(x) @ fg.tensor(kernel) + fg.tensor(bias)).relu().numpy()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(unfused))


def test_nan_in_a_hidden_kernel_stops_training_with_terminate_on_nan():
    fg.set_seed(2)
    model = fg.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(4,)),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    kernel, bias = model.layers[0].get_weights()
    kernel[0, 0] = np.nan
    model.layers[0].set_weights([kernel, bias])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x = np.ones((16, 4), dtype="float32")
    y = np.ones((16, 1), dtype="float32")
    history = model.fit(
        x, y, epochs=2, batch_size=8, verbose=0, callbacks=[fg.callbacks.TerminateOnNaN()]
    )
    assert history.stopped_on_nonfinite is not None
    assert math.isnan(history.stopped_on_nonfinite["loss"])


# --- conversions Python refuses ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_int_of_nan_and_infinity_raise_as_python_does(dtype):
    with pytest.raises(ValueError, match="NaN"):
        int(fg.tensor(float("nan"), dtype=dtype))
    with pytest.raises(OverflowError, match="infinity"):
        int(fg.tensor(float("inf"), dtype=dtype))
    with pytest.raises(OverflowError, match="infinity"):
        int(fg.tensor(float("-inf"), dtype=dtype))


def test_int_truncates_toward_zero_and_grows_beyond_64_bits():
    assert int(fg.tensor(3.7, dtype="float64")) == 3
    assert int(fg.tensor(-3.7, dtype="float64")) == -3
    assert int(fg.tensor(1e30, dtype="float64")) == int(1e30)


# --- zero-sized dimensions --------------------------------------------------------------------


def empty(*shape):
    return np.zeros(shape, dtype="float32")


UNARY_METHODS = ["exp", "log", "sqrt", "abs", "square", "relu", "sigmoid", "tanh", "detach"]


@pytest.mark.parametrize("shape", [(0,), (0, 3), (4, 0), (2, 0, 3)])
@pytest.mark.parametrize("method", UNARY_METHODS)
def test_elementwise_ops_on_empty_tensors_give_empty_results(shape, method):
    x = fg.tensor(empty(*shape), requires_grad=True)
    y = getattr(x, method)()
    assert y.shape == shape


@pytest.mark.parametrize("shape", [(0,), (0, 3), (4, 0), (2, 0, 3)])
def test_arithmetic_and_reductions_on_empty_tensors_follow_numpy(shape):
    a = fg.tensor(empty(*shape), requires_grad=True)
    b = fg.tensor(empty(*shape))
    for result in [a + b, a - b, a * b, a / (b + 1), -a, a**2, a.clip(0, 1)]:
        assert result.shape == shape
    total = a.sum()
    assert total.item() == 0.0
    total.backward()
    assert a.grad.shape == shape
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        numpy_mean = np.mean(empty(*shape))
    assert np.isnan(a.mean().item()) == np.isnan(numpy_mean)
    np.testing.assert_array_equal(a.sum(axis=-1).numpy(), empty(*shape).sum(axis=-1))


@pytest.mark.parametrize(
    ("left", "right"), [((4, 0), (0, 3)), ((0, 5), (5, 3)), ((4, 5), (5, 0)), ((0, 0), (0, 0))]
)
def test_matmul_with_empty_dimensions_gives_numpy_answer(left, right):
    a = fg.tensor(empty(*left) + 1, requires_grad=True)
    b = fg.tensor(empty(*right) + 1, requires_grad=True)
    out = a @ b
    np.testing.assert_array_equal(out.numpy(), (empty(*left) + 1) @ (empty(*right) + 1))
    out.sum().backward()
    assert a.grad.shape == left and b.grad.shape == right


def test_reshape_transpose_concat_and_softmax_on_empty_tensors():
    x = fg.tensor(empty(0, 3), requires_grad=True)
    assert x.reshape(3, 0).shape == (3, 0)
    assert x.transpose().shape == (3, 0)
    assert fg.concat([x, x], axis=0).shape == (0, 3)
    assert fg.stack([x, x], axis=0).shape == (2, 0, 3)
    assert x.softmax(axis=-1).shape == (0, 3)
    assert x.log_softmax(axis=-1).shape == (0, 3)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "softmax"])
def test_dense_on_zero_features_gives_its_bias(activation):
    dense = layers.Dense(3, activation=activation, bias_initializer="ones")
    x = fg.tensor(empty(4, 0), requires_grad=True)
    out = dense(x)
    expected = {
        "linear": np.ones((4, 3)),
        "relu": np.ones((4, 3)),
        "sigmoid": np.full((4, 3), 1 / (1 + np.exp(-1.0))),
        "softmax": np.full((4, 3), 1 / 3),
    }[activation]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    out.sum().backward()
    assert x.grad.shape == (4, 0)
    assert dense.weights[0].grad.shape == (0, 3)


def test_dense_model_on_zero_features_predicts_fits_and_evaluates():
    model = fg.Sequential([layers.Dense(3, input_shape=(0,))])
    model.compile(optimizer="adam", loss="mse")
    x, y = empty(5, 0), np.ones((5, 3), dtype="float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.zeros((5, 3)))
    history = model.fit(x, y, epochs=2, batch_size=2, verbose=0)
    # Only the bias learns: the loss falls from 1.
    assert history.history["loss"][0] == pytest.approx(1.0, rel=0.05)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0) < 1.0


def test_embedding_of_empty_sequences_then_flatten_and_dense():
    model = fg.Sequential(
        [layers.Embedding(10, 4, input_shape=(0,)), layers.Flatten(), layers.Dense(2)]
    )
    out = model.predict(np.zeros((3, 0), dtype="int64"), verbose=0)
    np.testing.assert_array_equal(out, np.zeros((3, 2)))


@pytest.mark.parametrize(
    "layer",
    [
        lambda: layers.Dense(2),
        lambda: layers.Activation("relu"),
        lambda: layers.Dropout(0.5),
        lambda: layers.Flatten(),
        lambda: layers.BatchNormalization(),
    ],
)
def test_layers_on_an_empty_batch_give_an_empty_batch(layer):
    built = layer()
    out = built(fg.tensor(empty(0, 4)), training=False)
    assert out.shape[0] == 0


@pytest.mark.parametrize(
    "layer",
    [
        lambda: layers.SimpleRNN(3),
        lambda: layers.LSTM(3),
        lambda: layers.GRU(3),
        lambda: layers.GlobalAveragePooling1D(),
    ],
)
def test_sequence_layers_on_an_empty_batch_give_an_empty_batch(layer):
    built = layer()
    out = built(fg.tensor(empty(0, 5, 4)), training=False)
    assert out.shape[0] == 0


# --- clear messages -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [-1, 2**64, 2**80])
def test_set_seed_out_of_range_names_the_seed(seed):
    with pytest.raises(ValueError, match=r"set_seed: seed must be an integer in \[0, 2\*\*64\)"):
        fg.set_seed(seed)


def test_set_seed_takes_the_full_unsigned_range():
    fg.set_seed(2**64 - 1)
    first = fg.randn(3).numpy()
    fg.set_seed(2**64 - 1)
    np.testing.assert_array_equal(fg.randn(3).numpy(), first)
    with pytest.raises(TypeError, match="integer"):
        fg.set_seed(1.5)


def test_indexing_with_a_string_or_float_says_what_indices_are_valid():
    t = fg.tensor(np.arange(5.0))
    with pytest.raises(TypeError, match="valid indices; received str 'a'"):
        t["a"]
    with pytest.raises(TypeError, match="valid indices; received float 1.5"):
        t[1.5]


def test_an_index_beyond_machine_integers_is_out_of_bounds():
    t = fg.tensor(np.arange(5.0))
    with pytest.raises(IndexError, match="out of bounds"):
        t[2**70]
    with pytest.raises(IndexError, match="out of bounds"):
        t[-(2**70)]


def test_slice_bounds_beyond_machine_integers_are_clamped_as_numpy_does():
    values = np.arange(5.0)
    t = fg.tensor(values)
    np.testing.assert_array_equal(t[0 : 2**70].numpy(), values[0 : 2**70])
    np.testing.assert_array_equal(t[-(2**70) : 2].numpy(), values[-(2**70) : 2])
    np.testing.assert_array_equal(t[:: 2**70].numpy(), values[:: 2**70])
    np.testing.assert_array_equal(t[:: -(2**70)].numpy(), values[:: -(2**70)])


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1000"])
def test_an_invalid_thread_count_variable_is_warned_about(value):
    code = "import warnings; warnings.simplefilter('always'); import ferrograd"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FERROGRAD_NUM_THREADS": value},
    )
    assert completed.returncode == 0, completed.stderr
    assert f"FERROGRAD_NUM_THREADS={value!r} is not a whole number" in completed.stderr


def test_a_valid_thread_count_variable_is_silent_and_used():
    code = "import ferrograd; print(ferrograd.get_num_threads())"
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FERROGRAD_NUM_THREADS": "3"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "3"


# --- arrays that are read wrongly unless converted ------------------------------------------


def dense_ones():
    return fg.Sequential([layers.Dense(2, input_shape=(3,), kernel_initializer="ones")])


def test_big_endian_arrays_and_memory_maps_are_read_by_value(tmp_path):
    values = np.arange(6, dtype="<f4").reshape(2, 3)
    path = tmp_path / "big_endian.dat"
    writer = np.memmap(path, dtype=">f4", mode="w+", shape=(2, 3))
    writer[:] = values
    writer.flush()
    memmap = np.memmap(path, dtype=">f4", mode="r", shape=(2, 3))
    model = dense_ones()
    expected = model.predict(values, verbose=0)
    np.testing.assert_array_equal(expected, [[3, 3], [12, 12]])
    np.testing.assert_array_equal(model.predict(memmap, verbose=0), expected)
    np.testing.assert_array_equal(model.predict(values.astype(">f8"), verbose=0), expected)
    model.compile(optimizer="sgd", loss="mse")
    targets = np.zeros((2, 2), dtype=">f4")
    assert model.evaluate(memmap, targets, verbose=0) == pytest.approx(76.5)
    model.set_weights([np.ones((3, 2), dtype=">f4"), np.zeros(2, dtype=">f4")])
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((3, 2)))
    np.testing.assert_array_equal(fg.tensor(values.astype(">f4")).numpy(), values)


def test_float16_arrays_and_memory_maps_are_converted(tmp_path):
    values = np.arange(6, dtype="float16").reshape(2, 3)
    path = tmp_path / "half.dat"
    writer = np.memmap(path, dtype="float16", mode="w+", shape=(2, 3))
    writer[:] = values
    writer.flush()
    model = dense_ones()
    expected = [[3, 3], [12, 12]]
    np.testing.assert_array_equal(model.predict(values, verbose=0), expected)
    memmap = np.memmap(path, dtype="float16", mode="r", shape=(2, 3))
    np.testing.assert_array_equal(model.predict(memmap, verbose=0), expected)


def test_a_misaligned_array_is_copied_not_refused():
    buffer = np.zeros(4 * 6 + 1, dtype=np.uint8)
    misaligned = np.frombuffer(buffer.data, dtype=np.float32, count=6, offset=1).reshape(2, 3)
    assert not misaligned.flags.aligned
    np.testing.assert_array_equal(dense_ones().predict(misaligned, verbose=0), np.zeros((2, 2)))


def test_evaluate_refuses_nan_as_fit_does():
    model = dense_ones()
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 3), dtype="float32")
    x[1, 2] = np.nan
    y = np.zeros((4, 2), dtype="float32")
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0)):
        with pytest.raises(ValueError, match=r"x contains a non-finite value .* index \(1, 2\)"):
            call()
    with pytest.raises(ValueError, match="validation x contains a non-finite value"):
        model.fit(np.ones((4, 3)), y, validation_data=(x, y), verbose=0)


# --- every argument checked before the first step ---------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial_epoch": -1}, "initial_epoch must be a non-negative integer"),
        ({"steps_per_epoch": -1}, "steps_per_epoch must be a positive integer"),
        ({"validation_steps": 0}, "validation_steps must be a positive integer"),
        ({"validation_batch_size": 0}, "validation_batch_size must be a positive integer"),
        ({"batch_size": 2**64}, "batch_size must be at most"),
        ({"epochs": -2}, "epochs must be a non-negative integer"),
    ],
)
def test_fit_checks_every_argument_before_training(kwargs, message):
    model = dense_ones()
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    x, y = np.ones((8, 3), dtype="float32"), np.zeros((8, 2), dtype="float32")
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, validation_data=(x, y), verbose=0, **kwargs)
    for weight, original in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(weight, original)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 0}, "steps must be a positive integer"),
        ({"steps": -1}, "steps must be a positive integer"),
        ({"batch_size": 2**64}, "batch_size must be at most"),
    ],
)
def test_evaluate_and_predict_name_bad_steps_and_batch_sizes(kwargs, message):
    model = dense_ones()
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 3), dtype="float32"), np.zeros((8, 2), dtype="float32")
    with pytest.raises(ValueError, match=message):
        model.evaluate(x, y, verbose=0, **kwargs)
    with pytest.raises(ValueError, match=message):
        model.predict(x, verbose=0, **kwargs)


# --- model files that describe more than they hold -------------------------------------------

HOSTILE_CONFIG_CASES = {
    "an embedding of 2**36 rows": ("layers", 0, "input_dim", 2**36),
    "an embedding of 2**29 rows (under the machine's memory)": ("layers", 0, "input_dim", 2**29),
    "an input of 2**39 values": ("input_shape", None, None, [None, 2**39]),
    "a dense layer of 2**28 units": ("layers", 2, "units", 2**28),
    "an AUC of 10**9 thresholds": ("auc", None, None, 10**9),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CONFIG_CASES))
def test_a_small_model_file_describing_huge_weights_is_refused_without_allocating(case, tmp_path):
    where, index, key, value = HOSTILE_CONFIG_CASES[case]
    code = f"""
        import json, zipfile
        model = fg.Sequential([
            layers.Embedding(10, 8, input_shape=(5,)), layers.Flatten(), layers.Dense(2)
        ])
        model.compile("adam", "mse", metrics=[fg.metrics.AUC()])
        model.save({str(tmp_path / "small.fgm")!r})
        with zipfile.ZipFile({str(tmp_path / "small.fgm")!r}) as archive:
            entries = {{name: archive.read(name) for name in archive.namelist()}}
        config = json.loads(entries["config.json"])
        where, index, key, value = {(where, index, key, value)!r}
        if where == "layers":
            config["model"]["layers"][index]["settings"][key] = value
        elif where == "input_shape":
            config["model"]["input_shape"] = value
        else:
            config["compile"]["metrics"][0]["config"]["num_thresholds"] = value
        entries["config.json"] = json.dumps(config).encode()
        hostile = {str(tmp_path / "hostile.fgm")!r}
        with zipfile.ZipFile(hostile, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        import os, resource
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            fg.models.load_model(hostile)
        except (ValueError, MemoryError) as error:
            print(type(error).__name__ + ":", error)
        else:
            print("loaded")
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print("grew_kib", grown)
    """
    completed = run_limited(code, address_space_gib=16)
    assert completed.returncode == 0, completed.stderr[-2000:]
    lines = completed.stdout.splitlines()
    assert lines[0].startswith(("FileFormatError:", "ValueError:")), completed.stdout
    # Refused before the sizes it names were touched: far below the gigabytes they describe.
    assert int(lines[1].split()[1]) < 200 * 1024, completed.stdout


# --- every layer on an empty batch ------------------------------------------------------------

EMPTY_BATCH_LAYERS = {
    "Reshape": (lambda: layers.Reshape((2, 2)), (0, 4)),
    "Permute": (lambda: layers.Permute((2, 1)), (0, 3, 2)),
    "RepeatVector": (lambda: layers.RepeatVector(3), (0, 4)),
    "Identity": (lambda: layers.Identity(), (0, 4)),
    "Softmax": (lambda: layers.Softmax(), (0, 4)),
    "ReLU": (lambda: layers.ReLU(max_value=6.0), (0, 4)),
    "LeakyReLU": (lambda: layers.LeakyReLU(), (0, 4)),
    "ELU": (lambda: layers.ELU(), (0, 4)),
    "PReLU": (lambda: layers.PReLU(), (0, 4)),
    "LayerNormalization": (lambda: layers.LayerNormalization(), (0, 4)),
    "Conv1D": (lambda: layers.Conv1D(2, 3), (0, 8, 3)),
    "Conv2D": (lambda: layers.Conv2D(2, 3), (0, 8, 8, 3)),
    "MaxPooling2D": (lambda: layers.MaxPooling2D(), (0, 8, 8, 3)),
    "AveragePooling1D": (lambda: layers.AveragePooling1D(), (0, 8, 3)),
    "GlobalMaxPooling2D": (lambda: layers.GlobalMaxPooling2D(), (0, 8, 8, 3)),
    "GlobalAveragePooling2D": (lambda: layers.GlobalAveragePooling2D(), (0, 8, 8, 3)),
    "UpSampling2D": (lambda: layers.UpSampling2D(), (0, 4, 4, 3)),
    "RandomFlip": (lambda: layers.RandomFlip(), (0, 4, 4, 3)),
    "RandomTranslation": (lambda: layers.RandomTranslation(0.1, 0.1), (0, 4, 4, 3)),
    "RandomRotation": (lambda: layers.RandomRotation(0.1), (0, 4, 4, 3)),
    "RandomZoom": (lambda: layers.RandomZoom(0.1), (0, 4, 4, 3)),
    "RandomCrop": (lambda: layers.RandomCrop(2, 3), (0, 4, 4, 3)),
    "RandomContrast": (lambda: layers.RandomContrast(0.1), (0, 4, 4, 3)),
    "Resizing": (lambda: layers.Resizing(2, 3), (0, 4, 4, 3)),
    "CenterCrop": (lambda: layers.CenterCrop(2, 3), (0, 4, 4, 3)),
    "Embedding": (lambda: layers.Embedding(10, 3), (0, 5)),
    "Bidirectional": (lambda: layers.Bidirectional(layers.LSTM(3)), (0, 5, 4)),
}


@pytest.mark.parametrize("name", sorted(EMPTY_BATCH_LAYERS))
def test_every_layer_maps_an_empty_batch_to_an_empty_batch(name):
    make, shape = EMPTY_BATCH_LAYERS[name]
    layer = make()
    out = layer(fg.tensor(np.zeros(shape, dtype="float32")), training=True)
    assert out.shape[0] == 0
    assert tuple(out.shape[1:]) == tuple(layer.compute_output_shape((None, *shape[1:]))[1:])


@pytest.mark.parametrize(
    "merge",
    [
        layers.Add,
        layers.Subtract,
        layers.Multiply,
        layers.Average,
        layers.Maximum,
        layers.Minimum,
        layers.Concatenate,
        lambda: layers.Dot(axes=1),
    ],
)
def test_every_merge_layer_maps_empty_batches_to_an_empty_batch(merge):
    empty_inputs = [fg.tensor(np.zeros((0, 4), dtype="float32")) for _ in range(2)]
    assert merge()(empty_inputs).shape[0] == 0


def test_a_zip_bomb_model_file_is_refused_in_a_limited_process(tmp_path):
    import zipfile

    model = fg.Sequential([layers.Dense(2, input_shape=(3,))])
    model.save(tmp_path / "good.fgm")
    with zipfile.ZipFile(tmp_path / "good.fgm") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    # 512 MiB of zeros after the real weights: well under 1 MB once deflated.
    entries["model.safetensors"] += bytes(512 << 20)
    bomb = tmp_path / "bomb.fgm"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    del entries
    assert bomb.stat().st_size < 1 << 20
    code = f"""
        import resource
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            fg.models.load_model({str(bomb)!r})
        except ValueError as error:
            print(type(error).__name__ + ":", error)
        print("grew_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """
    completed = run_limited(code, address_space_gib=4)
    assert completed.returncode == 0, completed.stderr[-2000:]
    first, grown = completed.stdout.splitlines()[:2]
    assert first.startswith("FileFormatError:") and "is compressed" in first, completed.stdout
    assert int(grown.split()[1]) < 64 * 1024, completed.stdout


@pytest.mark.parametrize("shape", [(0,), (0, 3), (4, 0)])
def test_the_remaining_tensor_ops_on_empty_tensors(shape):
    x = fg.tensor(empty(*shape), requires_grad=True)
    values = empty(*shape)
    np.testing.assert_array_equal(x.T.numpy(), values.T)
    np.testing.assert_array_equal(x.astype("float64").numpy(), values)
    np.testing.assert_array_equal(fg.where(x > 0, x, x * 2).numpy(), values)
    np.testing.assert_array_equal((x**x).numpy(), values**values)
    np.testing.assert_array_equal((x < 1).numpy(), values < 1)
    np.testing.assert_array_equal(x[0:0].numpy(), values[0:0])
    np.testing.assert_array_equal(x[..., :1].numpy(), values[..., :1])
    if shape[0]:  # numpy has no maximum of zero values: reduce only a non-empty axis
        np.testing.assert_array_equal(x.max(axis=0).numpy(), values.max(axis=0))
    total = (x.exp() * x.sigmoid() + x.tanh()).sum()
    total.backward()
    assert x.grad.shape == shape
