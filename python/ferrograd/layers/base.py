"""The layer lifecycle, as in Keras: ``__init__`` stores the settings, ``build(input_shape)``
creates the weights (in the Rust core), ``__call__`` applies the layer.

Calling a layer on a tensor or a numpy array computes its output (recording a graph when
gradients are enabled); calling it on the symbolic output of ``Input`` records the call, which
is how functional models are drawn.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor

_name_counters: dict[str, itertools.count] = defaultdict(itertools.count)


def unique_name(base: str) -> str:
    """``dense``, ``dense_1``, ``dense_2``... as Keras names layers and models."""
    index = next(_name_counters[base])
    return base if index == 0 else f"{base}_{index}"


def clear_session() -> None:
    """Restarts the automatic names (``dense``, ``dense_1``, ...)."""
    _name_counters.clear()


def snake_case(name: str) -> str:
    """``BatchNormalization`` -> ``batch_normalization``, ``LSTM`` -> ``lstm``, like Keras."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def normalize_shape(shape) -> tuple:
    """A shape as a tuple of ints and Nones, refusing anything else."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"a shape must be a tuple of ints, received {shape!r}") from None
    for d in dims:
        if d is not None and (not isinstance(d, (int, np.integer)) or d < 0):
            raise ValueError(f"a shape must hold non-negative ints or None, received {shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


def format_shape(shape) -> str:
    dims = ["None" if d is None else str(d) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


class KerasTensor:
    """The symbolic output of ``Input`` or of a layer called on one: a shape and a history,
    no values."""

    def __init__(self, shape, dtype="float32", producer=None, inputs=()):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._producer = producer
        self._inputs = tuple(inputs)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        origin = f", produced by {self._producer.name!r}" if self._producer else ""
        return f"<KerasTensor shape={format_shape(self.shape)}, dtype={self.dtype}{origin}>"


class WeightViews:
    """The Keras views of an object's weights, from its ``_weight_entries()``: a list of
    ``(name, tensor, trainable)``. Shared by layers and models."""

    def _weight_entries(self) -> list:
        raise NotImplementedError

    @property
    def weights(self) -> list:
        return [tensor for _, tensor, _ in self._weight_entries()]

    @property
    def trainable_weights(self) -> list:
        return [tensor for _, tensor, trainable in self._weight_entries() if trainable]

    @property
    def non_trainable_weights(self) -> list:
        return [tensor for _, tensor, trainable in self._weight_entries() if not trainable]

    trainable_variables = trainable_weights
    variables = weights


class Layer(WeightViews):
    """Base class of the layers.

    Args:
        name: the layer's name (unique names like ``dense_1`` are made when omitted).
        trainable: whether the layer's weights are updated by training.
        dtype: ``"float32"`` (default) or ``"float64"``.
        input_shape: the shape of one sample (without the batch axis), for the first layer of
            a ``Sequential`` model. ``input_dim=n`` means ``input_shape=(n,)``.
    """

    #: The kind of the Rust layer this class builds (one of a fixed list).
    kind: str = ""

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
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        config.update(self.settings())
        return config

    @classmethod
    def from_settings(cls, settings: dict, **options):
        """A layer from the settings ``settings()`` returned (and ``name``/``trainable``/
        ``dtype`` options); what model files are read with."""
        return cls(**settings, **options)

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # --- building ------------------------------------------------------------------------

    @property
    def built(self) -> bool:
        return self._core is not None

    def build(self, input_shape) -> None:
        """Creates the weights for inputs of ``input_shape`` (batch axis first)."""
        input_shape = normalize_shape(input_shape)
        self._core = _core.build_layer(
            self.kind, self.name, json.dumps(self.settings()), [list(input_shape)], self.dtype
        )
        self._core.trainable = self._trainable
        self._input_shape = input_shape

    def _ensure_built(self, input_shape) -> None:
        if not self.built:
            self.build(input_shape)

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = normalize_shape(input_shape)
        self._ensure_built(input_shape)
        return tuple(self._core.output_shape([list(input_shape)]))

    # --- calling -------------------------------------------------------------------------

    def __call__(self, inputs, training=None):
        if isinstance(inputs, KerasTensor):
            output_shape = self.compute_output_shape(inputs.shape)
            return KerasTensor(output_shape, self.dtype, producer=self, inputs=(inputs,))
        if not isinstance(inputs, Tensor):
            inputs = _core.tensor(np.asarray(inputs), dtype=self.dtype)
        self._ensure_built((None, *inputs.shape[1:]))
        return self._core.forward([inputs], bool(training))

    # --- weights -------------------------------------------------------------------------

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        if self._core is not None:
            self._core.trainable = self._trainable

    def _weight_entries(self):
        return self._core.weights() if self._core is not None else []

    def get_weights(self) -> list:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        set_tensor_values(self.weights, weights, f"layer {self.name!r}")

    def count_params(self) -> int:
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


def set_tensor_values(tensors, values, owner: str) -> None:
    """Copies numpy ``values`` into ``tensors`` after checking every count and shape, so that a
    mismatch changes nothing."""
    values = list(values)
    if len(values) != len(tensors):
        raise ValueError(f"{owner} expects {len(tensors)} weight arrays, received {len(values)}")
    arrays = []
    for tensor, value in zip(tensors, values, strict=True):
        array = np.asarray(value)
        if tuple(array.shape) != tuple(tensor.shape):
            raise ValueError(
                f"{owner}: a weight of shape {tuple(tensor.shape)} cannot take a value of shape "
                f"{tuple(array.shape)}"
            )
        arrays.append(array)
    for tensor, array in zip(tensors, arrays, strict=True):
        _core.assign(tensor, array)


class InputLayer(Layer):
    """The placeholder that ``Input`` creates; it holds no weights and is never built."""

    kind = "Input"

    def __init__(self, shape, name=None, dtype=None):
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype)
        self.shape = (None, *normalize_shape(shape))
        self.output = KerasTensor(self.shape, self.dtype, producer=self)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "batch_shape": list(self.shape)}

    def compute_output_shape(self, input_shape) -> tuple:
        return self.shape

    def __call__(self, inputs, training=None):
        raise TypeError("an InputLayer is not called; use layers.Input(shape=...) instead")


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None):  # noqa: N802
    """A symbolic model input of ``shape`` (one sample, without the batch axis).

    Example:
        >>> inputs = layers.Input(shape=(784,))
        >>> outputs = layers.Dense(10, activation="softmax")(inputs)
        >>> model = fg.Model(inputs=inputs, outputs=outputs)
    """
    if batch_shape is not None:
        batch_shape = normalize_shape(batch_shape)
        shape = batch_shape[1:]
    if shape is None:
        raise ValueError("Input needs a shape, e.g. Input(shape=(784,))")
    return InputLayer(shape, name=name, dtype=dtype).output
