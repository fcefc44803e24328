"""Models: ``Sequential`` and the functional ``Model``, with Keras's ``compile``/``fit``/
``evaluate``/``predict``/``summary``.

The loops of ``fit``, ``evaluate`` and ``predict`` run in Rust with the GIL released; Python is
called back only for the progress bar and the callbacks.

Example:
    >>> model = fg.Sequential([
    ...     layers.Dense(64, activation="relu", input_shape=(20,)),
    ...     layers.Dense(1, activation="sigmoid"),
    ... ])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=10, batch_size=32, validation_split=0.1)
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings

import numpy as np

from ferrograd import _core, _data, losses, optimizers, saving
from ferrograd import callbacks as callbacks_module
from ferrograd import metrics as metrics_module
from ferrograd._core import Tensor
from ferrograd._progbar import Progbar
from ferrograd.errors import NotCompiledError
from ferrograd.layers.input_layer import InputLayer
from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import Layer
from ferrograd.layers.naming import snake_case, unique_name
from ferrograd.layers.shapes import format_shape, normalize_shape
from ferrograd.layers.weights import WeightViews, set_tensor_values


def _verbosity(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, received verbose={verbose!r}")
    return int(verbose)


class Model(WeightViews):
    """A model built with the functional API: ``Model(inputs=..., outputs=...)``.

    Args:
        inputs: the ``layers.Input(...)`` tensor(s) the model starts from.
        outputs: the tensor the layer calls produced from them.
        name: the model's name.

    Example:
        >>> inputs = layers.Input(shape=(784,))
        >>> hidden = layers.Dense(128, activation="relu")(inputs)
        >>> outputs = layers.Dense(10, activation="softmax")(hidden)
        >>> model = fg.Model(inputs=inputs, outputs=outputs)
    """

    def __init__(self, inputs=None, outputs=None, name=None):
        default = "functional" if type(self) is Model else snake_case(type(self).__name__)
        self.name = name or unique_name(default)
        self.optimizer = None
        self.loss = None
        self._metric_specs: list = []
        self._graph = None
        self._layers: list[Layer] = []
        # The graph node of each layer's first application (for output shapes in summaries).
        self._node_of_layer: dict[int, int] = {}
        self.stop_training = False
        self.history = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("a functional Model needs both inputs= and outputs=")
            self._init_functional(inputs, outputs)

    # --- structure ---------------------------------------------------------------------

    def _init_functional(self, inputs, outputs) -> None:
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if isinstance(outputs, (list, tuple)):
            if len(outputs) != 1:
                raise ValueError(f"a Model has one output for now, received {len(outputs)}")
            outputs = outputs[0]
        for tensor in [*inputs, outputs]:
            if not isinstance(tensor, KerasTensor):
                raise TypeError(
                    "Model(inputs, outputs) takes the symbolic tensors of layers.Input(...) and "
                    f"of layer calls on them; received {tensor!r}"
                )
        order = _topological_order(outputs)
        input_ids = {id(t) for t in inputs}
        for tensor in order:
            if isinstance(tensor._producer, InputLayer) and id(tensor) not in input_ids:
                raise ValueError(
                    f"the graph is disconnected: {tensor._producer.name!r} is used but not listed "
                    "in inputs="
                )
        for tensor in inputs:
            if not isinstance(tensor._producer, InputLayer):
                raise ValueError(
                    f"model inputs must come from layers.Input(...), received {tensor!r}"
                )
        node_of = {}
        nodes, core_layers, layer_index = [], [], {}
        # The wiring by layer name, as a model file stores it.
        self._wiring = []
        self._layers = [t._producer for t in inputs]
        for tensor in order:
            producer = tensor._producer
            if isinstance(producer, InputLayer):
                nodes.append(("input", list(tensor.shape)))
                self._wiring.append({"layer": None, "inputs": []})
            else:
                if id(producer) not in layer_index:
                    layer_index[id(producer)] = len(core_layers)
                    core_layers.append(producer)
                    self._layers.append(producer)
                    self._node_of_layer[id(producer)] = len(nodes)
                sources = [node_of[id(t)] for t in tensor._inputs]
                nodes.append((layer_index[id(producer)], sources))
                self._wiring.append({"layer": producer.name, "inputs": sources})
            node_of[id(tensor)] = len(nodes) - 1
        self.inputs, self.outputs = inputs, [outputs]
        self._output_node = node_of[id(outputs)]
        self._graph = _core.Graph(
            [layer._core for layer in core_layers],
            nodes,
            [node_of[id(t)] for t in inputs],
            node_of[id(outputs)],
            self._dtype(),
        )

    def _dtype(self) -> str:
        real = [layer for layer in self._layers if not isinstance(layer, InputLayer)]
        return real[0].dtype if real else "float32"

    @property
    def layers(self) -> list:
        return list(self._layers)

    def get_layer(self, name=None, index=None) -> Layer:
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"no layer named {name!r}; layers: {[layer.name for layer in self.layers]}"
        )

    @property
    def built(self) -> bool:
        return self._graph is not None

    def _ensure_built(self, sample_shape) -> None:
        """Builds the model from the shape of one sample when it is not built yet."""
        if self._graph is None:
            raise ValueError(f"the model {self.name!r} has no layers to build")

    def _require_graph(self):
        if self._graph is None:
            raise ValueError(
                f"the model {self.name!r} is not built yet: give the first layer an input_shape, "
                "start with layers.Input(shape=...), or call build(input_shape) or fit() first"
            )
        return self._graph

    @property
    def input_shape(self) -> tuple:
        return tuple(self._require_graph().input_shapes[0])

    @property
    def output_shape(self) -> tuple:
        return tuple(self._require_graph().output_shape)

    # --- weights -------------------------------------------------------------------------

    def _weight_entries(self):
        return self._graph.weights() if self._graph is not None else []

    def parameters(self) -> list:
        """The trainable weights (PyTorch's spelling)."""
        return self.trainable_weights

    def named_weights(self) -> list:
        """``(path, tensor)`` pairs with stable paths like ``"dense/kernel"``."""
        return [(path, tensor) for path, tensor, _ in self._weight_entries()]

    def get_weights(self) -> list:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        set_tensor_values(self.weights, weights, f"model {self.name!r}")

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def zero_grad(self) -> None:
        """Clears the gradients of the trainable weights (before a new ``backward()``)."""
        for weight in self.trainable_weights:
            weight.grad = None

    @property
    def losses(self) -> list:
        """The weight penalties of the layers' regularizers."""
        if self._graph is None:
            return []
        penalty = self._graph.regularization_loss()
        return [] if penalty is None else [penalty]

    # --- calling -------------------------------------------------------------------------

    def __call__(self, inputs, training=False):
        """The model applied to a batch: a Tensor that records a graph when gradients are
        enabled (for a hand-written training loop)."""
        if isinstance(inputs, KerasTensor):
            raise TypeError(
                "calling a model on a symbolic tensor (nesting models) is not supported yet"
            )
        if not isinstance(inputs, Tensor):
            inputs = _core.tensor(np.asarray(inputs), dtype=self._dtype())
        self._ensure_built(tuple(inputs.shape[1:]))
        return self._require_graph().forward([inputs], bool(training))

    # --- compile -------------------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        """Configures training.

        Args:
            optimizer: a name (``"adam"``, case-insensitive) or an optimizer instance.
            loss: a name (``"binary_crossentropy"``, ``"mse"``, ...) or a loss instance.
            metrics: a list of names (``"accuracy"``, ``"auc"``, ...) or metric instances.
        """
        unsupported = set(kwargs) - {"run_eagerly", "jit_compile", "steps_per_execution"}
        if unsupported:
            raise TypeError(f"compile() got unexpected arguments: {', '.join(sorted(unsupported))}")
        if loss is None:
            raise ValueError("compile() needs a loss, e.g. loss='categorical_crossentropy'")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, metrics_module.Metric)):
            metrics = [metrics]
        self._metric_specs = list(metrics)
        for spec in self._metric_specs:
            if not (isinstance(spec, str) and spec in ("accuracy", "acc")):
                metrics_module.get(spec)  # rejects unknown names now rather than in fit

    @property
    def compiled(self) -> bool:
        return self.optimizer is not None and self.loss is not None

    def _require_compiled(self) -> None:
        if not self.compiled:
            raise NotCompiledError(
                f"the model {self.name!r} must be compiled before training or evaluation: call "
                "model.compile(optimizer=..., loss=...)"
            )

    def _metrics_for(self, y_shape) -> list:
        """``(log name, metric)`` pairs; "accuracy" picks its kind from the shapes, like Keras."""
        resolved = []
        batch = y_shape[0] if y_shape and y_shape[0] is not None else 1
        prediction_shape = [batch if d is None else d for d in self._require_graph().output_shape]
        for spec in self._metric_specs:
            if isinstance(spec, str):
                if spec in ("accuracy", "acc"):
                    y_known = [batch if d is None else d for d in y_shape]
                    kind = metrics_module.resolve_accuracy(
                        y_known, prediction_shape, loss=self.loss
                    )
                    resolved.append((spec, metrics_module.get(kind)))
                else:
                    resolved.append((spec, metrics_module.get(spec)))
            else:
                metric = metrics_module.get(spec)
                resolved.append((metric.name, metric))
        return resolved

    def _check_targets(self, y: np.ndarray) -> None:
        """Rejects labels a sparse cross-entropy cannot take, before any training."""
        if not isinstance(self.loss, losses.SparseCategoricalCrossentropy):
            return
        classes = self._require_graph().output_shape[-1]
        labels = np.asarray(y)
        if labels.size == 0:
            return
        bad = (labels < 0) | (labels != np.floor(labels))
        if classes is not None:
            bad |= labels >= classes
        if bad.any():
            first = labels.reshape(-1)[int(np.argmax(bad.reshape(-1)))]
            raise ValueError(
                f"sparse_categorical_crossentropy needs integer labels in [0, {classes}) for a "
                f"model with {classes} outputs; received the label {first!r}"
            )

    # --- fit -----------------------------------------------------------------------------

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        stop_on_nonfinite=False,
    ):
        """Trains the model.

        Args:
            x, y: arrays (numpy, memory maps, Tensors) of samples and targets; or ``x`` an
                iterable of ``(x, y)`` batches (a generator or a ``PyDataset``-like object) with
                ``y`` None.
            batch_size: samples per update (default 32).
            epochs: the epoch to stop at (``initial_epoch`` is where to start).
            verbose: "auto"/1 (progress bar), 2 (one line per epoch), 0 (silent).
            callbacks: ``fg.callbacks`` instances.
            validation_split: the last fraction of x and y held out, taken before shuffling.
            validation_data: ``(x_val, y_val)`` (overrides ``validation_split``).
            shuffle: reshuffle the training samples each epoch.
            steps_per_epoch: batches per epoch (needed for endless generators).
            stop_on_nonfinite: stop at the first NaN or infinite loss, before its update, and
                record where in ``history.stopped_on_nonfinite``.

        Returns:
            A ``History`` (also ``model.history``): ``history.history["loss"]``, ...
        """
        self._require_compiled()
        batch_size = _data.positive_int(batch_size, "batch_size", default=32)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, received epochs={epochs!r}")
        verbose = _verbosity(verbose)
        dtype = self._dtype()
        if _data.is_batch_iterable(x):
            if y is not None:
                raise ValueError("when x is an iterable of (x, y) batches, y must be None")
            if validation_split:
                raise ValueError("validation_split needs arrays; pass validation_data instead")
            train_x, first = _peek(_data.as_batches(x))
            train_y = None
            sample_shape, y_shape = _batch_shapes(first)
            steps = steps_per_epoch or _length(train_x)
        else:
            if x is None or y is None:
                raise ValueError("fit() needs x and y (or x as an iterable of (x, y) batches)")
            train_x = _data.as_rows(x, dtype, "x")
            train_y = _data.as_rows(y, dtype, "y")
            _data.check_lengths(train_x, train_y)
            if len(train_x) == 0:
                raise ValueError("fit() received empty arrays (0 samples)")
            _data.check_finite(train_x, "x")
            _data.check_finite(train_y, "y")
            validation = None
            if validation_data is None:
                train_x, train_y, validation = _data.split_validation(
                    train_x, train_y, validation_split
                )
            validation_data = validation if validation_data is None else validation_data
            sample_shape, y_shape = train_x.shape[1:], train_y.shape
            steps = math.ceil(len(train_x) / batch_size)
            if steps_per_epoch is not None:
                steps = min(steps, _data.positive_int(steps_per_epoch, "steps_per_epoch"))
        self._ensure_built(tuple(sample_shape))
        if train_y is not None:
            self._check_targets(train_y)
        validation = self._validation_source(validation_data, dtype)
        metric_pairs = self._metrics_for(y_shape)

        history = callbacks_module.History()
        user_callbacks = list(callbacks or [])
        stop_on_nonfinite = stop_on_nonfinite or any(
            isinstance(c, callbacks_module.TerminateOnNaN) for c in user_callbacks
        )
        # As in Keras: the progress bar first, the history last (so that it records what the
        # other callbacks add to the logs, such as the learning rate).
        all_callbacks = [callbacks_module.ProgbarLogger(verbose)] if verbose else []
        if self.optimizer._uses_python_schedule:
            all_callbacks.append(_PythonScheduleSync(self.optimizer))
        all_callbacks += [*user_callbacks, history]
        params = {"epochs": int(epochs), "steps": steps, "verbose": verbose}
        callback_list = callbacks_module.CallbackList(all_callbacks, self, params)
        history.params = params
        self.history = history
        self.stop_training = False
        callback_list.on_train_begin()
        try:
            report = _core.fit(
                self._graph,
                self.loss._core,
                [(name, metric._core) for name, metric in metric_pairs],
                self.optimizer._core,
                train_x,
                train_y,
                validation,
                epochs=int(epochs),
                initial_epoch=int(initial_epoch),
                batch_size=batch_size,
                shuffle=bool(shuffle),
                steps_per_epoch=steps_per_epoch,
                validation_batch_size=validation_batch_size,
                validation_steps=validation_steps,
                stop_on_nonfinite=stop_on_nonfinite,
                hooks=callback_list,
                every_batch=callback_list.every_batch,
            )
        except BaseException:
            if verbose == 1:
                sys.stdout.write("\n")
            raise
        history.stopped_on_nonfinite = None
        if report["nonfinite"] is not None:
            epoch, step, value = report["nonfinite"]
            history.stopped_on_nonfinite = {"epoch": epoch, "step": step, "loss": value}
            if verbose:
                sys.stdout.write("\n")
            print(
                f"Epoch {epoch + 1}, batch {step}: invalid loss {value}, terminating training "
                "(the update of that batch was not applied)"
            )
        if report["ran_out_of_data"]:
            warnings.warn(
                "Your input ran out of data; training stopped. Make sure the dataset can "
                "generate at least steps_per_epoch * epochs batches.",
                stacklevel=2,
            )
        callback_list.on_train_end()
        return history

    def _validation_source(self, validation_data, dtype):
        if validation_data is None:
            return None
        if _data.is_batch_iterable(validation_data):
            return (_data.as_batches(validation_data),)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) < 2:
            raise ValueError(
                "validation_data must be (x_val, y_val) or an iterable of batches, received "
                f"{type(validation_data).__name__}"
            )
        x_val = _data.as_rows(validation_data[0], dtype, "validation x")
        y_val = _data.as_rows(validation_data[1], dtype, "validation y")
        _data.check_lengths(x_val, y_val)
        if len(x_val) == 0:
            raise ValueError("validation_data is empty (0 samples)")
        self._check_targets(y_val)
        return (x_val, y_val)

    # --- evaluate and predict -------------------------------------------------------------

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        steps=None,
        callbacks=None,
        return_dict=False,
    ):
        """The loss and metrics on data, in inference mode.

        Returns:
            The loss alone when there are no metrics, else ``[loss, metric, ...]`` (or a dict
            with ``return_dict=True``).
        """
        self._require_compiled()
        batch_size = _data.positive_int(batch_size, "batch_size", default=32)
        verbose = _verbosity(verbose)
        dtype = self._dtype()
        if _data.is_batch_iterable(x):
            if y is not None:
                raise ValueError("when x is an iterable of (x, y) batches, y must be None")
            x, first = _peek(_data.as_batches(x))
            sample_shape, y_shape = _batch_shapes(first)
            total = steps or _length(x)
        else:
            if x is None or y is None:
                raise ValueError("evaluate() needs x and y (or x as an iterable of (x, y) batches)")
            x, y = _data.as_rows(x, dtype, "x"), _data.as_rows(y, dtype, "y")
            _data.check_lengths(x, y)
            if len(x) == 0:
                raise ValueError("evaluate() received empty arrays (0 samples)")
            sample_shape, y_shape = x.shape[1:], y.shape
            total = math.ceil(len(x) / batch_size)
            self._ensure_built(tuple(sample_shape))
            self._check_targets(y)
        self._ensure_built(tuple(sample_shape))
        metric_pairs = self._metrics_for(y_shape)
        progress = _LoopProgress(callbacks, self, "test", total, verbose)
        progress.begin()
        logs = _core.evaluate(
            self._graph,
            self.loss._core,
            [(name, metric._core) for name, metric in metric_pairs],
            x,
            y,
            batch_size=batch_size,
            steps=steps,
            hooks=progress,
            every_batch=progress.every_batch,
        )
        logs = dict(logs)
        progress.end(logs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for every sample of ``x`` (an array, or an iterable of batches),
        as a numpy array."""
        batch_size = _data.positive_int(batch_size, "batch_size", default=32)
        verbose = _verbosity(verbose)
        dtype = self._dtype()
        if _data.is_batch_iterable(x):
            x, first = _peek(_data.as_batches(x))
            sample_shape = _batch_shapes(first)[0]
            if steps is not None:
                x = itertools.islice(x, steps)
            total = steps or _length(x)
        else:
            x = _data.as_rows(x, dtype, "x")
            sample_shape = x.shape[1:]
            total = math.ceil(len(x) / batch_size)
        self._ensure_built(tuple(sample_shape))
        progress = _LoopProgress(callbacks, self, "predict", total, verbose)
        progress.begin()
        outputs = self._graph.predict(
            x, batch_size=batch_size, hooks=progress, every_batch=progress.every_batch
        )
        progress.end({})
        return outputs

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(len(x), 1), verbose=0)

    # --- saving --------------------------------------------------------------------------

    def save(self, filepath, include_optimizer=True) -> None:
        """Saves the architecture, the compile settings, the weights and (by default) the
        optimizer's state in one file, atomically; see ``ferrograd.saving``."""
        saving.save_model(self, filepath, include_optimizer=include_optimizer)

    def save_weights(self, filepath) -> None:
        """Saves the weights as a safetensors file (names like ``dense/kernel``), atomically."""
        saving.save_weights(self, filepath)

    def load_weights(self, filepath) -> None:
        """Loads weights saved by ``save_weights``; every name and shape is checked before any
        weight changes."""
        saving.load_weights(self, filepath)

    def get_config(self) -> dict:
        return saving.model_config(self)

    def __reduce__(self):
        """Pickling and ``copy.deepcopy`` (which scikit-learn's ``clone`` uses) go through the
        model file format: architecture, weights, compile settings and optimizer state; a
        ``Sequential`` not built yet is rebuilt from its layers' settings."""
        if self.built:
            return (saving.model_from_bytes, (saving.model_to_bytes(self),))
        if isinstance(self, Sequential):
            entries = [saving._layer_entry(layer) for layer in self._layers]
            return (saving.unbuilt_sequential, (self.name, entries))
        raise TypeError(f"the model {self.name!r} cannot be pickled before it is built")

    # --- summary -------------------------------------------------------------------------

    def summary(self, line_length=None, print_fn=None):
        """Prints a table of the layers with their output shapes and parameter counts."""
        print_fn = print_fn or print
        print_fn(summary_text(self, line_length))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


