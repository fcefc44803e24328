"""``Sequential``: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from ferrograd import _core, saving
from ferrograd.layers.input_layer import InputLayer
from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import Layer, is_python_defined
from ferrograd.layers.shapes import normalize_shape
from ferrograd.models.model import Model


class Sequential(Model):
    """A plain stack of layers, each feeding the next.

    Args:
        layers: the layers, in order (or add them with ``add``). The first one may carry
            ``input_shape=``, or the list may start with ``layers.Input(shape=...)``;
            otherwise the model is built from the data at the first call or ``fit``.

    Examples:
        >>> model = fg.Sequential([layers.Dense(64, activation="relu", input_shape=(20,)),
        ...                        layers.Dense(1, activation="sigmoid")])
    """

    def __init__(self, layers=None, name=None):
        super().__init__(name=name)
        self._input_shape = None
        self._input_dtype = None
        # The symbolic calls `build` records on the layers (see `_record_symbolic_calls`).
        self._symbolic_calls: list = []
        self._symbolic_ends = None
        self._string_steps = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer) -> None:
        """Appends ``layer`` (an ``Input`` may come first), rebuilding the model when its input
        shape is known.

        Args:
            layer: a layer, a model, or, as the first item only, an ``Input``.

        Raises:
            ValueError: an ``Input`` after other layers.
            TypeError: something that is not a layer.

        Examples:
            >>> seq = fg.Sequential()
            >>> seq.add(fg.Input((3,)))
            >>> seq.add(layers.Dense(4))
            >>> seq.output_shape
            (None, 4)
        """
        if isinstance(layer, KerasTensor) and isinstance(layer._producer, InputLayer):
            if self._layers:
                raise ValueError("an Input can only start a Sequential model")
            self._input_shape = layer.shape[1:]
            self._input_dtype = layer.dtype
            return
        if isinstance(layer, InputLayer):
            self._input_shape = layer.shape[1:]
            self._input_dtype = layer.dtype
            return
        if getattr(layer, "_runs_before_graph", False):
            # TextVectorization, StringLookup, IntegerLookup: a Python step on the data before
            # the numeric graph, allowed at the start only.
            if self._layers:
                raise ValueError(
                    f"{type(layer).__name__} runs in Python before the numeric graph, so it can "
                    "only start a Sequential model"
                )
            self._string_steps.append(layer)
            length = getattr(layer, "output_sequence_length", None)
            if getattr(layer, "output_mode", "int") == "int" and length is not None:
                self._input_shape = (length,)
            return
        if not isinstance(layer, (Layer, Model)):
            raise TypeError(f"Sequential.add takes a layer, received {layer!r}")
        if not self._layers and self._input_shape is None:
            if isinstance(layer, Model):
                if layer.built:
                    self._input_shape = tuple(layer.input_shape[1:])
            elif layer._input_shape_arg is not None:
                self._input_shape = layer._input_shape_arg
        self._layers.append(layer)
        self._graph = None
        if self._input_shape is not None:
            self.build((None, *self._input_shape))

    def pop(self) -> Layer:
        """Removes and returns the last layer."""
        if not self._layers:
            raise ValueError("the model has no layers to pop")
        layer = self._layers.pop()
        self._graph = None
        if self._input_shape is not None and self._layers:
            self.build((None, *self._input_shape))
        else:
            self._forget_symbolic_calls()
        return layer

    def build(self, input_shape) -> None:
        """Builds every layer for inputs of ``input_shape`` (batch axis first).

        Args:
            input_shape: the shape of the inputs, batch axis first: ``(None, 3)``.

        Raises:
            ValueError: the model has no layers, a layer has several outputs, or a layer does
                not accept the shape it receives.

        Examples:
            >>> seq = fg.Sequential([layers.Dense(4)])
            >>> seq.built
            False
            >>> seq.build((None, 3))
            >>> seq.layers[0].kernel.shape
            (3, 4)
        """
        shape = normalize_shape(input_shape)
        if not self._layers:
            raise ValueError("a Sequential model needs at least one layer")
        self._input_shape = shape[1:]
        nodes = [("input", list(shape))]
        self._node_of_layer = {}
        core_layers = []
        for index, layer in enumerate(self._layers):
            if hasattr(layer, "_check_single_output"):
                layer._check_single_output()  # names the argument (return_state=True, ...)
            if is_python_defined(layer) and not isinstance(layer, Model):
                # A layer written in Python: its call() traced into a nested graph.
                traced = layer._trace([shape], False)
                shape = tuple(traced.graph.output_shapes[0])
                if traced.many_outputs:
                    shape = [shape]
            else:
                shape = layer.compute_output_shape(shape)
            if isinstance(shape, list):
                raise ValueError(
                    f"layer {layer.name!r} has several outputs, which a Sequential model cannot "
                    "chain; use the functional API"
                )
            self._node_of_layer[id(layer)] = len(nodes)
            if isinstance(layer, Model):
                nodes.append(("model", layer._require_graph(), [index], layer.name))
            elif is_python_defined(layer):
                nodes.append(("model", layer.__dict__["_traced"].graph, [index], layer.name))
            else:
                nodes.append((len(core_layers), [index]))
                core_layers.append(layer)
        self._graph = _core.Graph(
            [layer._core for layer in core_layers], nodes, [0], len(self._layers), self._dtype()
        )
        self._graph.trainable = self._trainable
        self._record_symbolic_calls()

    def _record_symbolic_calls(self) -> None:
        """Calls the layers in turn on a symbolic ``Input``, as Keras's built Sequential model
        is a functional graph, so that ``layer.input``, ``layer.output`` and ``model.inputs``
        make feature extractors: ``Model(inputs=model.inputs, outputs=[l.output for l in
        model.layers])``. The calls of an earlier build (before ``add`` or ``pop``) are
        forgotten first."""
        from ferrograd.layers.input_layer import Input

        self._forget_symbolic_calls()
        tensor = first = Input(shape=self._input_shape, dtype=self._input_dtype)
        for layer in self._layers:
            tensor = layer(tensor)
            self._symbolic_calls.append((layer, tensor._call))
        self._symbolic_ends = (first, tensor)

    def _forget_symbolic_calls(self) -> None:
        for layer, call in self._symbolic_calls:
            calls = layer.__dict__.get("_calls", [])
            if call in calls:
                calls.remove(call)
        self._symbolic_calls, self._symbolic_ends = [], None

    def _ensure_built(self, sample_shape) -> None:
        if self._graph is None:
            self.build((None, *sample_shape))

    @property
    def inputs(self):
        """The symbolic input the layers were called on (a list of one), or None before the
        model is built."""
        return None if self._symbolic_ends is None else [self._symbolic_ends[0]]

    @property
    def outputs(self):
        """The symbolic output of the last layer (a list of one), or None before the model is
        built."""
        return None if self._symbolic_ends is None else [self._symbolic_ends[1]]

    def _reduce_unbuilt(self):
        # Not built yet: the pickle holds the layers' settings, and the copy is rebuilt from
        # them (fresh weights, as the original would get), and compiled as it was.
        entries = [saving._layer_entry(layer) for layer in self._layers]
        return (saving.unbuilt_sequential, (self.name, entries, saving.compile_config(self)))
