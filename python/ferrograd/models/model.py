"""``Model``: a model built with the functional API, and the base of ``Sequential``: its
structure, weights, ``compile``, ``fit``/``evaluate``/``predict``, saving and ``summary``.

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

import sys
import warnings

import numpy as np

from ferrograd import _core, _data, losses, optimizers, saving
from ferrograd import callbacks as callbacks_module
from ferrograd import metrics as metrics_module
from ferrograd._core import Tensor
from ferrograd.data_adapter import PreparedData, prepare
from ferrograd.errors import NotCompiledError
from ferrograd.layers.input_layer import InputLayer
from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import Layer
from ferrograd.layers.naming import snake_case, unique_name
from ferrograd.layers.weights import WeightViews, set_tensor_values
from ferrograd.models.progress import LoopProgress, PythonScheduleSync, verbosity
from ferrograd.models.summary import summary_text
from ferrograd.models.topology import topological_order


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
        order = topological_order(outputs)
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
                metric = metrics_module.get(spec)  # rejects unknown names now, not in fit
                if metric is not None and metric._core is None:
                    raise ValueError(
                        f"compile(metrics=...): {metric!r} gives one value per class, but fit "
                        "logs one number per metric; use an average (e.g. average='macro')"
                    )

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

        Example:
            >>> history = model.fit(x, y, epochs=5, batch_size=32, validation_split=0.2)
            >>> history.history["val_loss"][-1]
        """
        self._require_compiled()
        # Every argument is checked before the first step, so that a bad one never fails after
        # an epoch has already changed the weights.
        batch_size = _data.positive_int(batch_size, "batch_size", default=32)
        epochs = _data.non_negative_int(epochs, "epochs")
        initial_epoch = _data.non_negative_int(initial_epoch, "initial_epoch")
        steps_per_epoch = _data.optional_positive_int(steps_per_epoch, "steps_per_epoch")
        validation_steps = _data.optional_positive_int(validation_steps, "validation_steps")
        validation_batch_size = _data.optional_positive_int(
            validation_batch_size, "validation_batch_size"
        )
        verbose = verbosity(verbose)
        data = prepare(
            x,
            y,
            mode="fit",
            dtype=self._dtype(),
            batch_size=batch_size,
            steps=steps_per_epoch,
            validation_split=validation_split,
            validation_data=validation_data,
        )
        self._ensure_built(data.sample_shape)
        self._check_targets_of(data)
        validation = None if data.validation is None else data.validation.as_validation()
        metric_pairs = self._metrics_for(data.y_shape)

        history = callbacks_module.History()
        user_callbacks = list(callbacks or [])
        stop_on_nonfinite = stop_on_nonfinite or any(
            isinstance(c, callbacks_module.TerminateOnNaN) for c in user_callbacks
        )
        # As in Keras: the progress bar first, the history last (so that it records what the
        # other callbacks add to the logs, such as the learning rate).
        all_callbacks = [callbacks_module.ProgbarLogger(verbose)] if verbose else []
        if self.optimizer._uses_python_schedule:
            all_callbacks.append(PythonScheduleSync(self.optimizer))
        all_callbacks += [*user_callbacks, history]
        params = {"epochs": int(epochs), "steps": data.steps, "verbose": verbose}
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
                data.x,
                data.y,
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

    def _check_targets_of(self, data: PreparedData) -> None:
        """Checks the targets of ``data`` and of its validation data, when they are arrays."""
        for prepared in (data, data.validation):
            if prepared is not None and prepared.y is not None:
                self._check_targets(prepared.y)

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

        Args:
            x, y: arrays of samples and targets, or ``x`` an iterable of ``(x, y)`` batches
                with ``y`` None.
            batch_size: samples per batch (default 32).
            verbose: "auto"/1 (progress bar) or 0 (silent).
            steps: the number of batches to read (default: all).
            callbacks: ``fg.callbacks`` instances.
            return_dict: return ``{"loss": ..., metric name: ...}``.

        Returns:
            The loss alone when there are no metrics, else ``[loss, metric, ...]`` (or a dict
            with ``return_dict=True``).

        Example:
            >>> loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
        """
        self._require_compiled()
        batch_size = _data.positive_int(batch_size, "batch_size", default=32)
        steps = _data.optional_positive_int(steps, "steps")
        verbose = verbosity(verbose)
        data = prepare(
            x, y, mode="evaluate", dtype=self._dtype(), batch_size=batch_size, steps=steps
        )
        self._ensure_built(data.sample_shape)
        self._check_targets_of(data)
        metric_pairs = self._metrics_for(data.y_shape)
        progress = LoopProgress(callbacks, self, "test", data.steps, verbose)
        progress.begin()
        logs = _core.evaluate(
            self._graph,
            self.loss._core,
            [(name, metric._core) for name, metric in metric_pairs],
            data.x,
            data.y,
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
        as a numpy array.

        Args:
            x: an array of samples, or an iterable of batches (``x`` or ``(x, y)``).
            batch_size: samples per batch (default 32).
            verbose: "auto"/1 (progress bar) or 0 (silent).
            steps: the number of batches to read from an iterable (default: all).
            callbacks: ``fg.callbacks`` instances.

        Example:
            >>> probabilities = model.predict(x_test, verbose=0)
        """
        batch_size = _data.positive_int(batch_size, "batch_size", default=32)
        steps = _data.optional_positive_int(steps, "steps")
        verbose = verbosity(verbose)
        data = prepare(x, mode="predict", dtype=self._dtype(), batch_size=batch_size, steps=steps)
        self._ensure_built(data.sample_shape)
        progress = LoopProgress(callbacks, self, "predict", data.steps, verbose)
        progress.begin()
        outputs = self._graph.predict(
            data.x, batch_size=batch_size, hooks=progress, every_batch=progress.every_batch
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
        return self._reduce_unbuilt()

    def _reduce_unbuilt(self):
        raise TypeError(f"the model {self.name!r} cannot be pickled before it is built")

    # --- summary -------------------------------------------------------------------------

    def summary(self, line_length=None, print_fn=None):
        """Prints a table of the layers with their output shapes and parameter counts."""
        print_fn = print_fn or print
        print_fn(summary_text(self, line_length))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"
