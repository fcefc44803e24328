"""Exporting a model to ONNX, for inference in ``onnxruntime`` and other ONNX runtimes.

``fg.onnx.export(model, "model.onnx")`` writes the inference form of a ``Sequential`` or
functional model: ``Dropout`` is the identity, ``BatchNormalization`` uses its moving
statistics. The graph has one input named ``"input"`` and one output named ``"output"``, of the
model's dtype (float32 or float64), with a dynamic batch axis named ``"batch"``; any other axis
the model leaves open (``Input(shape=(None,))``) is named ``"input_dim_{axis}"``. See
``docs/onnx.md`` for the supported layers and what is refused.

The ``onnx`` package is needed (``pip install ferrograd[onnx]``, which also installs
``onnxruntime`` to run the file); it is imported only when exporting.

Examples:
    >>> model = fg.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(20,))])
    >>> fg.onnx.export(model, "model.onnx")
    >>> import onnxruntime
    >>> session = onnxruntime.InferenceSession("model.onnx")
    >>> session.run(["output"], {"input": np.zeros((5, 20), dtype="float32")})[0].shape
    (5, 1)
"""

from __future__ import annotations

import copy
import math

import numpy as np

from ferrograd import _onnx_conv, activations, saving
from ferrograd.layers import (
    GRU,
    LSTM,
    Activation,
    BatchNormalization,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    SimpleRNN,
)

#: The opset written when ``opset`` is not given; every onnxruntime the ``onnx`` extra allows
#: (1.17 and later) runs it.
DEFAULT_OPSET = 17

#: The oldest opset ``export`` writes. The operators it uses have their current form since
#: opset 14 or earlier, but only 17 and later are tested.
MINIMUM_OPSET = 17

#: The constants of the activations with parameters, as the Rust core uses them.
LEAKY_RELU_SLOPE = 0.2
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805

INPUT_NAME = "input"
OUTPUT_NAME = "output"
BATCH_AXIS_NAME = "batch"


def _import_onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            "exporting to ONNX needs the onnx package: pip install ferrograd[onnx] (which also "
            "installs onnxruntime, to run the exported file)"
        ) from error
    return onnx


def export(model, path, opset=None) -> None:
    """Writes ``model`` as an ONNX file at ``path``, atomically (as ``model.save`` does).

    The file holds the model's inference computation with its current weights. Its graph takes
    one input named ``"input"`` of shape ``(batch, ...)`` (the model's input shape, with a
    dynamic batch axis named ``"batch"``) and returns one output named ``"output"``, both of
    the model's dtype. Token ids for an ``Embedding`` come in as floats, as with ``predict``.

    Args:
        model: a built ``fg.Sequential`` or functional ``fg.Model``.
        path: where to write the file (``str`` or path-like).
        opset: the ONNX opset (default-domain version) to write, an int from 17 up to the
            newest the installed ``onnx`` knows; default 17, which onnxruntime 1.17 and later
            run.

    Raises:
        ImportError: the ``onnx`` package is not installed.
        TypeError: ``model`` is not a ferrograd model, or ``opset`` is not an int.
        ValueError: the model is not built, or holds a layer or a setting that ONNX cannot
            express faithfully (the message names the layer and the setting), or ``opset`` is
            out of range.

    Examples:
        >>> import onnxruntime
        >>> fg.onnx.export(model, "model.onnx")
        >>> session = onnxruntime.InferenceSession("model.onnx")
        >>> session.run(["output"], {"input": x})[0].shape
        (32, 1)
    """
    onnx = _import_onnx()
    from ferrograd.models import Model

    if not isinstance(model, Model):
        raise TypeError(f"export() takes a ferrograd model, received {type(model).__name__}")
    opset = _check_opset(onnx, opset)
    model._require_graph()
    proto = _GraphBuilder(onnx, model, opset).model_proto()
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    saving.atomic_write(path, lambda file: file.write(data))


