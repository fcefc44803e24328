"""Callbacks, with Keras's names and hooks.

The training loop runs in Rust; it calls back into Python at the start and end of each epoch,
and after batches only when a callback overrides a batch hook (a callback that does pays for a
trip into Python on every batch). Each hook receives a plain dict of logs.

Examples:
    >>> stop = fg.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    >>> history = model.fit(x, y, validation_split=0.25, epochs=100, callbacks=[stop], verbose=0)
    >>> len(history.history["loss"]) <= 100
    True
"""

from __future__ import annotations

import csv
import math
import os
import sys
import warnings

import numpy as np

from ferrograd._progbar import Progbar
from ferrograd.distribution._world import is_writer

_BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)

# The Keras 2 names that Keras 3's training-batch hooks still call.
_OLD_NAMES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


class Callback:
    """Base class of the callbacks: subclass it and override the hooks you need.

    ``fit`` calls ``on_train_begin``, then for each epoch ``on_epoch_begin``, the batch hooks
    and ``on_epoch_end``, then ``on_train_end``; ``evaluate`` and ``predict`` call their
    ``on_test_*`` and ``on_predict_*`` hooks. Batch hooks are called only when a callback
    overrides them, since each call is a trip from the Rust loop into Python.

    Attributes:
        model: the model being trained (set before ``on_train_begin``).
        params: ``{"epochs": ..., "steps": ..., "verbose": ...}``.

    Examples:
        >>> class PrintLoss(fg.callbacks.Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, "loss" in logs)
        >>> history = model.fit(x, y, epochs=2, callbacks=[PrintLoss()], verbose=0)
        0 True
        1 True
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model) -> None:
        """Sets ``self.model``; ``fit``, ``evaluate`` and ``predict`` call it before the hooks.

        Args:
            model: the model the callback watches.

        Examples:
            >>> callback = fg.callbacks.Callback()
            >>> callback.set_model(model)
            >>> callback.model is model
            True
        """
        self.model = model

    def set_params(self, params: dict) -> None:
        """Sets ``self.params``, the loop's parameters, before the hooks are called.

        Args:
            params: a dict such as ``{"epochs": 10, "steps": 4, "verbose": 0}``.

        Examples:
            >>> callback = fg.callbacks.Callback()
            >>> callback.set_params({"epochs": 2, "steps": 1, "verbose": 0})
            >>> callback.params["epochs"]
            2
        """
        self.params = params

    def on_train_begin(self, logs=None):
        """Called once at the start of ``fit``.

        Override it in a subclass; the base class does nothing.

        Args:
            logs: ``None`` (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_train_begin(self, logs=None):
            ...         print("training starts")
            >>> history = model.fit(x, y, epochs=1, callbacks=[Watch()], verbose=0)
            training starts
        """

    def on_train_end(self, logs=None):
        """Called once at the end of ``fit``, also when training stopped early.

        Override it in a subclass; the base class does nothing.

        Args:
            logs: ``None`` (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_train_end(self, logs=None):
            ...         print("training ends")
            >>> history = model.fit(x, y, epochs=1, callbacks=[Watch()], verbose=0)
            training ends
        """

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of every epoch of ``fit``.

        Override it in a subclass; the base class does nothing.

        Args:
            epoch: the index of the epoch, from 0.
            logs: an empty dict (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_epoch_begin(self, epoch, logs=None):
            ...         print("epoch", epoch)
            >>> history = model.fit(x, y, epochs=2, callbacks=[Watch()], verbose=0)
            epoch 0
            epoch 1
        """

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of every epoch of ``fit``, after validation.

        Override it in a subclass; the base class does nothing.

        Args:
            epoch: the index of the epoch, from 0.
            logs: the epoch's values as floats: ``loss``, the metrics and the ``val_*``
                values (default ``None``). A callback may add entries, which ``History``
                then records.

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_epoch_end(self, epoch, logs=None):
            ...         print(epoch, sorted(logs))
            >>> history = model.fit(x, y, epochs=1, callbacks=[Watch()], verbose=0)
            0 ['loss']
        """

    def on_batch_begin(self, batch, logs=None):
        """Keras 2's name for ``on_train_batch_begin``, which calls it.

        Args:
            batch: the index of the batch within the epoch, from 0.
            logs: an empty dict (default ``None``).

        Examples:
            >>> class Count(fg.callbacks.Callback):
            ...     batches = 0
            ...     def on_batch_begin(self, batch, logs=None):
            ...         Count.batches += 1
            >>> history = model.fit(x, y, batch_size=8, epochs=1, callbacks=[Count()], verbose=0)
            >>> Count.batches
            4
        """

    def on_batch_end(self, batch, logs=None):
        """Keras 2's name for ``on_train_batch_end``, which calls it.

        Args:
            batch: the index of the batch within the epoch, from 0.
            logs: the batch's values, such as ``loss`` (default ``None``).

        Examples:
            >>> class Count(fg.callbacks.Callback):
            ...     batches = 0
            ...     def on_batch_end(self, batch, logs=None):
            ...         Count.batches += 1
            >>> history = model.fit(x, y, batch_size=8, epochs=1, callbacks=[Count()], verbose=0)
            >>> Count.batches
            4
        """

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each training batch; by default calls ``on_batch_begin``.

        Overriding it (or ``on_batch_begin``) makes the Rust loop call into Python on every
        batch.

        Args:
            batch: the index of the batch within the epoch, from 0.
            logs: an empty dict (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_train_batch_begin(self, batch, logs=None):
            ...         print("batch", batch)
            >>> history = model.fit(x, y, batch_size=16, epochs=1, callbacks=[Watch()], verbose=0)
            batch 0
            batch 1
        """
        # As in Keras 3: a callback written with the old name still sees every training batch.
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch; by default calls ``on_batch_end``.

        Overriding it (or ``on_batch_end``) makes the Rust loop call into Python on every
        batch. Setting ``self.model.stop_training = True`` stops training after this batch.

        Args:
            batch: the index of the batch within the epoch, from 0.
            logs: the batch's values, such as ``loss`` (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_train_batch_end(self, batch, logs=None):
            ...         print("batch", batch, "loss" in logs)
            >>> history = model.fit(x, y, batch_size=16, epochs=1, callbacks=[Watch()], verbose=0)
            batch 0 True
            batch 1 True
        """
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None):
        """Called at the start of ``evaluate``.

        Override it in a subclass; the base class does nothing.

        Args:
            logs: an empty dict (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_test_begin(self, logs=None):
            ...         print("evaluation starts")
            >>> loss = model.evaluate(x_test, y_test, callbacks=[Watch()], verbose=0)
            evaluation starts
        """

    def on_test_end(self, logs=None):
        """Called at the end of ``evaluate``.

        Override it in a subclass; the base class does nothing.

        Args:
            logs: the final values, such as ``loss`` (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_test_end(self, logs=None):
            ...         print("loss" in logs)
            >>> loss = model.evaluate(x_test, y_test, callbacks=[Watch()], verbose=0)
            True
        """

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each batch of ``evaluate``.

        Override it in a subclass (at the cost of a call into Python per batch); the base
        class does nothing.

        Args:
            batch: the index of the batch, from 0.
            logs: an empty dict (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_test_batch_begin(self, batch, logs=None):
            ...         print("batch", batch)
            >>> loss = model.evaluate(x_test, y_test, batch_size=4, callbacks=[Watch()], verbose=0)
            batch 0
            batch 1
        """

    def on_test_batch_end(self, batch, logs=None):
        """Called after each batch of ``evaluate``.

        Override it in a subclass (at the cost of a call into Python per batch); the base
        class does nothing.

        Args:
            batch: the index of the batch, from 0.
            logs: the running values, such as ``loss`` (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_test_batch_end(self, batch, logs=None):
            ...         print("batch", batch)
            >>> loss = model.evaluate(x_test, y_test, batch_size=4, callbacks=[Watch()], verbose=0)
            batch 0
            batch 1
        """

    def on_predict_begin(self, logs=None):
        """Called at the start of ``predict``.

        Override it in a subclass; the base class does nothing.

        Args:
            logs: an empty dict (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_predict_begin(self, logs=None):
            ...         print("prediction starts")
            >>> predictions = model.predict(x_test, callbacks=[Watch()], verbose=0)
            prediction starts
        """

    def on_predict_end(self, logs=None):
        """Called at the end of ``predict``.

        Override it in a subclass; the base class does nothing.

        Args:
            logs: a dict (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_predict_end(self, logs=None):
            ...         print("prediction ends")
            >>> predictions = model.predict(x_test, callbacks=[Watch()], verbose=0)
            prediction ends
        """

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each batch of ``predict``.

        Override it in a subclass (at the cost of a call into Python per batch); the base
        class does nothing.

        Args:
            batch: the index of the batch, from 0.
            logs: an empty dict (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_predict_batch_begin(self, batch, logs=None):
            ...         print("batch", batch)
            >>> predictions = model.predict(x_test, batch_size=4, callbacks=[Watch()], verbose=0)
            batch 0
            batch 1
        """

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each batch of ``predict``.

        Override it in a subclass (at the cost of a call into Python per batch); the base
        class does nothing.

        Args:
            batch: the index of the batch, from 0.
            logs: a dict (default ``None``).

        Examples:
            >>> class Watch(fg.callbacks.Callback):
            ...     def on_predict_batch_end(self, batch, logs=None):
            ...         print("batch", batch)
            >>> predictions = model.predict(x_test, batch_size=4, callbacks=[Watch()], verbose=0)
            batch 0
            batch 1
        """

    def _overrides(self, hook: str) -> bool:
        """Whether this callback's class defines ``hook`` (or the old name it calls), so that
        the loop must call into Python for it."""
        hooks = (hook, _OLD_NAMES[hook]) if hook in _OLD_NAMES else (hook,)
        return any(getattr(type(self), name) is not getattr(Callback, name) for name in hooks)


class History(Callback):
    """Records the logs of every epoch; ``model.fit`` returns it.

    Attributes:
        history: ``{"loss": [...], "accuracy": [...], "val_loss": [...], ...}``.
        epoch: the epoch indices that ran.
        params: the fit parameters.
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)


class ProgbarLogger(Callback):
    """Shows Keras's progress bar (``verbose=1``) or one line per epoch (``verbose=2``).

    ``fit`` adds one itself when ``verbose`` is not 0; one given in ``callbacks`` takes its
    place (and, made without ``verbose``, follows ``fit``'s, as in Keras 3).

    Args:
        verbose: 1 (a bar), 2 (a line per epoch) or 0 (silent); None (the default) takes the
            ``verbose`` of the ``fit`` call.

    Examples:
        >>> bar = fg.callbacks.ProgbarLogger()
        >>> history = model.fit(x, y, epochs=1, callbacks=[bar], verbose=0)
        >>> bar.verbose
        0
    """

    def __init__(self, verbose: int | None = None):
        super().__init__()
        self._given_verbose = verbose
        self.verbose = 1 if verbose is None else verbose
        self._bar = None

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        if self._given_verbose is None:
            verbose = params.get("verbose", 1)
            self.verbose = 1 if verbose == "auto" else int(verbose)

    def on_epoch_begin(self, epoch, logs=None):
        if not self.verbose:
            self._bar = None
            return
        epochs = self.params.get("epochs", 1)
        if epochs > 1:
            sys.stdout.write(f"Epoch {epoch + 1}/{epochs}\n")
        self._bar = Progbar(self.params.get("steps"), verbose=self.verbose)

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            steps = self.params.get("steps") or self._bar.target or 0
            self._bar.update(steps, logs, finalize=True)

    # The bar updates at most every 0.05 s, on the loop's own schedule; it is not a batch hook.
    def _overrides(self, hook: str) -> bool:
        return False


def _monitor_mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', received {mode!r}")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    bigger_is_better = ("acc", "accuracy", "auc", "precision", "recall")
    return "max" if name in bigger_is_better or name.endswith("accuracy") else "min"


class EarlyStopping(Callback):
    """Stops training when a monitored value has stopped improving.

    Args:
        monitor: the log to watch (default ``"val_loss"``).
        min_delta: the smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (from the name).
        baseline: a value the monitor must beat.
        restore_best_weights: at the end, put back the weights of the best epoch.
        start_from_epoch: epochs to wait before watching.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0.0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = _monitor_mode(monitor, mode)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch

    def _improved(self, value, reference) -> bool:
        if reference is None:
            return True
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self.baseline
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"EarlyStopping: the monitored value {self.monitor!r} is not in the logs "
                f"(available: {', '.join(sorted(logs or {}))})",
                stacklevel=2,
            )
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._improved(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) after epochs, or every ``save_freq`` batches,
    atomically.

    Args:
        filepath: may hold ``{epoch}``, ``{batch}`` (when saving by batches) and log names,
            e.g. ``"model-{epoch:02d}-{val_loss:.2f}.fgm"``.
        monitor, mode, save_best_only: save only when ``monitor`` improves.
        save_weights_only: save the weights (safetensors) instead of the whole model.
        save_freq: ``"epoch"`` (default) to save at the end of each epoch, or a number of
            batches to save after every that many training batches (counted across epochs,
            as Keras does; each save is a trip into Python during training).

    Examples:
        >>> checkpoint = fg.callbacks.ModelCheckpoint("model-{epoch}.fgm", save_freq=2)
        >>> history = model.fit(x, y, epochs=1, batch_size=8, callbacks=[checkpoint], verbose=0)
        >>> import os
        >>> os.path.exists("model-1.fgm")
        True
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
    ):
        super().__init__()
        by_batches = isinstance(save_freq, int) and not isinstance(save_freq, bool)
        if save_freq != "epoch" and not (by_batches and save_freq > 0):
            raise ValueError(
                "ModelCheckpoint: save_freq must be 'epoch' or a positive number of batches, "
                f"received save_freq={save_freq!r}"
            )
        self.filepath = str(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _monitor_mode(monitor, mode)
        self.save_freq = save_freq
        self.best = None
        self._epoch = 0
        self._batches_since_save = 0

    def _overrides(self, hook: str) -> bool:
        # The loop calls into Python after each batch only when saving by batches.
        if hook == "on_train_batch_end":
            return self.save_freq != "epoch"
        return super()._overrides(hook)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, _plain_logs(logs or {}), batch=batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs or {})

    def _save(self, epoch, logs, batch=None):
        if not is_writer():
            # A data-parallel job: process 0 saves (the logs, hence the decisions, are global).
            return
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(
                    f"ModelCheckpoint: {self.monitor!r} is not in the logs; nothing saved",
                    stacklevel=3,
                )
                return
            better = (
                self.best is None
                or (self.mode == "min" and value < self.best)
                or (self.mode == "max" and value > self.best)
            )
            if not better:
                return
            self.best = value
        names = {"epoch": epoch + 1, **logs}
        if batch is not None and "batch" not in logs:
            names["batch"] = batch + 1
        path = self.filepath.format(**names)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: saved to {path}")


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``).

    The rate in use is also written to the epoch's logs as ``learning_rate``.

    Args:
        schedule: a function of the epoch index (from 0) and the current learning rate, or of
            the epoch alone, returning the new rate as a finite number.
        verbose: 1 prints each change (default 0).

    Raises:
        ValueError: from ``fit``, when the schedule returns NaN or an infinity.

    Examples:
        >>> halve = fg.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
        >>> history = model.fit(x, y, epochs=2, callbacks=[halve], verbose=0)
        >>> history.history["learning_rate"]
        [0.0005..., 0.00025...]
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            lr = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:
            lr = self.schedule(epoch)
        lr = float(lr)
        if not math.isfinite(lr):
            raise ValueError(
                f"LearningRateScheduler: the schedule returned {lr!r} at epoch {epoch}"
            )
        optimizer.learning_rate = lr
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (then waits ``cooldown`` epochs), never below ``min_lr``.

    The rate in use is also written to the epoch's logs as ``learning_rate``.

    Args:
        monitor: the log to watch (default ``"val_loss"``).
        factor: the multiplier of the learning rate, in (0, 1) (default 0.1).
        patience: epochs without improvement before reducing (default 10).
        verbose: 1 prints each reduction (default 0).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (from the name: accuracy-like logs are
            maximised) (default ``"auto"``).
        min_delta: the smallest change that counts as an improvement (default 1e-4).
        cooldown: epochs to wait after a reduction before counting again (default 0).
        min_lr: the lowest learning rate (default 0.0).

    Raises:
        ValueError: when ``factor`` is not in (0, 1), or ``mode`` is unknown.

    Examples:
        >>> reduce = fg.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
        >>> history = model.fit(x, y, epochs=3, callbacks=[reduce], verbose=0)
        >>> len(history.history["learning_rate"])
        3
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
    ):
        super().__init__()
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), received {factor!r}")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = _monitor_mode(monitor, mode)
        self.min_delta = float(min_delta)
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"ReduceLROnPlateau: {self.monitor!r} is not in the logs", stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        improved = self.best is None or (
            value < self.best - self.min_delta
            if self.mode == "min"
            else value > self.best + self.min_delta
        )
        if improved:
            self.best, self.wait = value, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(optimizer.learning_rate)
                new = max(old * self.factor, self.min_lr)
                if old > new:
                    optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(
                            f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class TerminateOnNaN(Callback):
    """Stops training at the first batch whose loss is NaN or infinite, before that batch's
    update is applied (the check runs in the training loop, at no cost per batch)."""


class LambdaCallback(Callback):
    """A callback made of functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    As in Keras 3, any other hook of ``Callback`` may be given by name too
    (``on_predict_batch_end=...``); an unknown name is a ``TypeError``.

    Args:
        on_epoch_begin: ``f(epoch, logs)``, called at the start of each epoch (default None).
        on_epoch_end: ``f(epoch, logs)``, called at the end of each epoch (default None).
        on_train_begin: ``f(logs)``, called at the start of ``fit`` (default None).
        on_train_end: ``f(logs)``, called at the end of ``fit`` (default None).
        on_train_batch_begin: ``f(batch, logs)``, called before each batch (default None).
        on_train_batch_end: ``f(batch, logs)``, called after each batch (default None).
        **other_hooks: any other hook of ``Callback``, by name.

    Raises:
        TypeError: for a keyword that is not a hook of ``Callback``.

    Examples:
        >>> losses = []
        >>> record = fg.callbacks.LambdaCallback(
        ...     on_epoch_end=lambda epoch, logs: losses.append(logs["loss"])
        ... )
        >>> history = model.fit(x, y, epochs=2, callbacks=[record], verbose=0)
        >>> len(losses)
        2
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **other_hooks,
    ):
        super().__init__()
        unknown = sorted(
            name
            for name in other_hooks
            if not (name.startswith("on_") and callable(getattr(Callback, name, None)))
        )
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hooks {unknown}")
        self._functions = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            **other_hooks,
        }
        for hook, function in self._functions.items():
            if function is not None:
                setattr(self, hook, function)

    def _overrides(self, hook: str) -> bool:
        hooks = (hook, _OLD_NAMES[hook]) if hook in _OLD_NAMES else (hook,)
        return any(self._functions.get(name) is not None for name in hooks)


class CSVLogger(Callback):
    """Writes each epoch's logs as a row of a CSV file, as ``keras.callbacks.CSVLogger``.

    The first row names the columns: ``epoch``, then the log names in sorted order (``loss``,
    ``val_loss``, metrics...). Each row is flushed as its epoch ends, so the file can be watched
    while training runs.

    Args:
        filename: the path of the CSV file.
        separator: the column separator (default ``","``).
        append: add rows to an existing file (and write no header when it has content), as
            when training resumes; by default the file is started anew.

    Examples:
        >>> logger = fg.callbacks.CSVLogger("training.csv")
        >>> history = model.fit(x, y, epochs=3, callbacks=[logger], verbose=0)
        >>> open("training.csv").readline().strip()
        'epoch,loss'
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be one character, received separator={separator!r}")
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        if not is_writer():
            # A data-parallel job: process 0 writes the file (the logs are global).
            return
        has_rows = self.append and os.path.exists(self.filename)
        if has_rows:
            with open(self.filename) as existing:
                has_rows = bool(existing.readline())
        self._write_header = not has_rows
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self.keys = None
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if self._file is None:
            return
        logs = logs or {}
        if self._writer is None:
            self.keys = sorted(logs)
            self._writer = csv.DictWriter(
                self._file, fieldnames=["epoch", *self.keys], delimiter=self.sep
            )
            if self._write_header:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, logs.get(key, "NA")) for key in self.keys)
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
        self._writer = None


