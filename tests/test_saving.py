"""Saving and loading: round trips, continued training, atomic writes (even under SIGKILL),
clear OSErrors, and hostile or damaged files that are refused without touching the model."""

import io
import json
import os
import random
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers
from ferrograd.errors import FileFormatError


@pytest.fixture
def data(rng):
    x = rng.standard_normal((256, 10)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("float32")
    return x, y


def compiled_model():
    model = fg.Sequential(
        [
            layers.Dense(
                16,
                activation="relu",
                input_shape=(10,),
                kernel_regularizer=fg.regularizers.l2(1e-3),
            ),
            layers.BatchNormalization(),
            layers.Dropout(0.1),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=fg.optimizers.Adam(fg.optimizers.schedules.ExponentialDecay(1e-2, 10, 0.9)),
        loss="binary_crossentropy",
        metrics=["accuracy", fg.metrics.AUC()],
    )
    return model


def functional_model():
    inputs = layers.Input(shape=(10,))
    hidden = layers.Dense(8, activation="tanh")(inputs)
    outputs = layers.Dense(3, activation="softmax")(layers.Dropout(0.2)(hidden))
    return fg.Model(inputs=inputs, outputs=outputs)


def assert_same_weights(a, b):
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_a_saved_model_predicts_identically_and_keeps_its_compile_settings(tmp_path, data):
    x, y = data
    model = compiled_model()
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "model.fgm")
    loaded = fg.models.load_model(tmp_path / "model.fgm")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert type(loaded.optimizer) is fg.optimizers.Adam
    assert loaded.optimizer.iterations == model.optimizer.iterations == 16
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
    uncompiled = fg.models.load_model(tmp_path / "model.fgm", compile=False)
    assert not uncompiled.compiled


def test_training_continues_where_it_stopped(tmp_path, data):
    x, y = data
    fg.set_seed(5)
    straight = compiled_model()
    straight.fit(x, y, epochs=2, verbose=0)
    straight.save(tmp_path / "checkpoint.fgm")
    fg.set_seed(9)
    straight.fit(x, y, epochs=1, verbose=0)
    resumed = fg.models.load_model(tmp_path / "checkpoint.fgm")
    fg.set_seed(9)
    resumed.fit(x, y, epochs=1, verbose=0)
    assert_same_weights(straight.get_weights(), resumed.get_weights())
    without_state = tmp_path / "weights-only-optimizer.fgm"
    straight.save(without_state, include_optimizer=False)
    assert fg.models.load_model(without_state).optimizer.iterations == 0


def test_functional_models_round_trip(tmp_path, data):
    x, _ = data
    model = functional_model()
    model.save(tmp_path / "f.fgm")
    loaded = fg.models.load_model(tmp_path / "f.fgm")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert [type(layer).__name__ for layer in loaded.layers] == [
        "InputLayer",
        "Dense",
        "Dropout",
        "Dense",
    ]


def read_safetensors_header(path):
    with open(path, "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        return json.loads(file.read(length))


def test_weights_files_are_plain_safetensors_with_stable_names(tmp_path, data):
    fg.clear_session()
    model = compiled_model()
    model.save_weights(tmp_path / "w.safetensors")
    header = read_safetensors_header(tmp_path / "w.safetensors")
    header.pop("__metadata__")
    assert header["dense/kernel"]["shape"] == [10, 16] and header["dense/kernel"]["dtype"] == "F32"
    assert set(header) == {
        "dense/kernel",
        "dense/bias",
        "batch_normalization/gamma",
        "batch_normalization/beta",
        "batch_normalization/moving_mean",
        "batch_normalization/moving_variance",
        "dense_1/kernel",
        "dense_1/bias",
    }
    fg.clear_session()
    other = compiled_model()
    other.load_weights(tmp_path / "w.safetensors")
    assert_same_weights(model.get_weights(), other.get_weights())


def test_mismatched_weights_are_listed_and_change_nothing(tmp_path):
    fg.clear_session()
    small = fg.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    small.save_weights(tmp_path / "small.safetensors")
    fg.clear_session()
    other = fg.Sequential([layers.Dense(5, input_shape=(3,)), layers.Dense(2), layers.Dense(1)])
    before = other.get_weights()
    with pytest.raises(FileFormatError) as error:
        other.load_weights(tmp_path / "small.safetensors")
    message = str(error.value)
    assert "the model has 6 weights (layers dense, dense_1, dense_2), the file 4" in message
    assert (
        "layer 'dense' weight 'kernel' has shape (3, 5), the file's 'dense/kernel' has shape (3, 4)"
        in message
    )
    assert_same_weights(before, other.get_weights())


def test_saving_reports_bad_destinations_as_oserrors(tmp_path, monkeypatch):
    model = functional_model()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.save(tmp_path / "missing" / "m.fgm")
    with pytest.raises(IsADirectoryError, match="folder"):
        model.save(tmp_path)
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match="not writable"):
        model.save_weights(tmp_path / "w.safetensors")


def test_a_read_only_folder_is_a_permission_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    # Root ignores permission bits; an immutable folder refuses even root.
    lock, unlock = (
        (["chattr", "+i", str(folder)], ["chattr", "-i", str(folder)])
        if os.geteuid() == 0
        else (["chmod", "500", str(folder)], ["chmod", "700", str(folder)])
    )
    subprocess.run(lock, check=True)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            functional_model().save(folder / "m.fgm")
    finally:
        subprocess.run(unlock, check=True)


def test_the_next_save_removes_what_a_killed_save_left(tmp_path):
    target = tmp_path / "m.fgm"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".m.fgm.tmp-{dead.pid}-abc.part"
    stale.write_bytes(b"partial")
    live = tmp_path / f".m.fgm.tmp-{os.getppid()}-abc.part"
    live.write_bytes(b"someone else's save in progress")
    functional_model().save(target)
    assert not stale.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, live.name])


SAVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import ferrograd as fg
    from ferrograd import layers

    path, weights_path = sys.argv[1], sys.argv[2]
    model = fg.Sequential([layers.Dense(512, input_shape=(512,)), layers.Dense(256)])
    model.compile(optimizer="adam", loss="mse")
    step = 0
    print("ready", flush=True)
    while True:
        step += 1
        model.set_weights([np.full(w.shape, step, dtype="float32") for w in model.get_weights()])
        model.save(path)
        model.save_weights(weights_path)
    """
)


def test_a_kill_during_save_always_leaves_a_loadable_file(tmp_path):
    path, weights_path = tmp_path / "m.fgm", tmp_path / "m.safetensors"
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    seen_steps = set()
    chooser = random.Random(1234)
    for _ in range(50):
        process = subprocess.Popen(
            [sys.executable, str(script), str(path), str(weights_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout.readline().strip() == "ready"
        time.sleep(chooser.uniform(0.0, 0.05))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if path.exists():
            model = fg.models.load_model(path)
            values = {float(np.unique(w)[0]) for w in model.get_weights()}
            assert len(values) == 1, "a saved file mixes weights of two saves"
            seen_steps |= values
        if weights_path.exists():
            header = read_safetensors_header(weights_path)
            assert set(header) - {"__metadata__"} == {
                "dense/kernel",
                "dense/bias",
                "dense_1/kernel",
                "dense_1/bias",
            }
    assert seen_steps, "no save completed before the kills"
    survivor = fg.Sequential([layers.Dense(1, input_shape=(2,))])
    survivor.save(path)
    survivor.save_weights(weights_path)
    assert {p.name for p in tmp_path.iterdir()} == {"m.fgm", "m.safetensors", "saver.py"}


def archive(entries, compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, data in entries.items():
            # A fixed timestamp keeps the bytes, and so the damage below, the same on every run.
            entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            entry.compress_type = compression
            zf.writestr(entry, data)
    return buffer.getvalue()


@pytest.fixture
def saved_entries(tmp_path):
    path = tmp_path / "good.fgm"
    functional_model().save(path)
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def edit_config(entries, change):
    config = json.loads(entries["config.json"])
    change(config)
    return {**entries, "config.json": json.dumps(config).encode()}


HOSTILE = {
    "an unknown layer kind": lambda e: edit_config(
        e, lambda c: c["model"]["layers"][0].update(kind="os.system")
    ),
    "an unknown setting": lambda e: edit_config(
        e, lambda c: c["model"]["layers"][0]["settings"].update(exec="rm -rf /")
    ),
    "a future format": lambda e: edit_config(e, lambda c: c.update(format_version=99)),
    "a node reading a later node": lambda e: edit_config(
        e, lambda c: c["model"]["nodes"][1].update(inputs=[5])
    ),
    "an extra entry": lambda e: {**e, "payload.pkl": b"\x80\x04"},
    "a missing entry": lambda e: {k: v for k, v in e.items() if k != "metadata.json"},
    "config that is not JSON": lambda e: {**e, "config.json": b"{not json"},
    "a zip bomb": lambda e: {**e, "config.json": b" " * (17 << 20)},
    "weights of another shape": lambda e: {
        **e,
        "model.safetensors": e["model.safetensors"][:8]
        + e["model.safetensors"][8:].replace(b"[10,8]", b"[8,10]", 1),
    },
}


def test_a_compressed_zip_bomb_is_refused_before_it_inflates(tmp_path, saved_entries):
    # 256 MiB of zeros after the real weights: about 256 KB once deflated.
    bomb = {**saved_entries, "model.safetensors": saved_entries["model.safetensors"]}
    bomb["model.safetensors"] += bytes(256 << 20)
    path = tmp_path / "bomb.fgm"
    path.write_bytes(archive(bomb, compression=zipfile.ZIP_DEFLATED))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(FileFormatError, match="is compressed"):
        fg.models.load_model(path)


def test_a_stored_weights_entry_larger_than_its_tensors_need_is_refused(tmp_path, saved_entries):
    padded = {**saved_entries}
    padded["model.safetensors"] += bytes(4096)
    path = tmp_path / "padded.fgm"
    path.write_bytes(archive(padded))
    with pytest.raises(FileFormatError, match="declares .* bytes but its header describes"):
        fg.models.load_model(path)


@pytest.mark.parametrize("damage", sorted(HOSTILE))
def test_hostile_files_are_refused(tmp_path, saved_entries, damage):
    path = tmp_path / "hostile.fgm"
    path.write_bytes(archive(HOSTILE[damage](saved_entries)))
    with pytest.raises(FileFormatError):
        fg.models.load_model(path)


def test_truncated_and_corrupted_files_are_refused(tmp_path, saved_entries):
    good = archive(saved_entries)
    path = tmp_path / "bad.fgm"
    chooser = random.Random(7)
    for cut in [0, 10, len(good) // 2, len(good) - 1]:
        path.write_bytes(good[:cut])
        with pytest.raises(FileFormatError):
            fg.models.load_model(path)
    for _ in range(300):
        damaged = bytearray(good)
        for _ in range(4):
            damaged[chooser.randrange(len(damaged))] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            fg.models.load_model(path)
        except FileFormatError:
            pass


def safetensors_bytes(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"\x00" * 4, "too short"),
        (struct.pack("<Q", 2**62) + b"{}", "header claims"),
        (
            safetensors_bytes(
                {"a": {"dtype": "I32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4
            ),
            "I32",
        ),
        (
            safetensors_bytes(
                {"a": {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 4]}}, b"\0" * 4
            ),
            "",
        ),
        (
            safetensors_bytes(
                {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4
            ),
            "",
        ),
        (
            safetensors_bytes(
                {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8
            ),
            "",
        ),
        (
            safetensors_bytes(
                {"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8
            ),
            "",
        ),
        (
            b'(\x00\x00\x00\x00\x00\x00\x00{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":1}'
            + b"\0" * 4,
            "",
        ),
    ],
)
def test_hostile_weights_files_are_refused_before_anything_changes(tmp_path, blob, message):
    model = fg.Sequential([layers.Dense(1, input_shape=(1,))])
    before = model.get_weights()
    path = tmp_path / "w.safetensors"
    path.write_bytes(blob)
    with pytest.raises(FileFormatError, match=message or None):
        model.load_weights(path)
    assert_same_weights(before, model.get_weights())


def test_model_checkpoint_saves_the_best_epochs(tmp_path, data):
    x, y = data
    model = compiled_model()
    checkpoint = fg.callbacks.ModelCheckpoint(
        str(tmp_path / "best.fgm"), monitor="val_loss", save_best_only=True
    )
    every = fg.callbacks.ModelCheckpoint(
        str(tmp_path / "w-{epoch:02d}.safetensors"), save_weights_only=True
    )
    history = model.fit(
        x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[checkpoint, every]
    )
    assert sorted(p.name for p in tmp_path.glob("w-*")) == [
        "w-01.safetensors",
        "w-02.safetensors",
        "w-03.safetensors",
    ]
    best = fg.models.load_model(tmp_path / "best.fgm")
    assert best.evaluate(x[192:], y[192:], verbose=0)[0] == pytest.approx(
        min(history.history["val_loss"]), rel=1e-5
    )


def test_the_loader_never_unpickles_imports_or_evaluates():
    import ast
    from pathlib import Path

    import ferrograd.saving as saving

    files = sorted(Path(saving.__file__).parent.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "archive.py", "config.py", "model_file.py"}
    for file in files:
        tree = ast.parse(file.read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        } | {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not imported & {"pickle", "importlib", "marshal", "shelve", "dill", "cloudpickle"}
        called = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert not called & {"eval", "exec", "__import__", "compile", "getattr"}, file.name


def test_float64_weights_load_into_a_float32_model_only_when_they_fit(tmp_path):
    source = fg.Sequential([layers.Dense(2, input_shape=(3,), dtype="float64", name="d")])
    path = tmp_path / "wide.safetensors"
    kernel = np.array([[1.5, -2.0], [0.25, 3.0], [1e30, -1e-30]])
    source.set_weights([kernel, np.zeros(2)])
    source.save_weights(path)
    target = fg.Sequential([layers.Dense(2, input_shape=(3,), name="d")])
    target.load_weights(path)
    np.testing.assert_array_equal(target.get_weights()[0], kernel.astype("float32"))

    kernel[2, 0] = 1e300
    source.set_weights([kernel, np.zeros(2)])
    source.save_weights(path)
    before = target.get_weights()
    with pytest.raises(FileFormatError, match=r"'d' weight 'kernel': the float64 value 1e\+300"):
        target.load_weights(path)
    for weight, original in zip(target.get_weights(), before, strict=True):
        np.testing.assert_array_equal(weight, original)


@pytest.mark.parametrize("entry", ["optimizer", "loss"])
def test_unknown_keys_in_the_compile_settings_are_refused(tmp_path, entry):
    model = fg.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile("adam", "mse")
    model.save(tmp_path / "m.fgm")
    with zipfile.ZipFile(tmp_path / "m.fgm") as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(entries["config.json"])
    config["compile"][entry]["surprise"] = 1
    entries["config.json"] = json.dumps(config).encode()
    (tmp_path / "edited.fgm").write_bytes(archive(entries))
    with pytest.raises(
        FileFormatError, match=rf"compile.{entry} has unknown settings \['surprise'\]"
    ):
        fg.models.load_model(tmp_path / "edited.fgm")
