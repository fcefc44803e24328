"""What steers a ``fit`` run, as Keras 3 does it: ``validation_data`` with sample weights,
``validation_freq``, ``model.stop_training``, ``ProgbarLogger`` and ``BackupAndRestore``."""

import os

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers


@pytest.fixture
def data(rng):
    x = rng.standard_normal((64, 6)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("float32")
    return x, y


def model_with_dropout():
    model = fg.Sequential(
        [
            layers.Dense(16, activation="relu", input_shape=(6,)),
            layers.Dropout(0.3),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


class Recorder(fg.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epoch_logs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_logs.append(dict(logs))


def test_validation_data_with_sample_weights(data, rng):
    x, y = data
    w = rng.uniform(0.0, 2.0, 16)
    model = model_with_dropout()
    history = model.fit(x[:48], y[:48], validation_data=(x[48:], y[48:], w), verbose=0)
    weighted = model.evaluate(x[48:], y[48:], sample_weight=w, verbose=0, return_dict=True)
    plain = model.evaluate(x[48:], y[48:], verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(weighted["loss"], rel=1e-6)
    assert abs(weighted["loss"] - plain["loss"]) > 1e-4
    assert history.history["val_accuracy"][0] == pytest.approx(plain["accuracy"])
    with pytest.raises(ValueError, match=r"validation_data must be .*of length 4"):
        model.fit(x, y, validation_data=(x, y, w, w), verbose=0)
    with pytest.raises(ValueError, match=r"validation sample_weight must hold one weight"):
        model.fit(x, y, validation_data=(x[48:], y[48:], w[:3]), verbose=0)


def test_validation_freq_validates_every_nth_epoch_only(data):
    x, y = data
    model = model_with_dropout()
    recorder = Recorder()
    history = model.fit(
        x, y, epochs=5, validation_split=0.25, validation_freq=2, verbose=0, callbacks=[recorder]
    )
    has_val = [any(k.startswith("val_") for k in logs) for logs in recorder.epoch_logs]
    assert has_val == [False, True, False, True, False]
    assert len(history.history["loss"]) == 5 and len(history.history["val_loss"]) == 2
    recorder = Recorder()
    model.fit(
        x,
        y,
        epochs=4,
        validation_split=0.25,
        validation_freq=[1, 4],
        verbose=0,
        callbacks=[recorder],
    )
    assert ["val_loss" in logs for logs in recorder.epoch_logs] == [True, False, False, True]


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", [0, 2]])
def test_bad_validation_freq_is_refused(data, bad):
    x, y = data
    with pytest.raises(ValueError, match="validation_freq"):
        model_with_dropout().fit(x, y, validation_split=0.25, validation_freq=bad, verbose=0)


def test_stop_training_set_in_a_batch_hook_stops_after_that_batch(data):
    x, y = data
    seen = []

    class StopAtBatchOne(fg.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
            if batch == 1:
                self.model.stop_training = True

    recorder = Recorder()
    model = model_with_dropout()
    history = model.fit(
        x,
        y,
        batch_size=8,
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[StopAtBatchOne(), recorder],
    )
    # As Keras: the epoch ends after that batch, with its validation and on_epoch_end.
    assert seen == [0, 1] and history.epoch == [0]
    assert "val_loss" in recorder.epoch_logs[0]
    # The next fit starts with stop_training reset.
    assert len(model.fit(x, y, epochs=2, verbose=0).history["loss"]) == 2


def test_stop_training_set_in_on_epoch_begin_runs_one_batch(data):
    x, y = data
    seen = []

    class StopAtOnce(fg.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.stop_training = True

        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    history = model_with_dropout().fit(
        x, y, batch_size=8, epochs=3, verbose=0, callbacks=[StopAtOnce()]
    )
    assert seen == [0] and history.epoch == [0]


def test_a_given_progbar_logger_is_the_only_bar(data, capsys):
    x, y = data
    model = model_with_dropout()
    model.fit(x, y, epochs=2, verbose=1, callbacks=[fg.callbacks.ProgbarLogger()])
    out = capsys.readouterr().out
    assert out.count("Epoch 1/2") == 1 and out.count("Epoch 2/2") == 1
    assert out.count("2/2 ━") == 2
    # Made without verbose, it follows fit's.
    model.fit(x, y, epochs=2, verbose=0, callbacks=[fg.callbacks.ProgbarLogger()])
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, verbose=0, callbacks=[fg.callbacks.ProgbarLogger(verbose=2)])
    assert capsys.readouterr().out.count("2/2 - ") == 2


# --- BackupAndRestore ---------------------------------------------------------------------


class Interrupt(fg.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError("interrupted")


def test_an_interrupted_run_resumes_to_the_same_bits(data, tmp_path):
    x, y = data
    backup_dir = tmp_path / "backup"

    fg.set_seed(11)
    whole = model_with_dropout()
    fg.set_seed(12)
    whole.fit(
        x,
        y,
        epochs=4,
        batch_size=8,
        verbose=0,
        callbacks=[fg.callbacks.BackupAndRestore(tmp_path / "other")],
    )
    assert not (tmp_path / "other").exists()

    fg.set_seed(11)
    resumed = model_with_dropout()
    fg.set_seed(12)
    backup = fg.callbacks.BackupAndRestore(backup_dir)
    with pytest.raises(RuntimeError, match="interrupted"):
        resumed.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[backup, Interrupt(2)])
    assert os.listdir(backup_dir) == ["latest.backup.safetensors"]
    # A new process would start from other generator states: the backup brings the run's back.
    fg.set_seed(999)
    history = resumed.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[backup])
    assert history.epoch == [2, 3]
    for a, b in zip(whole.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert resumed.optimizer.iterations == whole.optimizer.iterations == 32
    # Training ended without an error: the backup is deleted.
    assert not backup_dir.exists()


def test_without_the_backup_the_interrupted_run_differs(data, tmp_path):
    x, y = data
    fg.set_seed(11)
    whole = model_with_dropout()
    fg.set_seed(12)
    whole.fit(
        x,
        y,
        epochs=4,
        batch_size=8,
        verbose=0,
        callbacks=[fg.callbacks.BackupAndRestore(tmp_path / "a")],
    )
    fg.set_seed(11)
    restarted = model_with_dropout()
    fg.set_seed(12)
    backup = fg.callbacks.BackupAndRestore(tmp_path / "b")
    with pytest.raises(RuntimeError):
        restarted.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[backup, Interrupt(2)])
    os.remove(tmp_path / "b" / "latest.backup.safetensors")
    restarted.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[backup])
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(whole.get_weights(), restarted.get_weights(), strict=True)
    )


def test_delete_checkpoint_false_keeps_the_backup_and_a_finished_run_resumes_to_nothing(
    data, tmp_path
):
    x, y = data
    model = model_with_dropout()
    backup = fg.callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[backup])
    assert (tmp_path / "latest.backup.safetensors").exists()
    weights = model.get_weights()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[backup])
    assert history.epoch == []
    for a, b in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_backup_arguments_and_a_corrupt_backup_are_refused(data, tmp_path):
    x, y = data
    with pytest.raises(ValueError, match="backup_dir"):
        fg.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq=5 .*not supported"):
        fg.callbacks.BackupAndRestore(tmp_path, save_freq=5)
    (tmp_path / "latest.backup.safetensors").write_bytes(b"not a backup at all")
    with pytest.raises(fg.errors.FileFormatError, match="BackupAndRestore backup"):
        model_with_dropout().fit(
            x, y, verbose=0, callbacks=[fg.callbacks.BackupAndRestore(tmp_path)]
        )
