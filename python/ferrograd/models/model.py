"""``Model``: a model built with the functional API, and the base of ``Sequential``: its
structure, weights, ``compile``, ``fit``/``evaluate``/``predict``, saving and ``summary``.

The loops of ``fit``, ``evaluate`` and ``predict`` run in Rust with the GIL released; Python is
called back only for the progress bar and the callbacks.

Examples:
    >>> x20 = np.random.default_rng(0).normal(size=(64, 20)).astype("float32")
    >>> y20 = (x20[:, 0] > 0).astype("float32")
    >>> model = fg.Sequential([
    ...     layers.Dense(64, activation="relu", input_shape=(20,)),
    ...     layers.Dense(1, activation="sigmoid"),
    ... ])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(x20, y20, epochs=10, batch_size=32, validation_split=0.1, verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss', 'val_accuracy', 'val_loss']
"""

from __future__ import annotations

import dataclasses
import sys
import warnings

import numpy as np

from ferrograd import _core, _data, data_adapter, losses, optimizers, saving
from ferrograd import callbacks as callbacks_module
from ferrograd import metrics as metrics_module
from ferrograd._core import Tensor
from ferrograd.data_adapter import PreparedData, prepare, prepare_columns
from ferrograd.distribution._collective import MpiCollective
from ferrograd.distribution._fit import check_processes_agree, data_parallel_job
from ferrograd.distribution._world import is_writer
from ferrograd.distribution.broadcast import broadcast
from ferrograd.errors import NotCompiledError
from ferrograd.layers.input_layer import InputLayer
from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import (
    Layer,
    add_loss_to,
    is_python_defined,
    python_losses,
    python_variables,
    python_weight_entries,
    sublayers,
)
from ferrograd.layers.naming import snake_case, unique_name
from ferrograd.layers.weights import WeightViews, set_tensor_values
from ferrograd.models import eager_loop
from ferrograd.models.eager_loop import EagerSteps
from ferrograd.models.progress import LoopProgress, PythonScheduleSync, verbosity
from ferrograd.models.python_metrics import python_metrics
from ferrograd.models.summary import summary_text
from ferrograd.models.topology import topological_order