class Sequential(Model):
    """A plain stack of layers, each feeding the next.

    Args:
        layers: the layers, in order (or add them with ``add``). The first one may carry
            ``input_shape=``, or the list may start with ``layers.Input(shape=...)``;
            otherwise the model is built from the data at the first call or ``fit``.

    Example:
        >>> model = fg.Sequential([layers.Dense(64, activation="relu", input_shape=(20,)),
        ...                        layers.Dense(1, activation="sigmoid")])
    """

    def __init__(self, layers=None, name=None):
        super().__init__(name=name)
        self._input_shape = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer) -> None:
        if isinstance(layer, KerasTensor) and isinstance(layer._producer, InputLayer):
            if self._layers:
                raise ValueError("an Input can only start a Sequential model")
            self._input_shape = layer.shape[1:]
            return
        if isinstance(layer, InputLayer):
            self._input_shape = layer.shape[1:]
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add takes a layer, received {layer!r}")
        if not self._layers and self._input_shape is None and layer._input_shape_arg is not None:
            self._input_shape = layer._input_shape_arg
        self._layers.append(layer)
        self._graph = None
        if self._input_shape is not None:
            self.build((None, *self._input_shape))

    def pop(self) -> Layer:
        if not self._layers:
            raise ValueError("the model has no layers to pop")
        layer = self._layers.pop()
        self._graph = None
        if self._input_shape is not None and self._layers:
            self.build((None, *self._input_shape))
        return layer

    def build(self, input_shape) -> None:
        """Builds every layer for inputs of ``input_shape`` (batch axis first)."""
        shape = normalize_shape(input_shape)
        if not self._layers:
            raise ValueError("a Sequential model needs at least one layer")
        self._input_shape = shape[1:]
        nodes = [("input", list(shape))]
        self._node_of_layer = {}
        for index, layer in enumerate(self._layers):
            shape = layer.compute_output_shape(shape)
            self._node_of_layer[id(layer)] = len(nodes)
            nodes.append((index, [index]))
        self._graph = _core.Graph(
            [layer._core for layer in self._layers], nodes, [0], len(self._layers), self._dtype()
        )

    def _ensure_built(self, sample_shape) -> None:
        if self._graph is None:
            self.build((None, *sample_shape))

    @property
    def inputs(self):
        return [KerasTensor(self.input_shape)] if self._graph is not None else None


