"""The program tests/test_distributed.py launches, alone or under ``mpiexec -n N``.

``python distributed_worker.py MODE OUT [OPTIONS...]``: trains a small model in the way MODE
says and, on process 0, saves what the test compares to ``OUT`` (an ``.npz``): the weights, the
history, the first batch's loss, the predictions.
"""

from __future__ import annotations

import os
import signal
import sys

import numpy as np

import ferrograd as fg

ROWS, FEATURES, CLASSES, BATCH = 70, 5, 3, 16


def data(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, FEATURES)).astype(dtype)
    y = (x @ rng.normal(size=(FEATURES, CLASSES))).argmax(1).astype(dtype)
    weights = rng.uniform(0.5, 2.0, size=ROWS).astype(dtype)
    return x, y, weights


def build(dtype, hidden=8):
    fg.set_seed(0)
    inputs = fg.Input((FEATURES,), dtype=dtype)
    h = fg.layers.Dense(hidden, activation="tanh", dtype=dtype)(inputs)
    outputs = fg.layers.Dense(CLASSES, activation="softmax", dtype=dtype)(h)
    model = fg.Model(inputs, outputs)
    model.compile(
        optimizer=fg.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


class BatchLogs(fg.callbacks.Callback):
    """Keeps every batch's running loss and accuracy (the global batch's under DataParallel)."""

    def __init__(self):
        super().__init__()
        self.loss, self.accuracy = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.loss.append(logs["loss"])
        self.accuracy.append(logs["accuracy"])


class Fail(fg.callbacks.Callback):
    """On process ``process``, at batch 3 of epoch 1: raise, or kill the process."""

    def __init__(self, how, process):
        super().__init__()
        self.how, self.process, self.epoch = how, process, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 3 and fg.distribution.process_index() == self.process:
            if self.how == "raise":
                raise ValueError(f"bad data in the shard of process {self.process}")
            os.kill(os.getpid(), signal.SIGKILL)


class KillOnce(fg.callbacks.Callback):
    """Kills process 0 after epoch 1's backup, once (a marker file remembers it)."""

    def __init__(self, marker):
        super().__init__()
        self.marker = marker

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1 and not os.path.exists(self.marker):
            if fg.distribution.process_index() == 0:
                open(self.marker, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)


def shard_batches(x, y, epochs, index, count):
    """The batches of ``epochs`` passes over the rows in order, each this process's share of
    the global batch of BATCH rows (all of it when ``count`` is 1)."""
    for _ in range(epochs):
        for start in range(0, ROWS, BATCH):
            rows = np.arange(start, min(start + BATCH, ROWS))
            share = np.array_split(rows, count)[index]
            yield x[share], y[share]


def save(out, model, history=None, **extra):
    if fg.distribution.process_index() != 0:
        return
    weights = np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in model.get_weights()])
    arrays = {"weights": weights, **extra}
    if history is not None:
        for key, values in history.history.items():
            arrays[f"history_{key}"] = np.asarray(values)
    np.savez(out, **arrays)