class Model(EagerSteps, WeightViews):
    """A model built with the functional API: ``Model(inputs=..., outputs=...)``.

    Args:
        inputs: the ``layers.Input(...)`` tensor(s) the model starts from.
        outputs: the tensor the layer calls produced from them.
        name: the model's name.

    Examples:
        >>> inputs = layers.Input(shape=(784,))
        >>> hidden = layers.Dense(128, activation="relu")(inputs)
        >>> outputs = layers.Dense(10, activation="softmax")(hidden)
        >>> model = fg.Model(inputs=inputs, outputs=outputs)
    """

    def __new__(cls, *args, **kwargs):
        model = super().__new__(cls)
        # The constructor's arguments, for a subclassed model's default get_config (Keras 3
        # captures them the same way).
        model.__dict__["_init_arguments"] = (args, dict(kwargs))
        return model

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, dtype=None):
        default = "functional" if type(self) is Model else snake_case(type(self).__name__)
        # A subclass that writes its own call() (Keras's subclassed model) is traced into a
        # graph when it is built; `_python_dtype` is the dtype it computes in.
        self._python_dtype = np.dtype(dtype or "float32").name
        self.name = name or unique_name(default)
        self.optimizer = None
        self.loss = None
        self._metric_specs: list = []
        self._graph = None
        self._layers: list[Layer] = []
        # The graph node of each layer's first application (for output shapes in summaries).
        self._node_of_layer: dict[int, int] = {}
        self._trainable = True
        self._many_outputs = False
        self._output_keys = None
        self._inputs = None
        self._outputs = None
        self.stop_training = False
        self.history = None
        self._trainable = bool(trainable)
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("a functional Model needs both inputs= and outputs=")
            self._init_functional(inputs, outputs)

    # --- structure ---------------------------------------------------------------------

    def _init_functional(self, inputs, outputs) -> None:
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        # Outputs given as a dict (Keras 3's `outputs={"priority": ..., ...}`) are named by
        # their keys, and predict returns a dict with those keys.
        self._output_keys = None
        if isinstance(outputs, dict):
            self._output_keys = [str(key) for key in outputs]
            self.output_names = list(self._output_keys)
            outputs = list(outputs.values())
        self._many_outputs = isinstance(outputs, (list, tuple))
        outputs = list(outputs) if self._many_outputs else [outputs]
        if not outputs:
            raise ValueError("a functional Model needs at least one output")
        if len(outputs) == 1 and self._output_keys is None:
            self._many_outputs = False
        for tensor in [*inputs, *outputs]:
            if not isinstance(tensor, KerasTensor):
                raise TypeError(
                    "Model(inputs, outputs) takes the symbolic tensors of layers.Input(...) and "
                    f"of layer calls on them; received {tensor!r}"
                )
        for tensor in inputs:
            if not isinstance(tensor._producer, InputLayer):
                raise ValueError(
                    f"model inputs must come from layers.Input(...), received {tensor!r}"
                )
        order = topological_order(outputs)
        input_ids = {id(t) for t in inputs}
        for tensor in order:
            if isinstance(tensor._producer, InputLayer) and id(tensor) not in input_ids:
                raise ValueError(
                    f"the graph is disconnected: {tensor._producer.name!r} is used but not listed "
                    f"in inputs= (inputs: {[t._producer.name for t in inputs]})"
                )
        # Inputs come first, in the order given, as graph nodes 0..n-1.
        node_of = {id(t): (i, 0) for i, t in enumerate(inputs)}
        nodes = [("input", [None, *t.shape[1:]]) for t in inputs]
        self._wiring = [{"layer": None, "inputs": []} for _ in inputs]
        node_of_call, core_layers, layer_index = {}, [], {}
        self._layers = [t._producer for t in inputs]
        self._node_of_layer = {}
        for tensor in order:
            if id(tensor) in node_of:
                continue
            producer, call = tensor._producer, tensor._call
            if call is None or producer is None:
                raise ValueError(f"{tensor!r} was not made by a layer call")
            if id(call) not in node_of_call:
                refs = [node_of[id(t)] for t in call.inputs]
                # As a model file stores the wiring: a node index, or [node, output index].
                sources = [r[0] if r[1] == 0 else list(r) for r in refs]
                if isinstance(producer, Model):
                    node = ("model", producer._require_graph(), refs, producer.name, call.training)
                elif is_python_defined(producer):
                    # A layer written in Python: its call() traced into a graph of its own.
                    graph = producer.__dict__["_traced"].graph
                    node = ("model", graph, refs, producer.name, call.training)
                else:
                    if id(producer) not in layer_index:
                        layer_index[id(producer)] = len(core_layers)
                        core_layers.append(producer)
                    node = (layer_index[id(producer)], refs, call.training)
                if id(producer) not in self._node_of_layer:
                    self._layers.append(producer)
                    self._node_of_layer[id(producer)] = len(nodes)
                node_of_call[id(call)] = len(nodes)
                nodes.append(node)
                wiring = {"layer": producer.name, "inputs": sources}
                if call.training is not None:
                    wiring["training"] = call.training
                self._wiring.append(wiring)
            node_of[id(tensor)] = (node_of_call[id(call)], tensor._index)
        names = [layer.name for layer in self._layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"the model has several layers named {duplicates}; names must be unique"
            )
        self._inputs, self._outputs = inputs, outputs
        self._output_refs = [node_of[id(t)] for t in outputs]
        self._output_node = self._output_refs[0][0]
        refs = self._output_refs if self._many_outputs else self._output_refs[0]
        self._graph = _core.Graph(
            [layer._core for layer in core_layers],
            nodes,
            list(range(len(inputs))),
            refs,
            self._dtype(),
        )
        self._graph.trainable = self._trainable

    def _dtype(self) -> str:
        if is_python_defined(self):
            return self._python_dtype
        real = [layer for layer in self._layers if not isinstance(layer, InputLayer)]
        if not real:
            return "float32"
        return real[0]._dtype() if isinstance(real[0], Model) else real[0].dtype

    @property
    def dtype(self) -> str:
        """The float dtype the model computes in."""
        return self._dtype()

    @property
    def trainable(self) -> bool:
        """Whether training updates the model's weights; ``False`` freezes all of them (a
        base model used as a layer)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        if self._graph is not None:
            self._graph.trainable = self._trainable
        # As in Keras, the flag reaches every layer, those of nested models too: after
        # `model.trainable = False`, `inner_model.layers[0].trainable` reads False.
        for layer in self._layers:
            if not isinstance(layer, InputLayer):
                layer.trainable = self._trainable

    @property
    def inputs(self):
        """The symbolic inputs (a list), or None when the model has none yet."""
        return None if self._inputs is None else list(self._inputs)

    @property
    def outputs(self):
        """The symbolic outputs (a list), or None when the model has none yet."""
        return None if self._outputs is None else list(self._outputs)

    @property
    def input(self):
        """The symbolic input, or the list of them when the model has several."""
        inputs = self.inputs
        if inputs is None:
            raise ValueError(f"the model {self.name!r} has no defined input yet")
        return inputs[0] if len(inputs) == 1 else list(inputs)

    @property
    def output(self):
        """The symbolic output, or the list of them when the model has several."""
        outputs = self.outputs
        if outputs is None:
            raise ValueError(f"the model {self.name!r} has no defined output yet")
        return outputs[0] if len(outputs) == 1 and not self._many_outputs else list(outputs)

    def compute_output_shape(self, input_shape):
        """The output shape(s) of the model used as a layer (building a ``Sequential``).

        Args:
            input_shape: the input shape, batch axis first (``(None, 3)``), or a list of
                shapes for a model with several inputs.

        Returns:
            The output shape as a tuple, or a list of tuples for a model with several outputs.

        Examples:
            >>> model.compute_output_shape((None, 3))
            (None, 1)
        """
        from ferrograd.layers.shapes import shape_list

        shapes = shape_list(input_shape)
        self._ensure_built(tuple(shapes[0][1:]))
        out = [tuple(s) for s in self._require_graph().output_shapes]
        return list(out) if self._many_outputs else out[0]

    @property
    def layers(self) -> list:
        if is_python_defined(self):
            return sublayers(self)
        return list(self._layers)

    def get_layer(self, name=None, index=None) -> Layer:
        """The layer called ``name``, or at position ``index`` of ``layers`` (give one).

        Args:
            name: the layer's name.
            index: its position in ``model.layers``.

        Examples:
            >>> model.get_layer(index=0).units
            2
        """
        if (name is None) == (index is None):
            raise ValueError("get_layer takes exactly one of name= and index=")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(
                    f"get_layer: index={index} is out of range; the model has "
                    f"{len(self._layers)} layers"
                )
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
            if is_python_defined(self):
                self.build((None, *sample_shape))
                return
            raise ValueError(f"the model {self.name!r} has no layers to build")

    def build(self, input_shape) -> None:
        """Builds a subclassed model (one that defines ``call``) for inputs of
        ``input_shape``: runs its ``build`` if it has one, then traces ``call`` into the graph
        that ``fit``, ``evaluate`` and ``predict`` run in Rust.

        Args:
            input_shape: the input shape, batch axis first (``(None, 3)``), or a list of
                shapes for a model that takes several inputs.

        Raises:
            TracingError: ``call`` cannot be traced (it reads tensor values, or takes
                different paths for different batches); ``compile(run_eagerly=True)`` runs
                it in Python instead.

        Examples:
            >>> class TwoLayers(fg.Model):
            ...     def __init__(self):
            ...         super().__init__()
            ...         self.hidden = layers.Dense(4, activation="relu")
            ...         self.out = layers.Dense(1)
            ...     def call(self, inputs):
            ...         return self.out(self.hidden(inputs))
            >>> net = TwoLayers()
            >>> net.build((None, 3))
            >>> net.output_shape
            (None, 1)
        """
        from ferrograd import tracing
        from ferrograd.layers.shapes import shape_list

        if not is_python_defined(self):
            raise ValueError(
                f"model {self.name!r} is built from its layers; build(input_shape) is for "
                "subclassed models and Sequential"
            )
        shapes = [tuple(s) for s in shape_list(input_shape)]
        many = (
            isinstance(input_shape, list)
            and bool(input_shape)
            and isinstance(input_shape[0], (list, tuple))
        )

        def run(tensors, mode):
            return self._call_python(tensors if many else tensors[0], mode)

        traced = tracing.trace_function(
            run,
            shapes,
            [self._python_dtype] * len(shapes),
            self._python_dtype,
            lambda: python_variables(self),
            f"call() of model {self.name!r}",
        )
        self._graph = traced.graph
        self._graph.trainable = self._trainable
        self._many_outputs = traced.many_outputs
        self._traced_layers = traced.layers

    def call(self, inputs, training=None, mask=None):
        """The model's computation: a functional model runs its graph; a subclass overrides
        it with its own (sublayers set as attributes, ``ferrograd.ops``), as in Keras.

        Args:
            inputs: a tensor, or a list of tensors for a model with several inputs.
            training: whether the call is in training mode.
            mask: accepted for Keras's signature (masks ride along in the graph).

        Returns:
            A tensor, or a list of tensors.

        Examples:
            >>> model.call(fg.ones(1, 3)).shape
            (1, 1)
        """
        return self(inputs, training=training)

    def add_loss(self, loss) -> None:
        """Adds a loss term computed in a subclassed model's ``call`` (Keras's
        ``add_loss``): training adds it to the compiled loss.

        Args:
            loss: a scalar tensor.

        Examples:
            >>> class WithPenalty(fg.Model):
            ...     def __init__(self):
            ...         super().__init__()
            ...         self.dense = layers.Dense(1)
            ...     def call(self, inputs):
            ...         out = self.dense(inputs)
            ...         self.add_loss(0.01 * fg.ops.mean(fg.ops.square(out)))
            ...         return out
            >>> net = WithPenalty()
            >>> _ = net(np.ones((2, 3), dtype="float32"))
            >>> len(net.losses)
            1
        """
        add_loss_to(self, loss)

    def _call_python(self, inputs, training=None, **kwargs):
        """Runs a subclassed model's ``call`` in Python on tensors."""
        from ferrograd.layers.layer import accepts_argument

        self.__dict__["_added_losses"] = []  # as Keras, each call starts them afresh
        many = isinstance(inputs, (list, tuple))
        items = list(inputs) if many else [inputs]
        items = [
            t if isinstance(t, Tensor) else _core.tensor(np.asarray(t), dtype=self._python_dtype)
            for t in items
        ]
        if accepts_argument(self.call, "training"):
            kwargs["training"] = training
        return self.call(items if many else items[0], **kwargs)

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
        if is_python_defined(self):
            # By attribute path, the same in every instance of the class (saving, loading).
            return [(n, t, tr) for n, t, tr, _ in python_weight_entries(self)]
        if self._graph is not None:
            return self._graph.weights()
        return []

    def parameters(self) -> list:
        """The trainable weights (PyTorch's spelling)."""
        return self.trainable_weights

    def named_weights(self) -> list:
        """``(path, tensor)`` pairs with stable paths like ``"dense/kernel"``."""
        return [(path, tensor) for path, tensor, _ in self._weight_entries()]

    def get_weights(self) -> list:
        """The values of every weight (trainable or not), as numpy arrays in ``weights`` order.

        Returns:
            A list of numpy arrays, copies of the weights.

        Examples:
            >>> [w.shape for w in model.get_weights()]
            [(3, 2), (2,), (2, 1), (1,)]
        """
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Sets every weight from arrays in ``weights`` order (what ``get_weights`` returns).

        Args:
            weights: a list of arrays, one per weight, of the weights' shapes.

        Raises:
            ValueError: the number of arrays or a shape differs; no weight has changed then.

        Examples:
            >>> values = model.get_weights()
            >>> model.set_weights(values)
            >>> np.array_equal(model.get_weights()[0], values[0])
            True
        """
        set_tensor_values(self.weights, weights, f"model {self.name!r}")

    def count_params(self) -> int:
        """The number of values in all the weights, trainable or not.

        Returns:
            An int.

        Examples:
            >>> model.count_params()  # (3 * 2 + 2) + (2 * 1 + 1)
            11
        """
        return int(sum(w.size for w in self.weights))

    def zero_grad(self) -> None:
        """Clears the gradients of the trainable weights (before a new ``backward()``)."""
        for weight in self.trainable_weights:
            weight.grad = None

    @property
    def losses(self) -> list:
        """The weight penalties of the layers' regularizers, one scalar tensor per regularized
        trainable weight, as Keras lists them (their sum is what training adds to the loss).
        For a subclassed model, also the losses its last eager call added (``add_loss``)."""
        if is_python_defined(self):
            return python_losses(self)
        if self._graph is None:
            return []
        terms = []
        for layer in self.layers:
            if isinstance(layer, Model):
                terms += layer.losses if layer.trainable else []
            elif is_python_defined(layer):
                terms += python_losses(layer) if layer.trainable else []
            elif not isinstance(layer, InputLayer) and layer.built and layer.trainable:
                terms += _weight_penalties(layer)
        return terms

    # --- calling -------------------------------------------------------------------------

    def __call__(self, inputs, training=None, **kwargs):
        """The model applied to a batch (a Tensor that records a graph when gradients are
        enabled, for a hand-written training loop; a list of Tensors when the model has several
        outputs), or, on symbolic tensors, the model used as a layer of a functional graph.

        Args:
            inputs: an array/Tensor, or a list of them for a model with several inputs; or the
                symbolic tensor(s) of a functional graph.
            training: whether the call is in training mode (default: inference). On symbolic
                tensors, None lets the nested model follow the outer model's mode, and
                ``training=False`` keeps it in inference mode even while the outer model trains
                (its dropout off, its batch normalisation on moving statistics), as in Keras's
                transfer-learning recipe.
        """
        from ferrograd.layers.keras_tensor import symbolic_call
        from ferrograd.layers.layer import check_call_kwargs

        many = isinstance(inputs, (list, tuple))
        items = list(inputs) if many else [inputs]
        symbolic = any(isinstance(t, KerasTensor) for t in items)
        if is_python_defined(self) and not symbolic:
            # Eager, as PyTorch: the Python call() on the Rust autograd (a hand-written loop,
            # run_eagerly, train_step). Traced code calling this model inlines its ops.
            return self._call_python(inputs, training, **kwargs)
        check_call_kwargs(self, kwargs)
        if symbolic:
            if not all(isinstance(t, KerasTensor) for t in items):
                raise TypeError(
                    f"model {self.name!r} was called on a mix of symbolic tensors and values"
                )
            self._ensure_built(tuple(items[0].shape[1:]))
            graph = self._require_graph()
            expected = graph.input_shapes
            if len(items) != len(expected):
                raise ValueError(
                    f"model {self.name!r} takes {len(expected)} inputs, received {len(items)}"
                )
            shapes = [tuple(s) for s in graph.output_shapes]
            out = shapes if self._many_outputs else shapes[0]
            return symbolic_call(self, items, out, self._dtype(), many, training)
        items = [
            t if isinstance(t, Tensor) else _core.tensor(np.asarray(t), dtype=self._dtype())
            for t in items
        ]
        self._ensure_built(tuple(items[0].shape[1:]))
        graph = self._require_graph()
        from ferrograd.tracing import run_builtin

        if self._many_outputs:
            return run_builtin(
                self, items, lambda mode: list(graph.forward_all(items, bool(mode))), training
            )
        return run_builtin(self, items, lambda mode: graph.forward(items, bool(mode)), training)

    # --- compile -------------------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, **kwargs):
        """Configures training.

        Args:
            optimizer: a name (``"adam"``, case-insensitive) or an optimizer instance.
            loss: a name (``"binary_crossentropy"``, ``"mse"``, ...), a loss instance, or a
                loss written in Python (a function ``(y_true, y_pred)`` or a ``fg.losses.Loss``
                subclass, which trains in Python per batch); for a model with several outputs,
                one applied to every output, a list (one per output) or a dict by output name.
                None (default) for a model whose ``train_step`` computes its own loss.
            loss_weights: for several outputs, a list or a dict by output name of the factors
                the output losses are multiplied by before they are summed (default 1 each).
            metrics: a list of names (``"accuracy"``, ``"auc"``, ...), metric instances
                (``fg.metrics.Metric`` subclasses written in Python too) or metric functions
                ``(y_true, y_pred)``; for several outputs, a list with one entry (a metric or a
                list) per output, or a dict by output name. Logged as ``{output}_{metric}``.
            **kwargs: ``run_eagerly=True`` runs ``fit``, ``evaluate`` and ``predict`` in
                Python, one step per batch (see ``train_step``); ``jit_compile`` and
                ``steps_per_execution`` are accepted and have no effect.

        Examples:
            >>> model.compile(optimizer="adam", loss={"priority": "mse", "department":
            ...     "categorical_crossentropy"}, loss_weights=[1.0, 0.2],
            ...     metrics={"department": ["accuracy"]})
        """
        weighted_metrics = kwargs.pop("weighted_metrics", None)
        if weighted_metrics:
            raise ValueError(
                "compile(weighted_metrics=...) is not supported yet: ferrograd's metrics are not "
                f"weighted by sample_weight (received weighted_metrics={weighted_metrics!r}); "
                "pass them in metrics= (unweighted, as Keras 3's metrics= are)"
            )
        unsupported = set(kwargs) - {"run_eagerly", "jit_compile", "steps_per_execution"}
        if unsupported:
            raise TypeError(f"compile() got unexpected arguments: {', '.join(sorted(unsupported))}")
        self.run_eagerly = bool(kwargs.get("run_eagerly") or False)
        self.optimizer = optimizers.get(optimizer)
        if isinstance(loss, dict):
            self.loss = {name: losses.get(value) for name, value in loss.items()}
        elif isinstance(loss, (list, tuple)):
            self.loss = [losses.get(value) for value in loss]
        else:
            self.loss = losses.get(loss)
        if loss_weights is not None:
            values = loss_weights.values() if isinstance(loss_weights, dict) else loss_weights
            if not isinstance(loss_weights, (dict, list, tuple)) or not all(
                isinstance(w, (int, float)) and not isinstance(w, bool) for w in values
            ):
                raise ValueError(
                    "loss_weights must be a list or a dict of numbers, received "
                    f"loss_weights={loss_weights!r}"
                )
        self.loss_weights = loss_weights
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, metrics_module.Metric)):
            metrics = [metrics]
        self._metric_specs = dict(metrics) if isinstance(metrics, dict) else list(metrics)
        flat = []
        for entry in (
            self._metric_specs.values()
            if isinstance(self._metric_specs, dict)
            else self._metric_specs
        ):
            flat.extend(entry if isinstance(entry, (list, tuple)) else [entry])
        for spec in flat:
            if spec is not None and not (isinstance(spec, str) and spec in ("accuracy", "acc")):
                metric = metrics_module.get(spec)  # rejects unknown names now, not in fit
                if metric is not None and not getattr(metric, "_one_value", True):
                    raise ValueError(
                        f"compile(metrics=...): {metric!r} gives one value per class, but fit "
                        "logs one number per metric; use an average (e.g. average='macro')"
                    )

    # --- several inputs and outputs --------------------------------------------------------

    def _io_names(self) -> tuple[list, list]:
        """The model's input names (its ``Input`` layers) and output names (the layers that
        produce its outputs), as Keras 3 names them; ``input_{i}``/``output_{i}`` where the
        model does not know them."""
        graph = self._require_graph()
        count_in, count_out = len(graph.input_shapes), len(graph.output_shapes)

        def names(tensors, count, default):
            found = [getattr(getattr(t, "_producer", None), "name", None) for t in tensors or []]
            if len(found) == count and all(found):
                return found
            return [f"{default}_{i}" for i in range(count)]

        explicit_out = getattr(self, "output_names", None)
        outputs = (
            list(explicit_out)
            if isinstance(explicit_out, (list, tuple)) and len(explicit_out) == count_out
            else names(getattr(self, "outputs", None), count_out, "output")
        )
        return names(getattr(self, "inputs", None), count_in, "input"), outputs

    def _is_multi(self) -> bool:
        """Whether the model has several inputs or several outputs."""
        if self._graph is None:
            return False
        return len(self._graph.input_shapes) > 1 or len(self._graph.output_shapes) > 1

    def _per_output(self, value, names: list, what: str, default=None) -> list:
        """A compile argument as one entry per output: a dict by output name, a list in order,
        or (not a list) the same value for every output."""
        if isinstance(value, dict):
            unknown = [k for k in value if k not in names]
            if unknown:
                raise ValueError(
                    f"{what} names outputs {unknown} the model does not have; its outputs are "
                    f"{names}"
                )
            return [value.get(name, default) for name in names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError(
                    f"for a model with {len(names)} outputs ({names}), {what} given as a list "
                    f"must have {len(names)} entries, received {len(value)}"
                )
            return list(value)
        return [value] * len(names)

    def _core_arguments(self, data) -> dict:
        """What ``_core.fit``/``evaluate`` take as the losses and metrics: one loss and its
        metrics for a one-output model compiled with one loss, else the lists of
        ``_core_compiled``."""
        if (
            not self._is_multi()
            and not isinstance(self.loss, (list, dict))
            and getattr(self, "loss_weights", None) is None
        ):
            metric_pairs = self._metrics_for(data.y_shape)
            return {
                "loss": self._core_loss(self.loss, data.y_shape, 0),
                "metrics": [(n, m._core) for n, m in metric_pairs if m._core is not None],
                "python_metrics": python_metrics(
                    [(0, n, m) for n, m in metric_pairs if m._core is None]
                ),
            }
        y_shapes = data.y_shape if self._is_multi() else [data.y_shape]
        return self._core_compiled(y_shapes)

    def _prepare(self, x, y=None, **kwargs) -> PreparedData:
        """``prepare`` the data, as lists of arrays (one per input and output) for a model with
        several inputs or outputs."""
        string_steps = getattr(self, "_string_steps", None)
        if string_steps:
            # A Sequential model that starts with TextVectorization/StringLookup: their string
            # step runs here, in Python, before the numeric graph sees the data.
            x = _run_steps(string_steps, x)
            validation_data = kwargs.get("validation_data")
            if isinstance(validation_data, (list, tuple)) and validation_data:
                kwargs["validation_data"] = (
                    _run_steps(string_steps, validation_data[0]),
                    *validation_data[1:],
                )
        x = self._adjust_input_rank(x)
        validation = kwargs.get("validation_data")
        if isinstance(validation, (list, tuple)) and len(validation) >= 2:
            kwargs["validation_data"] = (self._adjust_input_rank(validation[0]), *validation[1:])
        if self._is_multi():
            inputs, outputs = self._io_names()
            return prepare_columns(
                x, y, dtype=self._dtype(), inputs=inputs, outputs=outputs, **kwargs
            )
        return prepare(x, y, dtype=self._dtype(), **kwargs)

    def _adjust_input_rank(self, x):
        """``x`` with Keras's rank adjustment of array inputs: an array one axis short of an
        input whose last dimension is 1 gets that axis (a column of values, such as a pandas
        Series, for ``Input(shape=(1,))``), and one with an extra last axis of 1 loses it.
        Anything else is left for the data checks to accept or refuse."""
        if self._graph is None:
            return x
        shapes = [list(shape) for shape in self._graph.input_shapes]

        def adjusted(value, shape):
            if isinstance(value, Tensor) or not hasattr(value, "ndim"):
                return value
            if value.ndim == len(shape) - 1 and shape[-1] == 1:
                return np.expand_dims(np.asarray(value), -1)
            if value.ndim == len(shape) + 1 and value.ndim > 0 and value.shape[-1] == 1:
                return np.squeeze(np.asarray(value), -1)
            return value

        if len(shapes) == 1:
            return adjusted(x, shapes[0])
        if isinstance(x, dict):
            names = self._io_names()[0]
            return {
                key: adjusted(value, shapes[names.index(key)]) if key in names else value
                for key, value in x.items()
            }
        if isinstance(x, (list, tuple)) and len(x) == len(shapes):
            return [adjusted(value, shape) for value, shape in zip(x, shapes, strict=True)]
        return x

    def _core_loss(self, loss, y_shape, output: int):
        """The core loss of one output: a built-in's own, or a Python loss traced for this
        output's targets and predictions."""
        from ferrograd.losses.traced_loss import core_loss

        y_pred_shape = tuple(self._require_graph().output_shapes[output])
        return core_loss(loss, y_shape, y_pred_shape, self._dtype())

    def _core_compiled(self, y_shapes) -> dict:
        """The losses, metrics, loss weights and output names ``_core.fit``/``evaluate`` take
        for a model with several inputs or outputs."""
        _, outputs = self._io_names()
        per_loss = self._per_output(self.loss, outputs, "loss")
        missing = [name for name, loss in zip(outputs, per_loss, strict=True) if loss is None]
        if missing:
            raise ValueError(f"compile() gave no loss for the outputs {missing}")
        weights = None
        loss_weights = getattr(self, "loss_weights", None)
        if loss_weights is not None:
            weights = [
                float(w) for w in self._per_output(loss_weights, outputs, "loss_weights", 1.0)
            ]
        specs = self._metric_specs
        if isinstance(specs, list) and len(outputs) > 1 and specs:
            if len(specs) != len(outputs):
                raise ValueError(
                    f"for a model with {len(outputs)} outputs ({outputs}), metrics given as a "
                    f"list must have one entry per output, received {len(specs)}; pass a dict "
                    "by output name to give metrics to some outputs only"
                )
        per_metrics = (
            self._per_output(specs, outputs, "metrics", []) if specs else [[]] * len(outputs)
        )
        y_shapes = y_shapes or [None] * len(outputs)
        metric_lists, in_python = [], []
        for index, (name, entry) in enumerate(zip(outputs, per_metrics, strict=True)):
            entry = [] if entry is None else entry
            entry = list(entry) if isinstance(entry, (list, tuple)) else [entry]
            pairs = self._metrics_for(
                y_shapes[index] or (None,), specs=entry, output=index, loss=per_loss[index]
            )
            prefix = f"{name}_" if len(outputs) > 1 else ""
            metric_lists.append([(prefix + n, m._core) for n, m in pairs if m._core is not None])
            in_python += [(index, prefix + n, m) for n, m in pairs if m._core is None]
        return {
            "loss": [
                self._core_loss(loss, y_shapes[index] or (None,), index)
                for index, loss in enumerate(per_loss)
            ],
            "metrics": metric_lists,
            "loss_weights": weights,
            "output_names": outputs,
            "python_metrics": python_metrics(in_python),
        }

    @property
    def metrics_names(self) -> list:
        """The names of the values ``evaluate`` returns, in its order (``["loss",
        "accuracy"]``), so that ``dict(zip(model.metrics_names, model.evaluate(x, y)))`` names
        them; empty until the model has been trained or evaluated, as in Keras.

        Examples:
            >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
            >>> results = model.evaluate(x_test, y_test, verbose=0)
            >>> model.metrics_names
            ['loss', 'accuracy']
        """
        names = getattr(self, "_metrics_names", None)
        if names is None and self.history is not None:
            names = [name for name in self.history.history if not name.startswith("val_")]
        return list(names or [])

    @property
    def compiled(self) -> bool:
        # A model compiled without a loss trains with its own train_step (Keras allows it).
        return self.optimizer is not None

    def _require_compiled(self) -> None:
        if not self.compiled:
            raise NotCompiledError(
                f"the model {self.name!r} must be compiled before training or evaluation: call "
                "model.compile(optimizer=..., loss=...)"
            )

    def _metrics_for(self, y_shape, specs=None, output=0, loss=None) -> list:
        """``(log name, metric)`` pairs for output ``output`` (default: the compiled metrics of
        a one-output model); "accuracy" picks its kind from the shapes, like Keras."""
        resolved = []
        specs = self._metric_specs if specs is None else specs
        loss = self.loss if loss is None else loss
        batch = y_shape[0] if y_shape and y_shape[0] is not None else 1
        output_shape = self._require_graph().output_shapes[output]
        prediction_shape = [batch if d is None else d for d in output_shape]
        for spec in specs:
            if isinstance(spec, str):
                if spec in ("accuracy", "acc"):
                    y_known = [batch if d is None else d for d in y_shape]
                    kind = metrics_module.resolve_accuracy(y_known, prediction_shape, loss=loss)
                    resolved.append((spec, metrics_module.get(kind)))
                else:
                    resolved.append((spec, metrics_module.get(spec)))
            else:
                metric = metrics_module.get(spec)
                resolved.append((metric.name, metric))
        return resolved

    def _check_targets(self, y: np.ndarray, loss=None, output=0) -> None:
        """Rejects labels a sparse cross-entropy cannot take, before any training."""
        loss = self.loss if loss is None else loss
        if not isinstance(loss, losses.SparseCategoricalCrossentropy):
            return
        classes = self._require_graph().output_shapes[output][-1]
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
        class_weight=None,
        sample_weight=None,
        validation_freq=1,
    ):
        """Trains the model.

        Args:
            x, y: arrays (numpy, memory maps, Tensors) of samples and targets; for a model
                with several inputs (outputs), a list of arrays in the model's order or a dict
                by input (output) name; or ``x`` an iterable of ``(x, y)`` batches (a generator
                or a ``PyDataset``-like object; ``x`` and ``y`` lists or dicts for several
                inputs or outputs) with ``y`` None.
            batch_size: samples per update (default 32).
            epochs: the epoch to stop at (``initial_epoch`` is where to start).
            verbose: "auto"/1 (progress bar), 2 (one line per epoch), 0 (silent).
            callbacks: ``fg.callbacks`` instances.
            validation_split: the last fraction of x and y held out, taken before shuffling.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)``
                (overrides ``validation_split``), or an iterable of batches.
            shuffle: reshuffle the training samples each epoch.
            steps_per_epoch: batches per epoch (needed for endless generators).
            stop_on_nonfinite: stop at the first NaN or infinite loss, before its update, and
                record where in ``history.stopped_on_nonfinite``.
            class_weight: a dict from class index to weight (one-output models): each sample's
                loss is multiplied by its class's weight (1 for a class left out), as Keras
                does by turning it into sample weights.
            sample_weight: per-sample weights of the loss, an array of shape ``(samples,)``
                (``(samples, timesteps)`` for a sequence loss); for several outputs one array
                for all or a list/dict by output name. As in Keras 3, a batch's loss is
                ``sum(weight * loss) / batch_size``; ``metrics`` are not weighted.
            validation_freq: validate after every ``n``-th epoch (an int), or after the
                listed epochs (counting from 1); other epochs have no ``val_`` logs.

        Returns:
            A ``History`` (also ``model.history``): ``history.history["loss"]``, ...; with
            several outputs also ``{output}_loss`` and ``{output}_{metric}`` (and ``val_...``).

        Examples:
            >>> history = model.fit(x, y, epochs=5, batch_size=8, validation_split=0.25, verbose=0)
            >>> len(history.history["val_loss"])
            5
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
        validation_freq = _validation_freq(validation_freq)
        if class_weight is not None and sample_weight is not None:
            raise ValueError(
                "fit: class_weight and sample_weight cannot be given together (as in Keras); "
                "multiply the class weights into sample_weight instead"
            )
        data = self._prepare(
            x,
            y,
            mode="fit",
            batch_size=batch_size,
            steps=steps_per_epoch,
            validation_split=validation_split,
            validation_data=validation_data,
            sample_weight=sample_weight,
        )
        self._ensure_built(data.sample_shape)
        self._check_targets_of(data)
        if class_weight is not None:
            data = self._with_class_weight(data, class_weight)
        validation = None if data.validation is None else data.validation.as_validation()
        eager = eager_loop.runs_eagerly(self, "train")
        compiled = None if eager else self._core_arguments(data)
        # DataParallel in a job of several processes: the processes must agree before the first
        # step; only process 0 shows progress.
        job = data_parallel_job()
        if job is not None:
            if eager or (compiled or {}).get("python_metrics") is not None:
                raise ValueError(
                    "DataParallel training runs the Rust loop: a model that runs eagerly "
                    "(run_eagerly, train_step) or has metrics written in Python cannot be "
                    "trained across processes"
                )
            check_processes_agree(
                job,
                self,
                data,
                {
                    "batch_size": batch_size,
                    "epochs": int(epochs),
                    "initial_epoch": int(initial_epoch),
                    "steps_per_epoch": steps_per_epoch,
                    "shuffle": bool(shuffle),
                    "validation": validation is not None,
                },
            )
            if job.Get_rank() != 0:
                verbose = 0

        history = callbacks_module.History()
        user_callbacks = list(callbacks or [])
        stop_on_nonfinite = stop_on_nonfinite or any(
            isinstance(c, callbacks_module.TerminateOnNaN) for c in user_callbacks
        )
        # As in Keras: the progress bar first, the history last (so that it records what the
        # other callbacks add to the logs, such as the learning rate).
        given_progbar = any(isinstance(c, callbacks_module.ProgbarLogger) for c in user_callbacks)
        all_callbacks = (
            [callbacks_module.ProgbarLogger(verbose)] if verbose and not given_progbar else []
        )
        if self.optimizer._uses_python_schedule:
            all_callbacks.append(PythonScheduleSync(self.optimizer))
        all_callbacks += [*user_callbacks, history]
        params = {"epochs": int(epochs), "steps": data.steps, "verbose": verbose}
        callback_list = callbacks_module.CallbackList(all_callbacks, self, params)
        history.params = params
        self.history = history
        self.stop_training = False
        # With BackupAndRestore the run must be resumable at any epoch: each epoch's shuffling
        # and dropout then derive from this seed and the epoch's number. The callback keeps the
        # seed with the epoch it saved, and on resuming sets both back (in on_train_begin).
        resumable = any(isinstance(c, callbacks_module.BackupAndRestore) for c in user_callbacks)
        self._fit_seed = _core.random_seed() if resumable else None
        self._initial_epoch = None
        callback_list.on_train_begin()
        if self._initial_epoch is not None:
            initial_epoch = max(int(initial_epoch), int(self._initial_epoch))
        collective = None
        if job is not None:
            # Every process starts from process 0's weights (after a backup was restored).
            broadcast(self.weights, root=0)
            collective = MpiCollective(job)
        self._collective = collective
        try:
            report = (
                eager_loop.fit(
                    self,
                    data,
                    callback_list,
                    epochs=int(epochs),
                    initial_epoch=int(initial_epoch),
                    batch_size=batch_size,
                    shuffle=shuffle,
                    steps_per_epoch=steps_per_epoch,
                    validation_batch_size=validation_batch_size,
                    validation_steps=validation_steps,
                    validation_freq=validation_freq,
                    stop_on_nonfinite=stop_on_nonfinite,
                    seed=self._fit_seed,
                )
                if eager
                else _core.fit(
                    self._graph,
                    compiled.pop("loss"),
                    compiled.pop("metrics"),
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
                    sample_weight=data.sample_weight,
                    validation_freq=validation_freq,
                    seed=self._fit_seed,
                    collective=collective,
                    **compiled,
                )
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

    def _with_class_weight(self, data: PreparedData, class_weight) -> PreparedData:
        """``data`` with ``class_weight`` turned into per-sample weights of its (training)
        targets, as Keras does; the validation data stays unweighted."""
        outputs = self._require_graph().output_shapes
        if len(outputs) > 1:
            raise ValueError(
                f"fit: class_weight is for models with one output; this model has "
                f"{len(outputs)} ({self._io_names()[1]}): pass sample_weight by output instead"
            )
        if data.y is None:
            raise ValueError(
                "fit: class_weight needs arrays x and y; with an iterable of batches, give "
                "per-sample weights in its batches as (x, y, sample_weight)"
            )
        y = data.y[0] if data.columns else data.y
        last = outputs[0][-1] if len(outputs[0]) > 1 else None
        # A one-unit output (sigmoid) predicts two classes, 0 and 1.
        classes = None if last is None else max(int(last), 2)
        weights = data_adapter.class_weight_columns(class_weight, y, classes, self._dtype())
        return dataclasses.replace(data, sample_weight=weights)

    def _check_targets_of(self, data: PreparedData) -> None:
        """Checks the targets of ``data`` and of its validation data, when they are arrays."""
        for prepared in (data, data.validation):
            if prepared is None or prepared.y is None:
                continue
            if prepared.columns:
                _, outputs = self._io_names()
                per_loss = self._per_output(self.loss, outputs, "loss")
                for index, (y, loss) in enumerate(zip(prepared.y, per_loss, strict=True)):
                    self._check_targets(y, loss=loss, output=index)
            else:
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
        sample_weight=None,
    ):
        """The loss and metrics on data, in inference mode.

        Args:
            x, y: arrays of samples and targets (lists or dicts by name for several inputs or
                outputs), or ``x`` an iterable of ``(x, y)`` batches with ``y`` None.
            batch_size: samples per batch (default 32).
            verbose: "auto"/1 (progress bar) or 0 (silent).
            steps: the number of batches to read (default: all).
            callbacks: ``fg.callbacks`` instances.
            return_dict: return ``{"loss": ..., metric name: ...}``.
            sample_weight: per-sample weights of the loss (as in ``fit``); the metrics are
                not weighted.

        Returns:
            The loss alone when there are no metrics (and one output), else ``[loss, metric,
            ...]``; with several outputs ``[loss, out1_loss, ..., out1_metric, ...]`` in
            Keras's order (or a dict with ``return_dict=True``).

        Examples:
            >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
            >>> loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
            >>> 0.0 <= accuracy <= 1.0
            True
        """
        self._require_compiled()
        batch_size = _data.positive_int(batch_size, "batch_size", default=32)
        steps = _data.optional_positive_int(steps, "steps")
        verbose = verbosity(verbose)
        data = self._prepare(
            x, y, mode="evaluate", batch_size=batch_size, steps=steps, sample_weight=sample_weight
        )
        self._ensure_built(data.sample_shape)
        self._check_targets_of(data)
        progress = LoopProgress(callbacks, self, "test", data.steps, verbose)
        progress.begin()
        if eager_loop.runs_eagerly(self, "test"):
            logs = eager_loop.evaluate(self, data, batch_size, steps, progress)
        else:
            compiled = self._core_arguments(data)
            logs = _core.evaluate(
                self._graph,
                compiled.pop("loss"),
                compiled.pop("metrics"),
                data.x,
                data.y,
                batch_size=batch_size,
                steps=steps,
                hooks=progress,
                every_batch=progress.every_batch,
                sample_weight=data.sample_weight,
                **compiled,
            )
        logs = dict(logs)
        progress.end(logs)
        self._metrics_names = list(logs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for every sample of ``x`` (an array, or an iterable of batches),
        as a numpy array; for a model with several outputs, a list of arrays (one per output).

        Args:
            x: an array of samples (a list, or a dict by input name, for several inputs), or an
                iterable of batches (``x`` or ``(x, y)``).
            batch_size: samples per batch (default 32).
            verbose: "auto"/1 (progress bar) or 0 (silent).
            steps: the number of batches to read from an iterable (default: all).
            callbacks: ``fg.callbacks`` instances.

        Examples:
            >>> probabilities = model.predict(x_test, verbose=0)
            >>> probabilities.shape
            (8, 1)
        """
        batch_size = _data.positive_int(batch_size, "batch_size", default=32)
        steps = _data.optional_positive_int(steps, "steps")
        verbose = verbosity(verbose)
        data = self._prepare(x, mode="predict", batch_size=batch_size, steps=steps)
        self._ensure_built(data.sample_shape)
        progress = LoopProgress(callbacks, self, "predict", data.steps, verbose)
        progress.begin()
        if eager_loop.runs_eagerly(self, "predict"):
            outputs = eager_loop.predict(self, data, batch_size, steps, progress)
        else:
            outputs = self._graph.predict(
                data.x, batch_size=batch_size, hooks=progress, every_batch=progress.every_batch
            )
        progress.end({})
        if getattr(self, "_output_keys", None) is not None:
            outputs = outputs if isinstance(outputs, list) else [outputs]
            return dict(zip(self._output_keys, outputs, strict=True))
        return outputs

    def predict_on_batch(self, x):
        """The model's outputs for ``x`` taken as one batch, as numpy arrays.

        Args:
            x: the inputs: an array, or a list of arrays for a model with several inputs.

        Returns:
            A numpy array (a list of them for a model with several outputs).

        Examples:
            >>> model.predict_on_batch(x_test).shape
            (8, 1)
        """
        return self.predict(x, batch_size=max(len(x), 1), verbose=0)

    # --- saving --------------------------------------------------------------------------

    def save(self, filepath, include_optimizer=True) -> None:
        """Saves the architecture, the compile settings, the weights and (by default) the
        optimizer's state in one file, atomically; see ``ferrograd.saving``.

        ``fg.models.load_model`` reads it back. In a job of several processes
        (``fg.distribution.initialize()``), only process 0 writes; the others return at once.

        Args:
            filepath: the file to write (``.fgm`` by convention), a ``str`` or path.
            include_optimizer: also save the optimizer's state, to continue training where it
                stopped (default True).

        Examples:
            >>> model.save("my_model.fgm")
            >>> fg.models.load_model("my_model.fgm").count_params()
            11
        """
        if getattr(self, "_string_steps", None):
            raise ValueError(
                "this model starts with a string preprocessing step (TextVectorization, "
                "StringLookup, IntegerLookup) that runs in Python and has no place in a model "
                "file; save the model without it and keep the step's get_config()/vocabulary"
            )
        if not is_writer():
            # In a job of several processes, process 0 writes (the others hold the same model).
            return
        saving.save_model(self, filepath, include_optimizer=include_optimizer)

    def save_weights(self, filepath) -> None:
        """Saves the weights as a safetensors file (names like ``dense/kernel``), atomically;
        in a job of several processes, process 0 writes.

        Args:
            filepath: the file to write, a ``str`` or path.

        Examples:
            >>> model.save_weights("my.weights.safetensors")
        """
        if not is_writer():
            # In a job of several processes, process 0 writes (the others hold the same model).
            return
        saving.save_weights(self, filepath)

    def load_weights(self, filepath) -> None:
        """Loads weights saved by ``save_weights``; every name and shape is checked before any
        weight changes.

        Args:
            filepath: the safetensors file, a ``str`` or path.

        Raises:
            FileFormatError: the file is invalid or does not match the model.

        Examples:
            >>> model.save_weights("my.weights.safetensors")
            >>> model.load_weights("my.weights.safetensors")
        """
        saving.load_weights(self, filepath)

    def get_config(self) -> dict:
        """The declarative description of the architecture (``from_config`` rebuilds it): the
        class, the name, the layers' settings and, for a ``Sequential``, the input shape.

        Returns:
            A JSON-ready dict.

        Examples:
            >>> sorted(model.get_config())
            ['class', 'input_shape', 'layers', 'name']
        """
        if is_python_defined(self):
            return self._constructor_config()
        return saving.model_config(self)

    def _constructor_config(self) -> dict:
        """A subclassed model's config: its name and the arguments its constructor was
        called with (Keras 3's default); a subclass with other state overrides get_config."""
        import inspect

        args, kwargs = self.__dict__.get("_init_arguments", ((), {}))
        try:
            bound = inspect.signature(type(self).__init__).bind(None, *args, **kwargs)
        except TypeError:
            bound = None
        config = {"name": self.name, "trainable": self.trainable}
        if bound is not None:
            for key, value in list(bound.arguments.items())[1:]:
                parameter = inspect.signature(type(self).__init__).parameters[key]
                if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                    config.update(value)
                elif parameter.kind is not inspect.Parameter.VAR_POSITIONAL:
                    config[key] = value
        return config

    @classmethod
    def from_config(cls, config: dict):
        """A new model (fresh weights) from ``get_config()``'s description.

        Args:
            config: a dict as ``get_config()`` returns it.

        Returns:
            A new, built model.

        Examples:
            >>> clone = fg.Model.from_config(model.get_config())
            >>> clone.count_params() == model.count_params()
            True
        """
        if cls.call is not Model.call:
            # A subclassed model: its constructor's arguments; Keras's base keys are left out
            # when the constructor does not take them.
            try:
                return cls(**config)
            except TypeError:
                base = {"name", "trainable", "dtype"}
                return cls(**{k: v for k, v in config.items() if k not in base})
        return saving.model_from_config(config)

    def to_json(self, **kwargs) -> str:
        """The architecture as JSON text (``fg.models.model_from_json`` rebuilds it).

        Args:
            **kwargs: passed to ``json.dumps`` (``indent=2``).

        Returns:
            A string.

        Examples:
            >>> text = model.to_json()
            >>> fg.models.model_from_json(text).count_params() == model.count_params()
            True
        """
        return saving.model_to_json(self, **kwargs)

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

    def summary(self, line_length=None, print_fn=None, show_trainable=False):
        """Prints a table of the layers with their output shapes and parameter counts.

        Args:
            line_length: the least width of the table, in characters; None for the default
                (default None).
            print_fn: called with the whole table as one string instead of ``print``
                (default None).
            show_trainable: add a column that says whether each layer trains (``Y``/``N``,
                ``-`` for a layer without weights), as Keras's (default False).

        Examples:
            >>> model.summary(print_fn=lambda text: print(text.splitlines()[0]))
            Model: "sequential"
        """
        print_fn = print_fn or print
        print_fn(summary_text(self, line_length, show_trainable=show_trainable))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


def _weight_penalties(layer) -> list:
    """One penalty per regularized weight of ``layer`` (its ``<weight>_regularizer``); a layer
    whose penalties are not per named weight (a wrapper) gives its total as one term."""
    terms = []
    for name, tensor, trainable in layer._weight_entries():
        attribute = "recurrent_regularizer" if name == "recurrent_kernel" else f"{name}_regularizer"
        regularizer = getattr(layer, attribute, None)
        if trainable and regularizer is not None:
            terms.append(regularizer(tensor))
    if not terms:
        total = layer._core.regularization_loss()
        if total is not None:
            terms.append(total)
    return terms


def _validation_freq(value):
    """``fit``'s ``validation_freq`` checked: a positive int, or a list of epochs (from 1)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(
                f"fit: validation_freq must be a positive integer, received validation_freq={value}"
            )
        return int(value)
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in value
    ):
        return [int(v) for v in value]
    raise ValueError(
        "fit: validation_freq must be a positive integer or a list of epochs (counting from 1), "
        f"received validation_freq={value!r}"
    )


def _run_steps(steps, x):
    """``x`` through the string preprocessing steps, in order (ids as float arrays)."""
    for step in steps:
        x = step(x)
    return x
