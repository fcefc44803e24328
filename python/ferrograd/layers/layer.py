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
        return self._core is not None

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
        """
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
        items = [
            t if isinstance(t, Tensor) else _core.tensor(np.asarray(t), dtype=self.dtype)
            for t in items
        ]
        shapes = [(None, *t.shape[1:]) for t in items]
        self._ensure_built(shapes if many else shapes[0])
        if len(self._core.output_shapes([list(s) for s in shapes])) > 1:
            outputs, _ = self._core.call(items, None, bool(training))
            return list(outputs)
        return self._core.forward(items, bool(training))

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
        """The layer's regularization penalty, as a one-element list (empty when it has none)."""
        if self._core is None:
            return []
        penalty = self._core.regularization_loss()
        return [] if penalty is None else [penalty]

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


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
