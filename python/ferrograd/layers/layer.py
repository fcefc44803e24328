"""``Layer``, the base class of every layer, and the lifecycle it shares with Keras:
``__init__`` stores the settings, ``build(input_shape)`` creates the weights (in the Rust core),
``__call__`` applies the layer.

Calling a layer on a tensor or a numpy array computes its output (recording a graph when
gradients are enabled); calling it on the symbolic output of ``Input`` records the call, which
is how functional models are drawn. Each subclass that sets its own ``kind`` is registered under
it (``ferrograd.layers.registry``), which is how model files find the class to rebuild.
"""

from __future__ import annotations

import json

import numpy as np

from ferrograd import _core, regularizers
from ferrograd._core import Tensor
from ferrograd.layers.keras_tensor import KerasTensor, first_call, symbolic_call
from ferrograd.layers.naming import snake_case, unique_name
from ferrograd.layers.registry import register_layer
from ferrograd.layers.shapes import normalize_shape, shape_list
from ferrograd.layers.weights import WeightViews, set_tensor_values


class Layer(WeightViews):
    """Base class of the layers.

    Args:
        name: the layer's name (unique names like ``dense_1`` are made when omitted).
        trainable: whether the layer's weights are updated by training.
        dtype: ``"float32"`` (default) or ``"float64"``.
        input_shape: the shape of one sample (without the batch axis), for the first layer of
            a ``Sequential`` model. ``input_dim=n`` means ``input_shape=(n,)``.

    Examples:
        >>> layer = layers.Dense(4, name="hidden")
        >>> layer.built, layer.name
        (False, 'hidden')
        >>> layer(np.ones((2, 3), dtype="float32")).shape
        (2, 4)
    """

    #: The kind of the Rust layer this class builds (one of a fixed list), and the name model
    #: files give it. A subclass that sets it is registered under it.
    kind: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        register_layer(cls)

    def __init__(self, *, name=None, trainable=True, dtype=None, input_shape=None, input_dim=None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string, received {name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype = np.dtype(dtype or "float32").name
        if self.dtype not in ("float32", "float64"):
            raise TypeError(f"dtype must be float32 or float64, received {dtype!r}")
        if input_dim is not None:
            input_shape = (input_dim,)
        self._input_shape_arg = normalize_shape(input_shape) if input_shape is not None else None
        self._core = None
        self._input_shape = None

    # --- configuration -----------------------------------------------------------------

    def settings(self) -> dict:
        """The settings the Rust layer is built from (JSON-able); subclasses override."""
        return {}

    def get_config(self) -> dict:
        """``name``, ``trainable``, ``dtype`` and the settings, as Keras's ``get_config``."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        config.update(self.settings())
        return config

    @classmethod
    def from_settings(cls, settings: dict, **options):
        """A layer from the settings ``settings()`` returned (and ``name``/``trainable``/
        ``dtype`` options); what model files are read with.

        Args:
            settings: the dict ``settings()`` returned (the layer's own arguments).
            **options: ``name``, ``trainable`` or ``dtype``.

        Returns:
            A new layer, not built.

        Examples:
            >>> dense = layers.Dense(4)
            >>> layers.Dense.from_settings(dense.settings(), name="copy").name
            'copy'
        """
        return cls(**settings, **options)

    @classmethod
    def from_config(cls, config: dict):
        """The layer ``get_config`` described (a new layer, not built, without weights).

        Args:
            config: the dict ``get_config`` returned.

        Returns:
            A new layer.

        Examples:
            >>> dense = layers.Dense(4, activation="relu")
            >>> layers.Dense.from_config(dense.get_config()).units
            4
        """
        return cls(**config)

    # --- building ------------------------------------------------------------------------

    @property
    def built(self) -> bool:
        """Whether the weights exist yet."""
        if is_python_layer(self):
            return bool(self.__dict__.get("_python_built"))
        return self._core is not None

    @built.setter
    def built(self, value: bool) -> None:
        # Keras's subclassed layers set `self.built = True` at the end of their build().
        self.__dict__["_python_built"] = bool(value)

    # --- layers written in Python ----------------------------------------------------------

    def call(self, inputs, *args, **kwargs):
        """The computation of a layer written in Python: override it in a subclass (with
        ``ferrograd.ops`` and the layer's weights and sublayers), as in Keras. Built-in layers
        compute in Rust and do not use it.

        Args:
            inputs: a tensor, or the list of tensors the layer was called on.
            *args: further arguments of the subclass's own ``call``.
            **kwargs: ``training=``, ``mask=`` and the subclass's own keyword arguments.

        Returns:
            A tensor or a list of tensors.

        Examples:
            >>> class Double(layers.Layer):
            ...     def call(self, inputs):
            ...         return inputs * 2.0
            >>> Double()(np.ones((1, 2), dtype="float32")).tolist()
            [[2.0, 2.0]]
        """
        raise NotImplementedError(f"layer {self.name!r} ({type(self).__name__}) defines no call()")

    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        name=None,
    ):
        """Creates a weight of a layer written in Python (in ``build`` or ``__init__``), as
        Keras's ``add_weight``; training updates it when it is trainable.

        Args:
            shape: the weight's shape (``()`` for a scalar).
            initializer: an initializer or its name; default ``"glorot_uniform"``, as Keras.
            dtype: the weight's dtype (default the layer's).
            trainable: whether training updates it (default True).
            autocast: accepted for Keras's signature.
            regularizer: an L1/L2 regularizer or its name; its penalty joins the loss.
            constraint: not supported (None).
            aggregation: accepted for Keras's signature.
            name: the weight's name (default ``variable_{n}``).

        Returns:
            The weight, a ``Tensor`` (with ``requires_grad`` when trainable).

        Raises:
            ValueError: a constraint, or a shape with negative dimensions.

        Examples:
            >>> class Scale(layers.Layer):
            ...     def build(self, input_shape):
            ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            ...     def call(self, inputs):
            ...         return inputs * self.w
            >>> scale = Scale()
            >>> scale(np.ones((1, 3), dtype="float32")).tolist()
            [[1.0, 1.0, 1.0]]
            >>> [tuple(w.shape) for w in scale.trainable_weights]
            [(3,)]
        """
        from ferrograd import initializers

        if constraint is not None:
            raise ValueError(
                f"layer {self.name!r}: add_weight(constraint=...) is not supported by ferrograd"
            )
        shape = () if shape is None else tuple(int(d) for d in shape)
        if any(d < 0 for d in shape):
            raise ValueError(f"layer {self.name!r}: add_weight(shape={shape}) has a negative size")
        variables = self.__dict__.setdefault("_python_weights", [])
        if name is None:
            name = f"variable_{len(variables)}" if variables else "variable"
        dtype = np.dtype(dtype or self.dtype).name
        if initializer is None:
            initializer = "glorot_uniform"
        values = initializers.get(initializer)(list(shape), dtype)
        weight = _core.tensor(
            np.asarray(values.numpy()), dtype=dtype, requires_grad=bool(trainable)
        )
        penalty = regularizers.get(regularizer)
        penalty = None if penalty is None else (float(penalty.l1), float(penalty.l2))
        variables.append((name, weight, bool(trainable), penalty))
        return weight

    def add_loss(self, loss) -> None:
        """Adds a loss term computed in ``call`` (Keras's ``add_loss``): an activity penalty,
        a VAE's KL divergence. Training adds it to the compiled loss; after an eager call it is
        in ``layer.losses`` (until the next call).

        Args:
            loss: a scalar tensor (a tensor of more values adds its sum).

        Examples:
            >>> class Penalized(layers.Layer):
            ...     def call(self, inputs):
            ...         self.add_loss(0.1 * fg.ops.sum(inputs))
            ...         return inputs
            >>> layer = Penalized()
            >>> _ = layer(np.ones((2, 2), dtype="float32"))
            >>> [round(float(loss), 3) for loss in layer.losses]
            [0.4]
        """
        add_loss_to(self, loss)

    def add_variable(
        self,
        shape,
        initializer,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        name=None,
    ):
        """Keras 3's other spelling of ``add_weight`` (the initializer comes second).

        Args:
            shape: the weight's shape.
            initializer: an initializer or its name.
            dtype: the weight's dtype (default the layer's).
            trainable: whether training updates it.
            autocast: accepted for Keras's signature.
            regularizer: an L1/L2 regularizer or its name.
            constraint: not supported (None).
            name: the weight's name.

        Returns:
            The weight, a ``Tensor``.

        Examples:
            >>> layer = layers.Layer()
            >>> layer.add_variable((2,), "zeros").tolist()
            [0.0, 0.0]
        """
        return self.add_weight(
            shape=shape,
            initializer=initializer,
            dtype=dtype,
            trainable=trainable,
            regularizer=regularizer,
            constraint=constraint,
            name=name,
        )

    def _call_python(self, inputs, training=None, kwargs=None):
        """Runs a layer written in Python on tensors (building it first), or traces it on
        symbolic tensors into a graph node."""
        kwargs = dict(kwargs or {})
        self.__dict__["_added_losses"] = []  # as Keras, each call starts them afresh
        many = isinstance(inputs, list | tuple)
        items = list(inputs) if many else [inputs]
        if any(isinstance(t, KerasTensor) for t in items):
            return self._call_symbolic(items, many, training, kwargs)
        items = [
            t if isinstance(t, Tensor) else _core.tensor(np.asarray(t), dtype=self.dtype)
            for t in items
        ]
        if not self.built:
            shapes = [(None, *t.shape[1:]) for t in items]
            if type(self).build is not Layer.build:
                self.build(shapes if many else shapes[0])
            self.built = True
        if accepts_argument(self.call, "training"):
            kwargs["training"] = training
        return self.call(items if many else items[0], **kwargs)

    def _call_symbolic(self, items, many, training, kwargs):
        """A layer written in Python called in a functional model: its ``call`` traced into
        a graph, which the model runs as a nested node."""
        traced = self._trace([tuple(t.shape) for t in items], many, kwargs)
        outputs = [tuple(s) for s in traced.graph.output_shapes]
        out = outputs if traced.many_outputs else outputs[0]
        return symbolic_call(self, items, out, self.dtype, many, training)

    def _trace(self, shapes, many: bool, kwargs=None):
        """Traces this Python layer's ``call`` for inputs of ``shapes`` (batch axis first)
        into a graph, which a functional or Sequential model runs as a nested node; the
        latest trace is kept as ``_traced``."""
        from ferrograd import tracing

        def run(tensors, mode):
            return self._call_python(tensors if many else tensors[0], mode, kwargs)

        traced = tracing.trace_function(
            run,
            [tuple(s) for s in shapes],
            [self.dtype] * len(shapes),
            self.dtype,
            lambda: python_variables(self),
            f"call() of layer {self.name!r}",
        )
        self.__dict__["_traced"] = traced
        return traced

    def build(self, input_shape) -> None:
        """Creates the weights for inputs of ``input_shape`` (batch axis first; a list of
        shapes for a layer that merges several inputs).

        Layers build themselves on first use; call it to create the weights before.

        Args:
            input_shape: the input shape, batch axis first (``(None, 3)``), or a list of shapes.

        Raises:
            ValueError: the layer does not accept inputs of that shape.

        Examples:
            >>> dense = layers.Dense(4)
            >>> dense.build((None, 3))
            >>> dense.kernel.shape
            (3, 4)
        """
        shapes = shape_list(input_shape)
        self._core = _core.build_layer(
            self.kind, self.name, json.dumps(self.settings()), [list(s) for s in shapes], self.dtype
        )
        self._core.trainable = self._trainable
        self._input_shape = shapes[0] if len(shapes) == 1 else shapes

    def _ensure_built(self, input_shape) -> None:
        if not self.built:
            self.build(input_shape)

    def compute_output_shape(self, input_shape):
        """The output shape for inputs of ``input_shape`` (building the layer if needed); a
        list of shapes for a layer with several outputs.

        Args:
            input_shape: the input shape, batch axis first (``(None, 3)``), or a list of shapes.

        Returns:
            A tuple, or a list of tuples.

        Raises:
            ValueError: the layer does not accept inputs of that shape.

        Examples:
            >>> layers.Dense(4).compute_output_shape((None, 5, 3))
            (None, 5, 4)
        """
        shapes = shape_list(input_shape)
        if is_python_layer(self):
            traced = self._trace(shapes, len(shapes) > 1)
            outputs = [tuple(s) for s in traced.graph.output_shapes]
            return outputs if traced.many_outputs else outputs[0]
        self._ensure_built(shapes[0] if len(shapes) == 1 else shapes)
        outputs = [tuple(s) for s in self._core.output_shapes([list(s) for s in shapes])]
        return outputs[0] if len(outputs) == 1 else outputs

    # --- calling -------------------------------------------------------------------------

    def __call__(self, inputs, training=None, **kwargs):
        """Applies the layer: to a ``KerasTensor`` (or a list of them, for a merge layer) it
        records the call and returns symbolic output(s); to tensors or arrays it computes.

        Args:
            inputs: one input, or a list of inputs for a layer that merges several.
            training: whether the call is in training mode (dropout, batch statistics).
            **kwargs: the arguments of a Python layer's own ``call`` (``mask=``, ...).
        """
        if is_python_layer(self):
            return self._call_python(inputs, training, kwargs)
        check_call_kwargs(self, kwargs)
        many = isinstance(inputs, (list, tuple))
        items = list(inputs) if many else [inputs]
        if not items:
            raise ValueError(f"layer {self.name!r} was called on an empty list of inputs")
        symbolic = [isinstance(t, KerasTensor) for t in items]
        if any(symbolic):
            if not all(symbolic):
                raise TypeError(
                    f"layer {self.name!r} was called on a mix of symbolic tensors and values"
                )
            shapes = [t.shape for t in items]
            try:
                output_shape = self.compute_output_shape(shapes if many else shapes[0])
            except ValueError as error:
                if not many:
                    raise
                raise ValueError(f"layer {self.name!r}: {error}") from None
            return symbolic_call(self, items, output_shape, self.dtype, many, training)
        from ferrograd.tracing import run_builtin

        items = [
            t if isinstance(t, Tensor) else _core.tensor(np.asarray(t), dtype=self.dtype)
            for t in items
        ]
        shapes = [(None, *t.shape[1:]) for t in items]
        self._ensure_built(shapes if many else shapes[0])
        if len(self._core.output_shapes([list(s) for s in shapes])) > 1:

            def run_all(mode):
                return list(self._core.call(items, None, bool(mode))[0])

            return run_builtin(self, items, run_all, training)

        def run_one(mode):
            return self._core.forward(items, bool(mode))

        return run_builtin(self, items, run_one, training)

    @property
    def input(self):
        """The symbolic input(s) of the layer's first call in a functional graph."""
        return first_call(self).input

    @property
    def output(self):
        """The symbolic output(s) of the layer's first call in a functional graph."""
        return first_call(self).output

    # --- weights -------------------------------------------------------------------------

    @property
    def trainable(self) -> bool:
        """Whether training updates the layer's weights."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        if self._core is not None:
            self._core.trainable = self._trainable

    def _weight_entries(self):
        if is_python_layer(self):
            return [(n, t, tr) for n, t, tr, _ in python_weight_entries(self)]
        return self._core.weights() if self._core is not None else []

    def _weight(self, name):
        """The weight called ``name`` (``"kernel"``), or None before the layer is built."""
        for weight_name, tensor, _ in self._weight_entries():
            if weight_name == name:
                return tensor
        return None

    def get_weights(self) -> list:
        """The weights as numpy arrays."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Overwrites the weights with numpy arrays (every shape checked first).

        Args:
            weights: one array per weight, in ``weights`` order (``[kernel, bias]`` for
                ``Dense``).

        Raises:
            ValueError: the number of arrays or a shape differs; no weight has changed then.

        Examples:
            >>> dense = layers.Dense(4)
            >>> dense.build((None, 3))
            >>> dense.set_weights([np.ones((3, 4)), np.zeros(4)])
            >>> float(dense(np.ones((1, 3))).numpy().sum())
            12.0
        """
        set_tensor_values(self.weights, weights, f"layer {self.name!r}")

    def count_params(self) -> int:
        """The number of weight values."""
        return int(sum(w.size for w in self.weights))

    @property
    def losses(self) -> list:
        """The layer's regularization penalty, as a one-element list (empty when it has none);
        for a layer written in Python, the losses its last call added (``add_loss``) and its
        sublayers' losses too."""
        if is_python_layer(self):
            return python_losses(self)
        if self._core is None:
            return []
        penalty = self._core.regularization_loss()
        return [] if penalty is None else [penalty]

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


def is_python_layer(layer) -> bool:
    """Whether ``layer`` is written in Python (its class defines ``call``), rather than a
    built-in layer computed in Rust.

    Args:
        layer: a layer.

    Examples:
        >>> is_python_layer(layers.Dense(2))
        False
    """
    return is_python_defined(layer)


def accepts_argument(function, name: str) -> bool:
    """Whether ``function`` takes a keyword argument ``name`` (or ``**kwargs``).

    Args:
        function: a function or bound method.
        name: the argument's name.

    Examples:
        >>> accepts_argument(lambda inputs, training=None: inputs, "training")
        True
    """
    import inspect

    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def is_python_defined(obj) -> bool:
    """Whether a layer or model computes with a ``call`` written in Python (a subclass that
    defines it), rather than in Rust (a built-in layer, a functional or Sequential model).

    Args:
        obj: a layer or model.

    Examples:
        >>> is_python_defined(layers.Dense(2)), is_python_defined(model)
        (False, False)
    """
    from ferrograd.models.model import Model

    base = Model if isinstance(obj, Model) else Layer
    if type(obj).call is not base.call:
        return True
    # A plain `Layer()` holding weights made with add_weight (no Rust layer behind it).
    return base is Layer and not obj.kind and "_python_weights" in obj.__dict__


def sublayers(obj) -> list:
    """The layers and models a layer or model written in Python holds as attributes (also in
    lists, tuples and dicts), in the order they were set.

    Args:
        obj: a layer or model.

    Examples:
        >>> class Block(layers.Layer):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.parts = [layers.Dense(2), layers.Dense(3)]
        >>> [type(layer).__name__ for layer in sublayers(Block())]
        ['Dense', 'Dense']
    """
    return [layer for _, layer in attribute_sublayers(obj)]


def attribute_sublayers(obj) -> list:
    """``(path, layer)`` for the layers and models a layer or model written in Python holds:
    the attribute's name, with ``.{index}`` or ``.{key}`` inside lists and dicts (``hidden.0``),
    as PyTorch names submodules; the first path of a layer held twice.

    Args:
        obj: a layer or model.

    Examples:
        >>> class Block(layers.Layer):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.parts = [layers.Dense(2), layers.Dense(3)]
        >>> [path for path, _ in attribute_sublayers(Block())]
        ['parts.0', 'parts.1']
    """
    found, seen = [], set()

    def visit(value, path):
        if isinstance(value, WeightViews):
            if id(value) not in seen and value is not obj:
                seen.add(id(value))
                found.append((path, value))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                visit(item, f"{path}.{index}")
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{path}.{key}")

    for key, value in obj.__dict__.items():
        if not key.startswith("_"):
            visit(value, key)
    return found


def python_weight_entries(obj, prefix: str = "") -> list:
    """``(name, tensor, trainable, penalty)`` for every weight of a layer or model written in
    Python: its own (``add_weight``), then its sublayers', named by attribute path
    (``"block/hidden.0/kernel"``: the same in every instance of the class, so that saved
    weights load into a new one); ``penalty`` is ``(l1, l2)`` or None.

    Args:
        obj: a layer or model written in Python.
        prefix: put before every name.

    Examples:
        >>> python_weight_entries(layers.Layer())
        []
    """
    trainable_owner = bool(getattr(obj, "trainable", True))
    entries = [
        (f"{prefix}{name}", tensor, trainable and trainable_owner, penalty)
        for name, tensor, trainable, penalty in obj.__dict__.get("_python_weights", [])
    ]
    seen = {_core._tensor_uid(tensor) for _, tensor, _, _ in entries}
    for path, sub in attribute_sublayers(obj):
        if is_python_defined(sub):
            found = python_weight_entries(sub, f"{prefix}{path}/")
        else:
            found = [
                (f"{prefix}{path}/{name}", tensor, trainable and trainable_owner, None)
                for name, tensor, trainable in sub._weight_entries()
            ]
        # A weight reached twice (a layer shared by two sublayers) is listed once.
        for entry in found:
            uid = _core._tensor_uid(entry[1])
            if uid not in seen:
                seen.add(uid)
                entries.append(entry)
    return entries


def add_loss_to(obj, loss) -> None:
    """``add_loss`` of a layer or model: while tracing, the loss joins the graph (added to the
    training loss); otherwise it is kept for ``obj.losses``.

    Args:
        obj: the layer or model whose ``call`` adds the loss.
        loss: a tensor.

    Examples:
        >>> holder = layers.Layer()
        >>> add_loss_to(holder, fg.tensor(1.0))
        >>> holder.__dict__["_added_losses"]
        [tensor(1., shape=(), dtype=float32)]
    """
    from ferrograd import tracing

    if not isinstance(loss, Tensor):
        loss = _core.tensor(np.asarray(loss, dtype="float64"))
    if tracing.add_loss(loss):
        return
    obj.__dict__.setdefault("_added_losses", []).append(loss)


def python_losses(obj) -> list:
    """The losses of a layer or model written in Python: those its last call added, its
    weights' regularization penalties, then its sublayers' losses.

    Args:
        obj: a layer or model written in Python.

    Examples:
        >>> python_losses(layers.Layer())
        []
    """
    terms = list(obj.__dict__.get("_added_losses", []))
    for _, tensor, trainable, penalty in obj.__dict__.get("_python_weights", []):
        if penalty is not None and trainable:
            terms.append(_core.regularization_penalty(tensor, *penalty))
    for sub in sublayers(obj):
        terms += list(sub.losses)
    return terms


def python_variables(obj) -> dict:
    """The weights of a layer or model written in Python, as ``tracing.Variable`` by tensor
    uid: what its traced graph reads as variable nodes where no layer node owns them.

    Args:
        obj: a layer or model written in Python.

    Examples:
        >>> python_variables(layers.Layer())
        {}
    """
    from ferrograd.tracing import Variable

    return {
        _core._tensor_uid(tensor): Variable(name, tensor, trainable, penalty)
        for name, tensor, trainable, penalty in python_weight_entries(obj)
    }


def regularizer_settings(regularizer):
    """A regularizer argument (a name, an instance or None) as the settings the Rust layer
    reads: its config, or None.

    Args:
        regularizer: what ``fg.regularizers.get`` accepts.

    Examples:
        >>> regularizer_settings(None) is None, regularizer_settings("l2")["l2"]
        (True, 0.01)
    """
    regularizer = regularizers.get(regularizer)
    return None if regularizer is None else regularizer.get_config()


def check_call_kwargs(layer, kwargs: dict) -> None:
    """Refuses the call arguments a layer does not take, naming them (``initial_state`` belongs
    to the recurrent layers).

    Args:
        layer: the layer being called.
        kwargs: the extra keyword arguments of the call.

    Examples:
        >>> check_call_kwargs(layers.Dense(2, name="d"), {})
    """
    if "initial_state" in kwargs:
        raise ValueError(
            f"layer {layer.name!r}: initial_state= is taken by SimpleRNN, LSTM and GRU only "
            f"(not by {type(layer).__name__})"
        )
    if kwargs:
        raise TypeError(
            f"layer {layer.name!r} was called with unexpected arguments: {sorted(kwargs)}"
        )