def main(mode, out, *options):
    fg.distribution.initialize()
    if "single" not in options:
        fg.distribution.set_distribution(fg.distribution.DataParallel())
    dtype = "float32" if "float32" in options else "float64"
    x, y, sample_weight = data(dtype)
    index, count = fg.distribution.process_index(), fg.distribution.process_count()
    if mode == "fit":
        model = build(dtype)
        batches = BatchLogs()
        history = model.fit(
            x,
            y,
            batch_size=BATCH,
            epochs=2,
            verbose=0,
            sample_weight=sample_weight if "weighted" in options else None,
            validation_data=(x[:20], y[:20]),
            callbacks=[batches],
        )
        save(
            out,
            model,
            history,
            first_loss=np.array(batches.loss[0]),
            batch_loss=np.array(batches.loss),
            batch_accuracy=np.array(batches.accuracy),
            predictions=model.predict(x, verbose=0),
        )
    elif mode == "generator":
        model = build(dtype)
        steps = -(-ROWS // BATCH)
        history = model.fit(
            shard_batches(x, y, 2, index, count),
            epochs=2,
            steps_per_epoch=steps,
            verbose=0,
        )
        save(out, model, history)
    elif mode == "loop":
        model = build(dtype)
        if index != 0:
            # Different starting weights on the other processes: broadcast makes them equal.
            model.set_weights([w * 0 + 1 for w in model.get_weights()])
        fg.distribution.broadcast(model.weights, root=0)
        optimizer = fg.optimizers.SGD(0.1)
        loss_fn = fg.losses.SparseCategoricalCrossentropy()
        for xb, yb in shard_batches(x, y, 2, index, count):
            # Equal shares (16 rows on 2 processes, then 6): the mean of the means is the mean.
            loss = loss_fn(yb, model(xb))
            model.zero_grad()
            loss.backward()
            weights = model.trainable_weights
            grads = fg.distribution.all_reduce([w.grad for w in weights], op="mean")
            optimizer.apply_gradients(zip(grads, weights, strict=True))
        save(out, model)
    elif mode in ("raise", "kill"):
        model = build(dtype)
        model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[Fail(mode, count - 1)])
        save(out, model)
    elif mode == "multi":
        # Two outputs with loss weights, a weight penalty, and metrics whose states are
        # confusion counts and AUC buckets.
        fg.set_seed(0)
        rng = np.random.default_rng(1)
        targets = [rng.normal(size=(ROWS, 2)), (rng.random(ROWS) > 0.5).astype(dtype)]
        inputs = fg.Input((FEATURES,), dtype=dtype)
        h = fg.layers.Dense(6, activation="relu", dtype=dtype, kernel_regularizer="l2")(inputs)
        regression = fg.layers.Dense(2, dtype=dtype, name="reg")(h)
        label = fg.layers.Dense(1, activation="sigmoid", dtype=dtype, name="cls")(h)
        model = fg.Model(inputs, [regression, label])
        model.compile(
            optimizer="adam",
            loss=["mse", "binary_crossentropy"],
            loss_weights=[1.0, 0.5],
            metrics=[["mae"], ["accuracy", fg.metrics.Precision(), fg.metrics.AUC()]],
        )
        history = model.fit(x, targets, batch_size=12, epochs=2, verbose=0)
        save(out, model, history)
    elif mode == "wide":
        # A first kernel of 300 x 256 values, more than one bucket holds: its gradient is
        # summed in a bucket of its own, the last layers' bucket while backward still runs.
        rng = np.random.default_rng(2)
        wide_x = rng.normal(size=(ROWS, 300)).astype(dtype)
        fg.set_seed(0)
        model = fg.Sequential(
            [
                fg.Input((300,), dtype=dtype),
                fg.layers.Dense(256, activation="tanh", dtype=dtype),
                fg.layers.Dense(CLASSES, activation="softmax", dtype=dtype),
            ]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        history = model.fit(wide_x, y, batch_size=BATCH, epochs=2, verbose=0)
        collective = getattr(model, "_collective", None)
        starts = 0 if collective is None else collective.start_calls / collective.sum_calls
        save(out, model, history, starts_per_step=np.array(starts))
    elif mode == "threads":
        if index == 0:
            np.savez(out, threads=np.array(fg.get_num_threads()))
    elif mode == "mismatch":
        model = build(dtype, hidden=8 + index)
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    elif mode == "resume":
        backup, marker = options[0], options[1]
        model = build(dtype)
        callbacks = [fg.callbacks.BackupAndRestore(backup)]
        if marker != "-":
            callbacks.append(KillOnce(marker))
        model.fit(x, y, batch_size=BATCH, epochs=4, verbose=0, callbacks=callbacks)
        save(out, model)
    else:
        raise ValueError(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
