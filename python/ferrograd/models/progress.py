"""What the Rust loops call back into: the callbacks and the progress bar of ``evaluate`` and
``predict``, Python learning-rate schedules during ``fit``, and the ``verbose`` argument."""

from __future__ import annotations

from ferrograd import callbacks as callbacks_module
from ferrograd._progbar import Progbar


def verbosity(verbose) -> int:
    """``verbose`` as 0 (silent), 1 (progress bar) or 2 (one line per epoch).

    Args:
        verbose: ``"auto"`` (1), 0, 1 or 2.

    Examples:
        >>> verbosity("auto"), verbosity(2)
        (1, 2)
    """
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, received verbose={verbose!r}")
    return int(verbose)


class LoopProgress:
    """The callbacks and progress bar of ``evaluate`` or ``predict`` (what the Rust loop calls).

    Args:
        callbacks: the user's callbacks (or None).
        model: the model they watch.
        mode: ``"test"`` or ``"predict"``.
        total: the number of batches, or None when unknown.
        verbose: 0 or 1 (a progress bar).

    Examples:
        >>> progress = LoopProgress(None, model, "predict", total=4, verbose=0)
        >>> progress.begin()
    """

    def __init__(self, callbacks, model, mode: str, total, verbose: int):
        self.callbacks = callbacks_module.CallbackList(
            callbacks or [], model, {"steps": total, "verbose": verbose}, mode=mode
        )
        self.every_batch = self.callbacks.every_batch
        self.bar = Progbar(total, verbose=verbose) if verbose else None
        self.mode = mode
        self.steps = 0

    def begin(self):
        self.callbacks._call(f"on_{self.mode}_begin", {})

    def on_batch_begin(self, step):
        self.callbacks.on_batch_begin(step)

    def on_batch_end(self, step, logs):
        self.steps = step + 1
        self.callbacks.on_batch_end(step, logs)
        if self.bar is not None:
            self.bar.update(step + 1, logs)
        return False

    def end(self, logs):
        if self.bar is not None:
            self.bar.update(self.bar.target or self.steps, logs, finalize=True)
        self.callbacks._call(f"on_{self.mode}_end", logs)


class PythonScheduleSync(callbacks_module.Callback):
    """Evaluates a learning-rate schedule written in Python before every batch (which makes the
    loop call into Python each step; the built-in schedules run in Rust).

    Args:
        optimizer: the optimizer whose schedule is a Python callable.

    Examples:
        >>> sync = PythonScheduleSync(model.optimizer)
    """

    def __init__(self, optimizer):
        super().__init__()
        self.optimizer = optimizer

    def on_train_batch_begin(self, batch, logs=None):
        self.optimizer._sync_learning_rate()
