"""The training, test and predict loops that run in Python, one step per batch, on the Rust
autograd (the PyTorch way): what ``compile(run_eagerly=True)`` and an overridden
``train_step``/``test_step``/``predict_step`` run, and Keras 3's step API that ``Model``
inherits from ``EagerSteps`` (``train_step``, ``compute_loss``, ``metrics``, ...).

The batches are the Rust loop's: the same row order for the same seed (``_core.BatchOrder``
draws it as ``fit`` does), the same batch size, the same stream handling; the default
``train_step`` computes the same loss (with the weight penalties), the same update and the same
logs, so a model trained with and without ``run_eagerly`` ends with the same weights (up to
rounding; with dropout the masks differ, drawn from another stream).

Examples:
    >>> model = fg.Sequential([layers.Dense(1, input_shape=(3,))])
    >>> model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    >>> history = model.fit(x, y, epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2
"""

from __future__ import annotations

import time

import numpy as np

from ferrograd import _core, losses
from ferrograd import metrics as metrics_module
from ferrograd._core import Tensor
from ferrograd._grad_mode import no_grad

_STEPS = {"train": "train_step", "test": "test_step", "predict": "predict_step"}

# As the Rust loop's hooks: without a callback that watches batches, batch ends are reported
# (to the progress bar) at most this often.
_PROGRESS_INTERVAL = 0.05

