"""Callbacks and the progress output, with the Keras hook names and behaviour."""

import io
import re

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers
from ferrograd._progbar import Progbar


@pytest.fixture
def data(rng):
    x = rng.standard_normal((256, 8)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    return x, y


def small_model(optimizer="adam"):
    model = fg.Sequential(
        [
            layers.Dense(16, activation="relu", input_shape=(8,)),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


class ScriptedValLoss(fg.callbacks.Callback):
    """Replaces val_loss in the logs by a scripted sequence (placed before the callback under
    test, which sees the same logs)."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


class WeightsPerEpoch(fg.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def test_early_stopping_waits_patience_epochs_and_restores_the_best_weights(data):
    x, y = data
    record = WeightsPerEpoch()
    stop = fg.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    model = small_model()
    history = model.fit(
        x,
        y,
        epochs=10,
        validation_split=0.25,
        verbose=0,
        callbacks=[ScriptedValLoss([1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1, 1, 1]), record, stop],
    )
    assert history.epoch == [0, 1, 2, 3]
    assert stop.stopped_epoch == 3 and stop.best_epoch == 1
    for restored, best in zip(model.get_weights(), record.weights[1], strict=True):
        np.testing.assert_array_equal(restored, best)


def test_early_stopping_modes_and_min_delta(data):
    x, y = data
    stop = fg.callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    assert stop.mode == "max"
    stop = fg.callbacks.EarlyStopping(monitor="val_loss", min_delta=0.2, patience=1)
    model = small_model()
    history = model.fit(
        x,
        y,
        epochs=10,
        validation_split=0.25,
        verbose=0,
        callbacks=[ScriptedValLoss([1.0, 0.9, 0.85, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0, 0.0]), stop],
    )
    assert history.epoch == [0, 1]


def test_learning_rate_scheduler_sets_the_rate_each_epoch(data):
    x, y = data
    model = small_model(fg.optimizers.SGD(learning_rate=0.1))
    scheduler = fg.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[scheduler])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.025)


def test_reduce_lr_on_plateau(data):
    x, y = data
    model = small_model(fg.optimizers.Adam(learning_rate=0.01))
    reduce = fg.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.5, patience=2, min_lr=0.003
    )
    history = model.fit(
        x,
        y,
        epochs=7,
        validation_split=0.25,
        verbose=0,
        callbacks=[ScriptedValLoss([1.0] * 7), reduce],
    )
    assert history.history["learning_rate"] == pytest.approx(
        [0.01, 0.01, 0.01, 0.005, 0.005, 0.003, 0.003]
    )


def test_terminate_on_nan_stops_at_the_first_invalid_loss(data):
    x, y = data
    model = small_model(fg.optimizers.SGD(learning_rate=1e15))
    history = model.fit(x, y * 1e30, epochs=5, verbose=0, callbacks=[fg.callbacks.TerminateOnNaN()])
    stopped = history.stopped_on_nonfinite
    assert stopped is not None and not np.isfinite(stopped["loss"])
    # Training ended inside the first epoch, at the batch whose loss went bad.
    assert history.epoch == [] and stopped["epoch"] == 0


def test_lambda_and_subclassed_callbacks_see_every_hook(data):
    x, y = data
    calls = {"epoch_begin": 0, "epoch_end": 0, "train_begin": 0, "train_end": 0}
    lambdas = fg.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: calls.__setitem__(
            "epoch_begin", calls["epoch_begin"] + 1
        ),
        on_epoch_end=lambda epoch, logs: calls.__setitem__("epoch_end", calls["epoch_end"] + 1),
        on_train_begin=lambda logs: calls.__setitem__("train_begin", calls["train_begin"] + 1),
        on_train_end=lambda logs: calls.__setitem__("train_end", calls["train_end"] + 1),
    )

    class Batches(fg.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.begun, self.ended, self.losses = [], [], []

        def on_train_batch_begin(self, batch, logs=None):
            self.begun.append(batch)

        def on_train_batch_end(self, batch, logs=None):
            self.ended.append(batch)
            self.losses.append(logs["loss"])

    batches = Batches()
    small_model().fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[lambdas, batches])
    assert calls == {"epoch_begin": 3, "epoch_end": 3, "train_begin": 1, "train_end": 1}
    assert batches.begun == batches.ended == [0, 1, 2, 3] * 3
    assert all(np.isfinite(batches.losses))


def test_a_callback_can_stop_training(data):
    x, y = data

    class StopAfterTwo(fg.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    history = small_model().fit(x, y, epochs=10, verbose=0, callbacks=[StopAfterTwo()])
    assert history.epoch == [0, 1]


def test_non_callbacks_are_refused(data):
    x, y = data
    with pytest.raises(TypeError, match="Callback"):
        small_model().fit(x, y, epochs=1, verbose=0, callbacks=[lambda: None])


LINE = re.compile(
    r"^\s*4/4 [━─]{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}"
    r" - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$"
)


def test_progress_output_reads_like_keras(data, capsys):
    x, y = data
    model = small_model()
    model.fit(x[:128], y[:128], epochs=2, batch_size=32, validation_data=(x, y), verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert LINE.match(lines[1]) and LINE.match(lines[3]), lines
    model.fit(x, y, epochs=2, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[1].startswith("8/8 - ")
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.evaluate(x, y)
    assert re.match(
        r"^8/8 [━─]{20} .* - accuracy: \d\.\d{4} - loss: \d\.\d{4}$", capsys.readouterr().out
    )


def test_the_bar_redraws_in_place_in_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = Progbar(10, stream=stream)
    bar.update(3, {"loss": 0.5})
    bar.update(10, {"loss": 0.25}, finalize=True)
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert " 3/10 ━━━━━━──────────────" in text and "10/10 ━━━━━━━━━━━━━━━━━━━━" in text
    assert "- loss: 0.2500" in text


# --- Keras 2's batch hook names ---------------------------------------------------------------


class OldNames(fg.callbacks.Callback):
    """Written with the names Keras 3 still calls from its training-batch hooks."""

    def __init__(self):
        super().__init__()
        self.begun, self.ended = [], []

    def on_batch_begin(self, batch, logs=None):
        self.begun.append(batch)

    def on_batch_end(self, batch, logs=None):
        self.ended.append((batch, dict(logs)))


def test_on_batch_begin_and_end_are_called_for_every_training_batch(data):
    x, y = data
    callback = OldNames()
    small_model().fit(x, y, batch_size=64, epochs=2, verbose=0, callbacks=[callback])
    assert callback.begun == [0, 1, 2, 3] * 2
    assert [batch for batch, _ in callback.ended] == [0, 1, 2, 3] * 2
    assert all("loss" in logs for _, logs in callback.ended)


def test_on_batch_hooks_are_not_called_by_evaluate_or_predict(data):
    x, y = data
    model = small_model()
    callback = OldNames()
    model.evaluate(x, y, batch_size=64, verbose=0, callbacks=[callback])
    model.predict(x, batch_size=64, verbose=0, callbacks=[callback])
    assert callback.begun == [] and callback.ended == []


def test_lambda_callback_takes_the_old_batch_names(data):
    x, y = data
    seen = []
    callback = fg.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch))
    small_model().fit(x, y, batch_size=128, epochs=1, verbose=0, callbacks=[callback])
    assert seen == [0, 1]


# --- CSVLogger --------------------------------------------------------------------------------


def test_csv_logger_writes_a_header_and_one_row_per_epoch(data, tmp_path):
    import csv

    x, y = data
    path = tmp_path / "log.csv"
    history = small_model().fit(
        x,
        y,
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[fg.callbacks.CSVLogger(path)],
    )
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    for key in ("loss", "val_accuracy"):
        np.testing.assert_allclose([float(row[key]) for row in rows], history.history[key])


def test_csv_logger_appends_without_a_second_header(data, tmp_path):
    x, y = data
    path = tmp_path / "log.csv"
    model = small_model()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[fg.callbacks.CSVLogger(path)])
    model.fit(
        x,
        y,
        epochs=4,
        initial_epoch=2,
        verbose=0,
        callbacks=[fg.callbacks.CSVLogger(path, separator=";", append=True)],
    )
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,accuracy,loss"
    assert len(lines) == 5
    assert lines[3].startswith("2;") and lines[4].startswith("3;")
    with pytest.raises(ValueError, match="separator"):
        fg.callbacks.CSVLogger(path, separator="::")


def test_model_checkpoint_saves_every_save_freq_batches_across_epochs(data, tmp_path):
    x, y = data  # 256 samples: 8 batches of 32 per epoch
    model = small_model()
    checkpoint = fg.callbacks.ModelCheckpoint(
        str(tmp_path / "model-{epoch}-{batch}.fgm"), save_freq=5
    )
    model.fit(x, y, epochs=2, batch_size=32, callbacks=[checkpoint], verbose=0)
    # Batches 5 and 10 and 15 of 16, counted across epochs (Keras's count), named by epoch
    # and by the batch within the epoch.
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["model-1-5.fgm", "model-2-2.fgm", "model-2-7.fgm"]
    restored = fg.models.load_model(tmp_path / "model-2-7.fgm")
    assert restored.count_params() == model.count_params()
    # Saving by epochs does not call into Python after each batch.
    assert not fg.callbacks.ModelCheckpoint("m.fgm")._overrides("on_train_batch_end")
    for bad in (0, -3, 2.5, True, "batch"):
        with pytest.raises(ValueError, match="save_freq"):
            fg.callbacks.ModelCheckpoint("m.fgm", save_freq=bad)


def test_model_checkpoint_by_batches_formats_the_batch_logs(data, tmp_path):
    x, y = data
    model = small_model()
    checkpoint = fg.callbacks.ModelCheckpoint(
        str(tmp_path / "model-loss={loss:.2f}.fgm"), save_freq=8
    )
    model.fit(x, y, epochs=1, batch_size=32, callbacks=[checkpoint], verbose=0)
    (saved,) = list(tmp_path.iterdir())
    assert re.fullmatch(r"model-loss=\d+\.\d\d\.fgm", saved.name)