class BackupAndRestore(Callback):
    """Backs up the training state at the end of every epoch, and resumes an interrupted
    ``fit`` from it, as ``keras.callbacks.BackupAndRestore``.

    The backup is one file in ``backup_dir``, replaced atomically at each epoch's end: the
    weights, the optimizer's state (its slots and iteration count), the number of epochs done
    and the seed of the run's shuffling and dropout. A new ``fit`` with a backup in
    ``backup_dir`` loads it in ``on_train_begin`` and continues at the next epoch; since each
    epoch draws its shuffle and dropout from the run's seed and the epoch's number, the resumed
    run ends with the weights the uninterrupted run would have had, bit for bit. The model and
    its ``compile`` and ``fit`` arguments must be the same as when the backup was written.

    Args:
        backup_dir: the folder of the backup (not to be shared with anything else).
        save_freq: ``"epoch"`` (backing up every ``n`` batches is not supported yet).
        delete_checkpoint: delete the backup when training ends without an error (default
            True); False keeps it.

    Examples:
        >>> backup = fg.callbacks.BackupAndRestore(backup_dir="backup")
        >>> class Interrupt(fg.callbacks.Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         if epoch == 1:
        ...             raise RuntimeError("interrupted")
        >>> try:  # interrupted after epoch 1 (counting from 0)...
        ...     model.fit(x, y, epochs=4, callbacks=[backup, Interrupt()], verbose=0)
        ... except RuntimeError:
        ...     pass
        >>> history = model.fit(x, y, epochs=4, callbacks=[backup], verbose=0)
        >>> history.epoch  # ... resumes at epoch 2
        [2, 3]
    """

    _FILE = "latest.backup.safetensors"
    _FORMAT = "ferrograd-backup"

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir must be a non-empty path")
        if save_freq != "epoch":
            if isinstance(save_freq, int) and not isinstance(save_freq, bool):
                raise ValueError(
                    f"BackupAndRestore: save_freq={save_freq} (a backup every {save_freq} "
                    "batches) is not supported yet; use save_freq='epoch'"
                )
            raise ValueError(
                f"BackupAndRestore: save_freq must be 'epoch', received save_freq={save_freq!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)

    @property
    def _path(self) -> str:
        return os.path.join(self.backup_dir, self._FILE)

    def on_train_begin(self, logs=None):
        if not os.path.exists(self._path):
            return
        from ferrograd import _core
        from ferrograd.errors import FileFormatError
        from ferrograd.saving.archive import OPTIMIZER_PREFIX
        from ferrograd.saving.weights_file import check_and_assign

        source = f"BackupAndRestore backup {self._path!r}"
        with open(self._path, "rb") as file:
            data = file.read()
        try:
            tensors, metadata = _core.safetensors_loads(data)
        except ValueError as error:
            raise FileFormatError(f"{source}: {error}") from error
        try:
            if metadata.get("format") != self._FORMAT:
                raise ValueError(f"format {metadata.get('format')!r}")
            epoch, seed = int(metadata["epoch"]), int(metadata["seed"])
            if epoch < 0 or not 0 <= seed < 2**64:
                raise ValueError(f"epoch {epoch}, seed {seed}")
        except (KeyError, ValueError) as error:
            raise FileFormatError(f"{source}: invalid training state ({error})") from error
        arrays = dict(tensors)
        state = {
            name[len(OPTIMIZER_PREFIX) :]: value
            for name, value in arrays.items()
            if name.startswith(OPTIMIZER_PREFIX)
        }
        weights = {n: v for n, v in arrays.items() if not n.startswith(OPTIMIZER_PREFIX)}
        iterations = state.pop("iterations", None)
        if iterations is None or iterations.shape != (1,):
            raise FileFormatError(f"{source}: the optimizer state has no valid 'iterations'")
        check_and_assign(self.model, weights, source)
        optimizer = self.model.optimizer._core
        try:
            optimizer.load_slots(self.model.trainable_weights, list(state.items()))
        except ValueError as error:
            raise FileFormatError(
                f"{source}: the optimizer state does not match the model: {error}"
            ) from error
        optimizer.iterations = int(iterations[0])
        # Model.fit reads these after on_train_begin: where to continue, and the run's seed.
        self.model._initial_epoch = epoch
        self.model._fit_seed = seed

    def on_epoch_end(self, epoch, logs=None):
        from ferrograd import _core
        from ferrograd.saving.archive import OPTIMIZER_PREFIX
        from ferrograd.saving.atomic import atomic_write
        from ferrograd.saving.weights_file import weight_arrays

        if not is_writer():
            # A data-parallel job: process 0 writes the backup; every process reads it.
            return
        model = self.model
        tensors = weight_arrays(model)
        optimizer = model.optimizer._core
        iterations = np.array([optimizer.iterations], dtype=np.float64)
        tensors.append((f"{OPTIMIZER_PREFIX}iterations", _core.tensor(iterations, dtype="float64")))
        for name, value in optimizer.slots(model.trainable_weights):
            tensors.append((f"{OPTIMIZER_PREFIX}{name}", _core.tensor(value, dtype=value.dtype)))
        metadata = {
            "format": self._FORMAT,
            "epoch": str(epoch + 1),
            "seed": str(int(getattr(model, "_fit_seed", None) or 0)),
        }
        data = _core.safetensors_dumps(tensors, metadata)
        os.makedirs(self.backup_dir, exist_ok=True)
        atomic_write(self._path, lambda file: file.write(data))

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint or not is_writer():
            return
        if os.path.exists(self._path):
            os.remove(self._path)
        # The folder goes too when nothing else is in it.
        try:
            os.rmdir(self.backup_dir)
        except OSError:
            pass


class CallbackList:
    """The callbacks of one ``fit``/``evaluate``/``predict``, dispatched in order.

    It is also what the Rust loop calls between batches and epochs (``on_batch_end`` and
    ``on_epoch_end`` return True to stop). ``fit``, ``evaluate`` and ``predict`` make it;
    users pass plain lists of callbacks.

    Args:
        callbacks: the ``Callback`` instances, in the order they are called.
        model: the model; each callback's ``set_model`` receives it.
        params: the loop's parameters; each callback's ``set_params`` receives them.
        mode: ``"train"``, ``"test"`` or ``"predict"``: which batch hooks ``on_batch_begin``
            and ``on_batch_end`` call (default ``"train"``).

    Raises:
        TypeError: when an item is not a ``Callback``.

    Examples:
        >>> history = fg.callbacks.History()
        >>> hooks = fg.callbacks.CallbackList([history], model, {"epochs": 1})
        >>> hooks.on_train_begin()
        >>> hooks.on_epoch_end(0, {"loss": 0.5})
        False
        >>> history.history
        {'loss': [0.5]}
    """

    def __init__(self, callbacks, model, params: dict, mode: str = "train"):
        self.callbacks = list(callbacks)
        self.model = model
        self.mode = mode
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "callbacks must be ferrograd.callbacks.Callback instances, "
                    f"received {callback!r}"
                )
            callback.set_model(model)
            callback.set_params(params)
        self.every_batch = any(
            callback._overrides(hook) for callback in self.callbacks for hook in _BATCH_HOOKS
        )

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def on_train_begin(self, logs=None):
        """Calls every callback's ``on_train_begin``.

        Args:
            logs: passed on to each callback (default ``None``).

        Examples:
            >>> hooks = fg.callbacks.CallbackList([fg.callbacks.History()], model, {})
            >>> hooks.on_train_begin()
        """
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        """Calls every callback's ``on_train_end``.

        Args:
            logs: passed on to each callback (default ``None``).

        Examples:
            >>> hooks = fg.callbacks.CallbackList([fg.callbacks.History()], model, {})
            >>> hooks.on_train_end()
        """
        self._call("on_train_end", logs)

    # The names below are the ones the Rust hooks call.
    def on_epoch_begin(self, epoch):
        """Calls every callback's ``on_epoch_begin`` with empty logs (in ``"train"`` mode only).

        Args:
            epoch: the index of the epoch, from 0.

        Examples:
            >>> hooks = fg.callbacks.CallbackList([fg.callbacks.History()], model, {})
            >>> hooks.on_epoch_begin(0)
        """
        if self.mode == "train":
            self._call("on_epoch_begin", epoch, {})

    def on_batch_begin(self, step):
        """Calls every callback's batch-begin hook of the mode (``on_train_batch_begin``...).

        Args:
            step: the index of the batch, from 0.

        Examples:
            >>> hooks = fg.callbacks.CallbackList([fg.callbacks.History()], model, {})
            >>> hooks.on_batch_begin(0)
        """
        self._call(f"on_{self.mode}_batch_begin", step, {})

    def on_batch_end(self, step, logs):
        """Calls every callback's batch-end hook of the mode (``on_train_batch_end``...).

        Args:
            step: the index of the batch, from 0.
            logs: the batch's values, passed on as they are.

        Returns:
            True when a callback set ``model.stop_training``, so that the loop stops.

        Examples:
            >>> hooks = fg.callbacks.CallbackList([fg.callbacks.History()], model, {})
            >>> hooks.on_batch_end(0, {"loss": 0.5})
            False
        """
        hook = f"on_{self.mode}_batch_end"
        for callback in self.callbacks:
            getattr(callback, hook)(step, logs)
        return bool(getattr(self.model, "stop_training", False))

    def on_epoch_end(self, epoch, logs):
        """Calls every callback's ``on_epoch_end`` with the logs as a dict of floats.

        Args:
            epoch: the index of the epoch, from 0.
            logs: the epoch's values (a mapping of names to numbers).

        Returns:
            True when a callback set ``model.stop_training``, so that the loop stops.

        Examples:
            >>> hooks = fg.callbacks.CallbackList([fg.callbacks.History()], model, {})
            >>> hooks.on_epoch_end(0, {"loss": 0.5})
            False
        """
        logs = _plain_logs(logs)
        self._call("on_epoch_end", epoch, logs)
        return bool(getattr(self.model, "stop_training", False))


def _plain_logs(logs: dict) -> dict:
    return {name: float(value) for name, value in logs.items()}


__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