def _check_opset(onnx, opset) -> int:
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        return DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"opset must be an int, received opset={opset!r}")
    if not MINIMUM_OPSET <= opset <= newest:
        raise ValueError(
            f"opset must be between {MINIMUM_OPSET} and {newest} (the newest the installed onnx "
            f"package knows), received opset={opset}"
        )
    return int(opset)


# --- activations -----------------------------------------------------------------------------

#: The cell activations of the recurrent layers that the ONNX recurrent operators take by name
#: (their ``activations`` attribute), with no ``activation_alpha``/``activation_beta``: ONNX's
#: default alpha of Elu is Keras's 1. The layers' other cell activations are refused:
#: ``exponential`` is not an ONNX one, and ``linear`` would be ONNX's Affine, whose alpha and
#: beta have no documented defaults and are consumed from a shared list in an order the
#: runtimes read differently (onnxruntime does not treat Affine without them as the identity).
_CELL_ACTIVATIONS = {
    "relu": "Relu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "elu": "Elu",
}


class _GraphBuilder:
    """The ONNX nodes and initializers of one model, added layer by layer."""

    def __init__(self, onnx, model, opset: int):
        self.onnx = onnx
        self.helper = onnx.helper
        self.model = model
        self.opset = opset
        self.dtype = np.dtype(model._dtype())
        self.nodes: list = []
        self.initializers: dict[str, object] = {}
        self._used_names: set[str] = {INPUT_NAME, OUTPUT_NAME}

    # --- the model -------------------------------------------------------------------------

    def model_proto(self):
        helper = self.helper
        if len(self.model.inputs) != 1:
            raise ValueError(
                f"export() handles models with one input; the model {self.model.name!r} has "
                f"{len(self.model.inputs)}"
            )
        elem_type = helper.np_dtype_to_tensor_dtype(self.dtype)
        input_shape = list(self.model.input_shape)
        output = self._layer_outputs()
        self.nodes.append(helper.make_node("Identity", [output], [OUTPUT_NAME]))
        graph = helper.make_graph(
            self.nodes,
            self.model.name,
            [helper.make_tensor_value_info(INPUT_NAME, elem_type, _symbolic(input_shape, "input"))],
            [
                helper.make_tensor_value_info(
                    OUTPUT_NAME, elem_type, _symbolic(list(self.model.output_shape), "output")
                )
            ],
            initializer=list(self.initializers.values()),
        )
        opset_ids = [helper.make_opsetid("", self.opset)]
        proto = helper.make_model(
            graph,
            opset_imports=opset_ids,
            producer_name="ferrograd",
            ir_version=helper.find_min_ir_version_for(opset_ids),
        )
        proto.doc_string = f"ferrograd model {self.model.name!r}, exported for inference"
        return proto

    def _layer_outputs(self) -> str:
        """Adds every layer's nodes in the model's order; the name of the model's output."""
        from ferrograd.models import Sequential

        if isinstance(self.model, Sequential):
            current = INPUT_NAME
            for layer in self.model.layers:
                current = self.add_layer(layer, current)
            return current
        layers_by_name = {layer.name: layer for layer in self.model.layers}
        outputs: list[str] = []
        for node in self.model._wiring:
            if node["layer"] is None:
                outputs.append(INPUT_NAME)
                continue
            layer = layers_by_name[node["layer"]]
            if len(node["inputs"]) != 1:
                raise ValueError(
                    f"the layer {layer.name!r} ({type(layer).__name__}) cannot be exported to "
                    f"ONNX: export() writes layers of one input, it reads {len(node['inputs'])}"
                )
            (source,) = node["inputs"]
            outputs.append(self.add_layer(layer, outputs[source]))
        return outputs[self.model._output_node]

    # --- naming and constants ----------------------------------------------------------------

    def fresh_name(self, base: str) -> str:
        name, index = base, 1
        while name in self._used_names:
            name, index = f"{base}_{index}", index + 1
        self._used_names.add(name)
        return name

    def add(self, op: str, inputs: list[str], name: str, outputs: int = 1, **attributes):
        """Adds a node; its output name (or names, when ``outputs`` > 1)."""
        names = [self.fresh_name(f"{name}/{op}" + (f":{i}" if i else "")) for i in range(outputs)]
        self.nodes.append(
            self.helper.make_node(op, inputs, names, name=self.fresh_name(name), **attributes)
        )
        return names[0] if outputs == 1 else names

    def constant(self, name: str, array) -> str:
        """An initializer named ``name`` (a weight path such as ``dense/kernel``) holding
        ``array``; reused when a shared layer asks for it again."""
        if name not in self.initializers:
            self._used_names.add(name)
            self.initializers[name] = self.onnx.numpy_helper.from_array(np.asarray(array), name)
        return name

    def float_constant(self, name: str, array) -> str:
        return self.constant(name, np.asarray(array, dtype=self.dtype))

    def int_constant(self, name: str, values) -> str:
        return self.constant(name, np.asarray(values, dtype=np.int64))

    # --- layers --------------------------------------------------------------------------------

    def add_layer(self, layer, x: str) -> str:
        """Adds the nodes of ``layer`` applied to the tensor named ``x``; the output's name."""
        if isinstance(layer, Dense):
            return self.dense(layer, x)
        if isinstance(layer, Activation):
            return self.activation(layer.activation, x, layer, "activation")
        if isinstance(layer, Dropout):
            return x
        if isinstance(layer, Flatten):
            return self.add("Flatten", [x], layer.name, axis=1)
        if isinstance(layer, BatchNormalization):
            return self.batch_normalization(layer, x)
        if isinstance(layer, Embedding):
            return self.embedding(layer, x)
        if isinstance(layer, GlobalAveragePooling1D):
            return self.global_average_pooling(layer, x)
        if isinstance(layer, (SimpleRNN, LSTM, GRU)):
            return self.recurrent(layer, _weights(layer), x, layer.name)
        if isinstance(layer, Bidirectional):
            return self.bidirectional(layer, x)
        convolutional = _onnx_conv.export_layer(self, layer, x)
        if convolutional is not None:
            return convolutional
        raise ValueError(
            f"the layer {layer.name!r} ({type(layer).__name__}) cannot be exported to ONNX: "
            "export() knows Dense, Activation, Dropout, Flatten, BatchNormalization, Embedding, "
            "GlobalAveragePooling1D, SimpleRNN, LSTM, GRU, Bidirectional, "
            f"{_onnx_conv.EXPORTED}"
        )

    def dense(self, layer: Dense, x: str) -> str:
        weights = _weights(layer)
        y = self.add(
            "MatMul", [x, self.constant(f"{layer.name}/kernel", weights["kernel"])], layer.name
        )
        if layer.use_bias:
            y = self.add(
                "Add", [y, self.constant(f"{layer.name}/bias", weights["bias"])], layer.name
            )
        return self.activation(layer.activation, y, layer, "activation")

    def activation(self, function, x: str, layer, setting: str) -> str:
        """The nodes of a layer's activation (given as ``fg.activations`` function)."""
        name = activations.serialize(function)
        base = f"{layer.name}/{name}"
        if name == "linear":
            return x
        simple = {
            "relu": "Relu",
            "sigmoid": "Sigmoid",
            "tanh": "Tanh",
            "softplus": "Softplus",
            "softsign": "Softsign",
            "exponential": "Exp",
        }
        if name in simple:
            return self.add(simple[name], [x], base)
        if name == "softmax":
            return self.add("Softmax", [x], base, axis=-1)
        if name in ("leaky_relu", "selu") and self.dtype == np.float64:
            # The operators' alpha and gamma are float attributes (float32), which would round
            # the constants of a float64 model; written out with float64 constants instead.
            return self.piecewise_linear_unit(name, x, base)
        if name == "leaky_relu":
            # The slope Keras (and ferrograd) give the name "leaky_relu".
            return self.add("LeakyRelu", [x], base, alpha=LEAKY_RELU_SLOPE)
        if name == "elu":
            return self.add("Elu", [x], base, alpha=1.0)
        if name == "selu":
            # ONNX's default alpha and gamma are the constants of Klambauer et al., as Keras's.
            return self.add("Selu", [x], base)
        if name == "silu":
            return self.add("Mul", [x, self.add("Sigmoid", [x], base)], base)
        if name == "gelu":
            # x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))), written out: Gelu is an operator
            # only from opset 20.
            scaled = self.add(
                "Mul", [x, self.float_constant("const/gelu/one_over_sqrt2", 1 / math.sqrt(2))], base
            )
            one_plus_erf = self.add(
                "Add",
                [self.add("Erf", [scaled], base), self.float_constant("const/one", 1.0)],
                base,
            )
            half_x = self.add("Mul", [x, self.float_constant("const/gelu/half", 0.5)], base)
            return self.add("Mul", [half_x, one_plus_erf], base)
        raise ValueError(
            f"the layer {layer.name!r} ({type(layer).__name__}) has {setting}={name!r}, which "
            "export() cannot write"
        )

    def piecewise_linear_unit(self, name: str, x: str, base: str) -> str:
        """leaky_relu or selu as ``where(x > 0, scale * x, negative part)``, with constants of
        the model's dtype."""
        positive = self.add("Greater", [x, self.float_constant("const/zero", 0.0)], base)
        if name == "leaky_relu":
            slope = self.float_constant("const/leaky_relu/slope", LEAKY_RELU_SLOPE)
            return self.add("Where", [positive, x, self.add("Mul", [x, slope], base)], base)
        scale = self.float_constant("const/selu/scale", SELU_SCALE)
        scaled_alpha = self.float_constant("const/selu/scale_alpha", SELU_SCALE * SELU_ALPHA)
        exp_minus_one = self.add(
            "Sub", [self.add("Exp", [x], base), self.float_constant("const/one", 1.0)], base
        )
        negative = self.add("Mul", [exp_minus_one, scaled_alpha], base)
        return self.add("Where", [positive, self.add("Mul", [x, scale], base), negative], base)

    def batch_normalization(self, layer: BatchNormalization, x: str) -> str:
        # ONNX's BatchNormalization normalises axis 1; this layer normalises any axis (the last
        # by default), so its inference form is written as the per-feature affine map it is, in
        # the order the Rust core computes it: (x - mean) * (1 / sqrt(variance + epsilon)) *
        # gamma + beta, each constant shaped to broadcast along the feature axis.
        rank = len(layer._input_shape)
        trailing = rank - 1 - (layer.axis % rank)
        weights = {
            key: value.reshape(value.shape + (1,) * trailing)
            for key, value in _weights(layer).items()
        }
        epsilon = self.dtype.type(layer.epsilon)
        variance = weights["moving_variance"].astype(self.dtype)
        inverse_std = np.power(np.sqrt(variance + epsilon), self.dtype.type(-1.0))
        name = layer.name
        y = self.add("Sub", [x, self.constant(f"{name}/moving_mean", weights["moving_mean"])], name)
        y = self.add("Mul", [y, self.float_constant(f"{name}/inverse_std", inverse_std)], name)
        if layer.scale:
            y = self.add("Mul", [y, self.constant(f"{name}/gamma", weights["gamma"])], name)
        if layer.center:
            y = self.add("Add", [y, self.constant(f"{name}/beta", weights["beta"])], name)
        return y

    def embedding(self, layer: Embedding, x: str) -> str:
        if layer.mask_zero:
            raise ValueError(
                f"the layer {layer.name!r} (Embedding) has mask_zero=True, and export() cannot "
                "write masking: the layers after it skip padded steps, which the ONNX recurrent "
                "and pooling operators do not. Export a model built with mask_zero=False"
            )
        ids = self.add("Cast", [x], layer.name, to=self.onnx.TensorProto.INT64)
        table = self.constant(f"{layer.name}/embeddings", _weights(layer)["embeddings"])
        return self.add("Gather", [table, ids], layer.name, axis=0)

    def global_average_pooling(self, layer: GlobalAveragePooling1D, x: str) -> str:
        time_axis = 1 if layer.data_format == "channels_last" else 2
        keepdims = int(layer.keepdims)
        if self.opset >= 18:
            axes = self.int_constant(f"{layer.name}/axes", [time_axis])
            return self.add("ReduceMean", [x, axes], layer.name, keepdims=keepdims)
        return self.add("ReduceMean", [x], layer.name, axes=[time_axis], keepdims=keepdims)

    def reverse_time(self, x: str, axis: int, name: str) -> str:
        """``x`` with axis ``axis`` in reverse order (a slice with step -1)."""
        return self.add(
            "Slice",
            [
                x,
                self.int_constant("const/reverse/starts", [-1]),
                self.int_constant("const/reverse/ends", [np.iinfo(np.int64).min]),
                self.int_constant(f"const/reverse/axis_{axis}", [axis]),
                self.int_constant("const/reverse/steps", [-1]),
            ],
            name,
        )

    def recurrent(self, layer, weights: dict, x: str, name: str, flip_sequence=False) -> str:
        """A SimpleRNN, LSTM or GRU (``layer`` gives the settings, ``weights`` the arrays by
        short name) over ``x`` (batch, time, features). ``flip_sequence`` reverses a returned
        sequence (Bidirectional's backward half)."""
        kind = type(layer).__name__
        cell_activations = [self.cell_activation(layer, "activation", layer.activation)]
        if isinstance(layer, (LSTM, GRU)):
            gate = self.cell_activation(layer, "recurrent_activation", layer.recurrent_activation)
            cell_activations = [gate, *cell_activations]
        if isinstance(layer, LSTM):
            # f (gates), g (candidate), h (output): Keras uses `activation` for both g and h.
            cell_activations.append(cell_activations[-1])
        op, gate_order, attributes = {
            "SimpleRNN": ("RNN", [0], {}),
            # ONNX's LSTM gates are (i, o, f, c); Keras's (i, f, c, o).
            "LSTM": ("LSTM", [0, 3, 1, 2], {}),
            # ONNX's GRU gates are (z, r, h) like Keras's; linear_before_reset=1 is Keras's
            # reset_after=True.
            "GRU": ("GRU", [0, 1, 2], {"linear_before_reset": 1}),
        }[kind]
        units = layer.units
        kernel = _reorder_gates(weights["kernel"], gate_order)
        recurrent_kernel = _reorder_gates(weights["recurrent_kernel"], gate_order)
        inputs = [
            self.constant(f"{name}/W", kernel.T[np.newaxis]),
            self.constant(f"{name}/R", recurrent_kernel.T[np.newaxis]),
        ]
        if layer.use_bias:
            bias = weights["bias"]
            if kind == "GRU":
                # Keras's bias[0] (input) and bias[1] (recurrent) are ONNX's Wb and Rb.
                input_bias = _reorder_gates(bias[0], gate_order)
                recurrent_bias = _reorder_gates(bias[1], gate_order)
            else:
                input_bias = _reorder_gates(bias, gate_order)
                recurrent_bias = np.zeros_like(input_bias)
            inputs.append(
                self.constant(f"{name}/B", np.concatenate([input_bias, recurrent_bias])[None])
            )
        # The ONNX operators read time-major sequences (layout=0 is the one onnxruntime runs).
        time_major = self.add("Transpose", [x], name, perm=[1, 0, 2])
        if layer.go_backwards:
            # Reading the reversed sequence forwards gives Keras's go_backwards outputs, which
            # come in processing order.
            time_major = self.reverse_time(time_major, 0, name)
        outputs = 3 if kind == "LSTM" else 2
        sequence, last = self.add(
            op,
            [time_major, *inputs],
            name,
            outputs=outputs,
            hidden_size=units,
            activations=cell_activations,
            **attributes,
        )[:2]
        if not layer.return_sequences:
            # Y_h: (num_directions=1, batch, units).
            return self.add("Squeeze", [last, self.int_constant("const/axes/0", [0])], name)
        # Y: (time, num_directions=1, batch, units).
        sequence = self.add("Squeeze", [sequence, self.int_constant("const/axes/1", [1])], name)
        if flip_sequence:
            sequence = self.reverse_time(sequence, 0, name)
        return self.add("Transpose", [sequence], name, perm=[1, 0, 2])

    def cell_activation(self, layer, setting: str, function) -> str:
        name = activations.serialize(function)
        if name not in _CELL_ACTIVATIONS:
            known = ", ".join(_CELL_ACTIVATIONS)
            raise ValueError(
                f"the layer {layer.name!r} ({type(layer).__name__}) has {setting}={name!r}, which "
                "export() cannot write into an ONNX recurrent operator faithfully (see "
                f"docs/onnx.md); the cell activations it writes are {known}"
            )
        return _CELL_ACTIVATIONS[name]

    def bidirectional(self, layer: Bidirectional, x: str) -> str:
        weights = _weights(layer)
        forward_layer = layer.layer
        backward_layer = layer.backward_layer
        if backward_layer is None:
            # What the Rust core builds: the wrapped layer's settings, going backwards.
            backward_layer = copy.copy(forward_layer)
            backward_layer.go_backwards = True
        prefix = _snake_kind(forward_layer)

        def half(direction: str) -> dict:
            start = f"{direction}_{prefix}/"
            return {
                key[len(start) :]: value for key, value in weights.items() if key.startswith(start)
            }

        forward = self.recurrent(
            forward_layer, half("forward"), x, f"{layer.name}/forward_{prefix}"
        )
        # The backward half's sequence is flipped back to the input's time order, as in the
        # Rust core (and Keras), before the merge.
        backward = self.recurrent(
            backward_layer,
            half("backward"),
            x,
            f"{layer.name}/backward_{prefix}",
            flip_sequence=layer.return_sequences,
        )
        if layer.merge_mode == "concat":
            return self.add("Concat", [forward, backward], layer.name, axis=-1)
        if layer.merge_mode == "sum":
            return self.add("Add", [forward, backward], layer.name)
        if layer.merge_mode == "ave":
            total = self.add("Add", [forward, backward], layer.name)
            return self.add("Mul", [total, self.float_constant("const/ave/half", 0.5)], layer.name)
        if layer.merge_mode == "mul":
            return self.add("Mul", [forward, backward], layer.name)
        raise ValueError(
            f"the layer {layer.name!r} (Bidirectional) has merge_mode={layer.merge_mode!r}, "
            "which export() cannot write"
        )


def _weights(layer) -> dict:
    """The layer's weights as numpy arrays, by the names the layer gives them."""
    return {name: tensor.numpy() for name, tensor, _ in layer._weight_entries()}


def _reorder_gates(array: np.ndarray, order: list) -> np.ndarray:
    """``array``'s gate blocks (equal blocks along its last axis) in ``order``."""
    blocks = np.split(array, len(order), axis=-1)
    return np.concatenate([blocks[i] for i in order], axis=-1)


def _snake_kind(layer) -> str:
    return {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}[type(layer).__name__]


def _symbolic(shape: list, which: str) -> list:
    """A shape for ONNX: ``"batch"`` for the batch axis, ``"{which}_dim_{axis}"`` for another
    open one."""
    return [
        (BATCH_AXIS_NAME if axis == 0 else f"{which}_dim_{axis}") if size is None else size
        for axis, size in enumerate(shape)
    ]


__all__ = ["DEFAULT_OPSET", "export"]