# The built-in metrics that are means of per-sample values: in a Python step they are
# `MeanMetricWrapper`s of the loss functions, so that `update_state` takes `sample_weight`.
_MEAN_OF_LOSS = (
    "mean_absolute_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mean_absolute_percentage_error",
)


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` of one batch as ``fit`` hands it to ``train_step``: ``(x,)``,
    ``(x, y)`` or ``(x, y, sample_weight)``, or ``x`` alone.

    Args:
        data: the batch.

    Examples:
        >>> unpack_x_y_sample_weight((1, 2))
        (1, 2, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        "a batch must be x, (x,), (x, y) or (x, y, sample_weight); received a tuple of "
        f"{len(data)} items"
    )


def runs_eagerly(model, loop: str) -> bool:
    """Whether ``loop`` (``"train"``, ``"test"`` or ``"predict"``) of ``model`` runs in Python:
    ``run_eagerly`` is set, the loop's step or ``compute_loss`` is overridden, or (training
    and testing) no loss was compiled. A loss written in Python does not need it: ``fit``
    traces it into the graph (``ferrograd.losses.traced_loss``)."""
    if getattr(model, "run_eagerly", False):
        return True
    cls = type(model)
    if getattr(cls, _STEPS[loop]) is not getattr(EagerSteps, _STEPS[loop]):
        return True
    if loop == "predict":
        return False
    if cls.compute_loss is not EagerSteps.compute_loss:
        return True
    return model.loss is None


def _float(value) -> float:
    if isinstance(value, Tensor):
        return value.item()
    return float(np.asarray(value))


def _flat_logs(logs) -> dict:
    """A step's returned logs as floats; a nested dict (a metric whose result is a dict) is
    flattened into its keys, as Keras does."""
    flat = {}
    for name, value in dict(logs or {}).items():
        if isinstance(value, dict):
            flat.update(_flat_logs(value))
        else:
            flat[name] = _float(value)
    return flat


class EagerSteps:
    """Keras 3's step API of ``Model``: the steps ``fit``, ``evaluate`` and ``predict`` run
    once per batch when the model runs eagerly (``compile(run_eagerly=True)``, or a step
    overridden), the loss and metrics of ``compile`` as objects (``compute_loss``,
    ``metrics``, ``compute_metrics``), and ``run_eagerly``.

    Examples:
        >>> class CustomModel(fg.Model):
        ...     def train_step(self, data):
        ...         x, y = data
        ...         self.zero_grad()
        ...         y_pred = self(x, training=True)
        ...         loss = self.compute_loss(y=y, y_pred=y_pred)
        ...         loss.backward()
        ...         weights = self.trainable_weights
        ...         self.optimizer.apply([v.value.grad for v in weights], weights)
        ...         for metric in self.metrics:
        ...             if metric.name == "loss":
        ...                 metric.update_state(loss)
        ...             else:
        ...                 metric.update_state(y, y_pred)
        ...         return {m.name: m.result() for m in self.metrics}
        >>> inputs = layers.Input(shape=(3,))
        >>> model = CustomModel(inputs, layers.Dense(1)(inputs))
        >>> model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        >>> sorted(model.fit(x, y, epochs=1, verbose=0).history)
        ['loss', 'mae']
    """

    #: Run ``fit``, ``evaluate`` and ``predict`` in Python, one step per batch (Keras's
    #: ``run_eagerly``; ``compile(run_eagerly=True)`` sets it).
    run_eagerly = False

    # --- the compiled loss and metrics as objects ------------------------------------------

    def _build_step_metrics(self, y_shapes) -> None:
        """The loss tracker(s) and the compiled metrics as ``Metric`` objects named as the
        logs name them, made at the start of a Python loop (``"accuracy"`` needs the
        targets' shapes)."""
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._output_loss_trackers = []
        self._compiled_metrics = []
        if self._graph is None or self.loss is None:
            return
        _, outputs = self._io_names()
        many = len(outputs) > 1
        if many:
            self._output_loss_trackers = [metrics_module.Mean(name=f"{n}_loss") for n in outputs]
        specs = self._metric_specs
        per_output = (
            self._per_output(specs, outputs, "metrics", []) if many and specs else [specs or []]
        )
        losses_ = self._per_output(self.loss, outputs, "loss") if many else [self.loss]
        y_shapes = list(y_shapes) if many else [y_shapes]
        for index, entry in enumerate(per_output):
            entry = [] if entry is None else entry
            entry = list(entry) if isinstance(entry, (list, tuple)) else [entry]
            prefix = f"{outputs[index]}_" if many else ""
            pairs = self._metrics_for(
                y_shapes[index] or (None,), specs=entry, output=index, loss=losses_[index]
            )
            for name, metric in pairs:
                self._compiled_metrics.append((index, _step_metric(prefix + name, metric)))

    @property
    def metrics(self) -> list:
        """The metrics a step updates and ``fit`` resets at each epoch: the loss tracker
        (``"loss"``; with several outputs also ``"{output}_loss"``) and the compiled metrics,
        each named as the logs name it; empty before the model has trained or evaluated in
        Python. A subclass may override it with its own list (the keras.io guide's
        ``loss_tracker``)."""
        tracker = getattr(self, "_loss_tracker", None)
        if tracker is None:
            return []
        compiled = [metric for _, metric in getattr(self, "_compiled_metrics", [])]
        return [tracker, *self._output_loss_trackers, *compiled]

    def reset_metrics(self) -> None:
        """Resets every metric of ``metrics`` (what ``fit`` does at each epoch's start).

        Examples:
            >>> model.reset_metrics()
        """
        for metric in self.metrics:
            metric.reset_state()

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of a batch as a differentiable tensor: each output's loss
        (Keras 3's "sum_over_batch_size" with ``sample_weight``) times its ``loss_weights``,
        summed, plus the layers' weight penalties (``model.losses``).

        Args:
            x: the inputs (unused by the compiled loss; there for overrides).
            y: the targets (an array, or a list/dict by output name for several outputs).
            y_pred: the model's outputs, a tensor (a list for several outputs).
            sample_weight: None, or per-sample weights (a list by output for several).
            training: whether this is a training step.

        Returns:
            A scalar tensor.

        Raises:
            ValueError: the model was compiled without a loss and has no penalties.

        Examples:
            >>> model.compile(optimizer="adam", loss="binary_crossentropy")
            >>> model.compute_loss(y=y[:4], y_pred=model(x[:4])).shape
            ()
        """
        total = None
        self._last_output_losses = []
        if self.loss is not None:
            _, outputs = self._io_names()
            many = len(outputs) > 1
            preds = list(y_pred) if many else [y_pred]
            ys = self._per_target(y, outputs) if many else [y]
            sws = (
                self._per_target(sample_weight, outputs)
                if many and sample_weight is not None
                else [sample_weight] * len(outputs)
            )
            per_loss = self._per_output(self.loss, outputs, "loss") if many else [self.loss]
            loss_weights = getattr(self, "loss_weights", None)
            factors = (
                self._per_output(loss_weights, outputs, "loss_weights", 1.0)
                if loss_weights is not None
                else [None] * len(outputs)
            )
            for loss, target, pred, weight, factor in zip(
                per_loss, ys, preds, sws, factors, strict=True
            ):
                if loss is None:
                    continue
                value = loss(target, pred, sample_weight=weight)
                self._last_output_losses.append(value.item())
                if factor is not None:
                    value = value * float(factor)
                total = value if total is None else total + value
        for penalty in self.losses:
            total = penalty if total is None else total + penalty
        if total is None:
            raise ValueError(
                f"compute_loss: the model {self.name!r} was compiled without a loss and has no "
                "weight penalties; pass loss= to compile(), or compute the loss in train_step"
            )
        return total

    def _per_target(self, value, outputs) -> list:
        """Targets (or weights) of several outputs as a list in output order."""
        if isinstance(value, dict):
            return [value[name] for name in outputs]
        return list(value)

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Updates the compiled metrics with a batch (unweighted, as Keras 3's ``metrics=``)
        and returns ``get_metrics_result()``.

        Args:
            x: the inputs (unused; there for overrides).
            y: the targets.
            y_pred: the model's outputs.
            sample_weight: the per-sample weights (not used by ``metrics=``, as in Keras).

        Returns:
            ``{name: value}`` of every metric in ``metrics``.

        Examples:
            >>> logs = model.compute_metrics(x[:4], y[:4], model(x[:4]))
        """
        compiled = getattr(self, "_compiled_metrics", [])
        if compiled:
            _, outputs = self._io_names()
            many = len(outputs) > 1
            ys = self._per_target(y, outputs) if many else [y]
            preds = list(y_pred) if many else [y_pred]
            for index, metric in compiled:
                metric.update_state(ys[index], _numpy(preds[index]))
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """``{name: value}`` of every metric in ``metrics`` (a metric whose result is a dict
        adds its keys).

        Returns:
            A dict of floats.

        Examples:
            >>> model.get_metrics_result()
            {}
        """
        return _flat_logs({metric.name: metric.result() for metric in self.metrics})

    # --- the steps ---------------------------------------------------------------------------

    def train_step(self, data) -> dict:
        """One training step on a batch, as Keras 3's PyTorch backend writes it: forward,
        ``compute_loss``, ``backward()``, the optimizer's update of the trainable weights,
        the metrics. Override it to change what ``fit`` does; ``fit`` then runs in Python.

        Args:
            data: the batch: ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            The logs: ``{name: value}``.

        Examples:
            >>> model.compile(optimizer="sgd", loss="binary_crossentropy", run_eagerly=True)
            >>> sorted(model.fit(x, y, epochs=1, verbose=0).history)
            ['loss']
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
        )
        value = loss.item()
        batch = _batch_size(x)
        if not np.isfinite(value) and getattr(self, "_stop_on_nonfinite", False):
            self._nonfinite_loss = value
            return {}
        self._update_loss_trackers(value, batch)
        if self.trainable_weights:
            loss.backward()
            weights = list(self.trainable_weights)
            with no_grad():
                self.optimizer.apply([v.value.grad for v in weights], weights)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def _update_loss_trackers(self, value: float, batch: int) -> None:
        tracker = getattr(self, "_loss_tracker", None)
        if tracker is not None:
            tracker.update_state(value, sample_weight=batch)
        for tracker, output_loss in zip(
            getattr(self, "_output_loss_trackers", []), self._last_output_losses, strict=False
        ):
            tracker.update_state(output_loss, sample_weight=batch)

    def test_step(self, data) -> dict:
        """One evaluation step on a batch: forward in inference mode, ``compute_loss``, the
        metrics. Override it to change what ``evaluate`` (and ``fit``'s validation) does.

        Args:
            data: the batch: ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            The logs: ``{name: value}``.

        Examples:
            >>> model.compile(optimizer="sgd", loss="binary_crossentropy", run_eagerly=True)
            >>> round(model.evaluate(x, y, verbose=0), 6) >= 0
            True
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with no_grad():
            y_pred = self(x, training=False)
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
            )
        self._update_loss_trackers(loss.item(), _batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """One prediction step on a batch: the model's outputs in inference mode.

        Args:
            data: the batch: ``x``, or ``(x,)``/``(x, y)`` of which ``x`` is used.

        Returns:
            A tensor (a list of them for several outputs).

        Examples:
            >>> model.predict_step((x[:2],)).shape
            (2, 1)
        """
        x, _, _ = unpack_x_y_sample_weight(data)
        with no_grad():
            return self(x, training=False)


def _step_metric(name: str, metric):
    """A compiled metric as the object a step updates, named ``name``: a fresh copy of a
    built-in metric (a mean of per-sample values as a ``MeanMetricWrapper``, so that it takes
    ``sample_weight``), a metric written in Python as it is."""
    if metric._core is None:
        return metric
    import json

    config = json.loads(metric._core.to_json())
    if config["name"] in _MEAN_OF_LOSS and len(config) == 1:
        return metrics_module.MeanMetricWrapper(getattr(losses, config["name"]), name=name)
    return metrics_module.Metric(config, name=name)


def _numpy(value):
    return value.numpy() if isinstance(value, Tensor) else value


def _batch_size(x) -> int:
    first = x
    while isinstance(first, (list, tuple)):
        first = first[0]
    if isinstance(first, dict):
        first = next(iter(first.values()))
    return int(first.shape[0]) if hasattr(first, "shape") else len(first)


# --- the loops ---------------------------------------------------------------------------------


class _Batches:
    """The batches of one prepared dataset, epoch after epoch, as the Rust pipeline cuts
    them: rows in ``BatchOrder``'s order (shuffled when asked) cut into ``batch_size``, at
    most ``steps`` per pass; or a stream's own batches (with ``steps``, each pass continues
    where the previous one stopped)."""

    def __init__(self, data, batch_size: int, steps, seed=None):
        self.data = data
        self.batch_size = batch_size
        self.steps = steps
        self.ran_out = False
        self._iterator = None
        if not data.is_stream:
            columns = data.x if data.columns else [data.x]
            self._order = _core.BatchOrder(len(columns[0]), seed)

    def epoch(self, epoch: int, shuffle: bool):
        self.ran_out = False
        if self.data.is_stream:
            yield from self._stream()
            return
        data = self.data
        order = self._order.epoch(epoch, bool(shuffle))
        for step, start in enumerate(range(0, len(order), self.batch_size)):
            if self.steps is not None and step >= self.steps:
                return
            rows = order[start : start + self.batch_size]
            if data.columns:
                x = [np.take(column, rows, axis=0) for column in data.x]
                y = None if data.y is None else [np.take(c, rows, axis=0) for c in data.y]
                x = x if len(x) > 1 else x
            else:
                x = np.take(data.x, rows, axis=0)
                y = None if data.y is None else np.take(data.y, rows, axis=0)
            if data.columns and len(data.x) == 1:
                x = x[0]
            if data.columns and y is not None and len(y) == 1:
                y = y[0]
            weights = None
            if data.sample_weight is not None:
                weights = [np.take(w, rows, axis=0) for w in data.sample_weight]
                weights = weights[0] if len(weights) == 1 else weights
            if y is None:
                yield (x,)
            elif weights is None:
                yield (x, y)
            else:
                yield (x, y, weights)

    def _stream(self):
        if self._iterator is None or self.steps is None:
            self._iterator = iter(self.data.x)
        step = 0
        while self.steps is None or step < self.steps:
            try:
                batch = next(self._iterator)
            except StopIteration:
                self.ran_out = True
                return
            yield (
                batch
                if isinstance(batch, tuple)
                else (batch,)
                if not isinstance(batch, list)
                else tuple(batch)
            )
            step += 1


def fit(
    model,
    data,
    hooks,
    *,
    epochs,
    initial_epoch,
    batch_size,
    shuffle,
    steps_per_epoch,
    validation_batch_size,
    validation_steps,
    validation_freq,
    stop_on_nonfinite,
    seed,
):
    """``fit``'s loop in Python: ``train_step`` per batch, ``hooks`` (the ``CallbackList``)
    between batches and epochs, validation with ``test_step``. Returns the report
    ``_core.fit`` returns."""
    model._build_step_metrics(data.y_shape)
    model._stop_on_nonfinite = bool(stop_on_nonfinite)
    model._nonfinite_loss = None
    train = _Batches(data, batch_size, steps_per_epoch, seed)
    validation = None
    if data.validation is not None:
        validation = _Batches(
            data.validation, validation_batch_size or batch_size, validation_steps
        )
    report = {"epochs_completed": 0, "nonfinite": None, "ran_out_of_data": False}
    every_batch = bool(getattr(hooks, "every_batch", True))
    for epoch in range(initial_epoch, epochs):
        hooks.on_epoch_begin(epoch)
        model.reset_metrics()
        logs, stop, step, reported = {}, False, 0, None
        for batch in train.epoch(epoch, shuffle):
            if every_batch:
                hooks.on_batch_begin(step)
            logs = _flat_logs(model.train_step(batch))
            if model._nonfinite_loss is not None:
                report["nonfinite"] = (epoch, step, model._nonfinite_loss)
                break
            step += 1
            now = time.monotonic()
            if every_batch or reported is None or now - reported >= _PROGRESS_INTERVAL:
                reported = now
                if hooks.on_batch_end(step - 1, logs):
                    stop = True
            if stop or model.stop_training:
                stop = True
                break
        if train.ran_out and (steps_per_epoch is not None or step == 0):
            report["ran_out_of_data"] = True
            stop = True
        if report["nonfinite"] is not None or (report["ran_out_of_data"] and step == 0):
            break
        logs = dict(logs)
        if validation is not None and _validates_after(validation_freq, epoch):
            val_logs = _evaluate_batches(model, validation, None)
            logs.update({f"val_{name}": value for name, value in val_logs.items()})
        report["epochs_completed"] += 1
        if hooks.on_epoch_end(epoch, logs) or stop:
            break
    return report


def _validates_after(freq, epoch: int) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _evaluate_batches(model, batches: _Batches, progress) -> dict:
    model.reset_metrics()
    logs = {}
    for step, batch in enumerate(batches.epoch(0, False)):
        if progress is not None:
            progress.on_batch_begin(step)
        logs = _flat_logs(model.test_step(batch))
        if progress is not None:
            progress.on_batch_end(step, logs)
    return logs


def evaluate(model, data, batch_size: int, steps, progress) -> dict:
    """``evaluate``'s loop in Python: ``test_step`` per batch. Returns the logs."""
    model._build_step_metrics(data.y_shape)
    return _evaluate_batches(model, _Batches(data, batch_size, steps), progress)


def predict(model, data, batch_size: int, steps, progress):
    """``predict``'s loop in Python: ``predict_step`` per batch, the outputs concatenated
    (a list of arrays for several outputs)."""
    parts = []
    for step, batch in enumerate(_Batches(data, batch_size, steps).epoch(0, False)):
        progress.on_batch_begin(step)
        out = model.predict_step(batch)
        parts.append([_numpy(o) for o in out] if isinstance(out, (list, tuple)) else _numpy(out))
        progress.on_batch_end(step, {})
    if parts and isinstance(parts[0], list):
        return [np.concatenate(column) for column in zip(*parts, strict=True)]
    return np.concatenate(parts) if parts else np.zeros((0,))