class _PythonScheduleSync(callbacks_module.Callback):
    """Evaluates a learning-rate schedule written in Python before every batch (which makes the
    loop call into Python each step; the built-in schedules run in Rust)."""

    def __init__(self, optimizer):
        super().__init__()
        self.optimizer = optimizer

    def on_train_batch_begin(self, batch, logs=None):
        self.optimizer._sync_learning_rate()


def _topological_order(output: KerasTensor) -> list:
    """Every symbolic tensor ``output`` depends on, each after its inputs (iteratively)."""
    order, done, stack = [], set(), [(output, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in done:
            continue
        done.add(id(tensor))
        stack.append((tensor, True))
        stack.extend((t, False) for t in reversed(tensor._inputs) if id(t) not in done)
    return order


def _peek(batches):
    """The first batch of an iterable and an iterable that still yields it."""
    iterator = iter(batches)
    try:
        first = next(iterator)
    except StopIteration:
        raise ValueError("the dataset yielded no batches") from None
    if iterator is batches:  # a generator or iterator: put the first batch back
        return itertools.chain([first], iterator), first
    return batches, first


def _batch_shapes(batch):
    if isinstance(batch, (tuple, list)):
        x = np.asarray(batch[0])
        y = np.asarray(batch[1]) if len(batch) > 1 else None
    else:
        x, y = np.asarray(batch), None
    return x.shape[1:], (y.shape if y is not None else (None,))


def _length(batches):
    try:
        return len(batches)
    except TypeError:
        return None


class _LoopProgress:
    """The callbacks and progress bar of ``evaluate`` or ``predict`` (what the Rust loop calls)."""

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


def summary_text(model: Model, line_length=None) -> str:
    """Keras's summary table: layers, output shapes, parameter counts and totals."""
    graph = model._require_graph()
    rows = []
    for layer in model.layers:
        if isinstance(layer, InputLayer):
            shape = layer.shape
        else:
            shape = graph.node_shape(model._node_of_layer[id(layer)])
        rows.append(
            (
                f"{layer.name} ({type(layer).__name__})",
                format_shape(shape),
                f"{layer.count_params():,}",
            )
        )
    widths = [max([31, *(len(r[0]) for r in rows)]), max([22, *(len(r[1]) for r in rows)]), 13]
    if line_length:
        widths[0] = max(widths[0], line_length - sum(widths[1:]) - 10)

    def line(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def cells(values, border):
        padded = [
            f" {values[0]:<{widths[0]}} ",
            f" {values[1]:<{widths[1]}} ",
            f" {values[2]:>{widths[2]}} ",
        ]
        return border + border.join(padded) + border

    out = [f'Model: "{model.name}"', line("┏", "┳", "┓", "━")]
    out.append(cells(("Layer (type)", "Output Shape", "Param #"), "┃"))
    out.append(line("┡", "╇", "┩", "━"))
    for i, row in enumerate(rows):
        out.append(cells(row, "│"))
        if i < len(rows) - 1:
            out.append(line("├", "┼", "┤", "─"))
    out.append(line("└", "┴", "┘", "─"))
    itemsize = np.dtype(model._dtype()).itemsize
    trainable = sum(w.size for w in model.trainable_weights)
    non_trainable = sum(w.size for w in model.non_trainable_weights)
    total = trainable + non_trainable
    out.append(f" Total params: {total:,} ({_format_bytes(total * itemsize)})")
    out.append(f" Trainable params: {trainable:,} ({_format_bytes(trainable * itemsize)})")
    out.append(
        f" Non-trainable params: {non_trainable:,} ({_format_bytes(non_trainable * itemsize)})"
    )
    return "\n".join(out)


def _format_bytes(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def load_model(filepath, compile=True):
    """The model saved by ``model.save(filepath)``, ready to predict and to continue training."""
    return saving.load_model(filepath, compile=compile)


__all__ = ["Model", "Sequential", "load_model"]
