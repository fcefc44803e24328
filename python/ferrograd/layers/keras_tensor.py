"""``KerasTensor``: the symbolic tensor that functional models are drawn with, and the record
of a symbolic layer call (``Call``) that ties a call's inputs to its outputs."""

from __future__ import annotations

from ferrograd.layers.shapes import format_shape


class KerasTensor:
    """The symbolic output of ``Input`` or of a layer called on one: a shape and a history,
    no values.

    Args:
        shape: the shape, batch axis first (None where unknown).
        dtype: ``"float32"``, ``"float64"``, or an integer dtype for an ``Input`` of ids.
        producer: the layer whose call made it (None for a free-standing tensor).
        inputs: the symbolic tensors that call read.

    Examples:
        >>> inputs = layers.Input(shape=(4,))
        >>> layers.Dense(2)(inputs)
        <KerasTensor shape=(None, 2), dtype=float32, produced by 'dense'>
    """

    def __init__(self, shape, dtype="float32", producer=None, inputs=()):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._producer = producer
        self._inputs = tuple(inputs)
        # The call that made it (shared by the outputs of one call) and its output index.
        self._call = None
        self._index = 0

    @property
    def ndim(self) -> int:
        """The number of axes, batch axis included."""
        return len(self.shape)

    @property
    def name(self) -> str:
        """The producing layer's name (with the output index when the call has several)."""
        base = self._producer.name if self._producer is not None else "keras_tensor"
        return base if self._index == 0 else f"{base}_{self._index}"

    def __repr__(self):
        origin = f", produced by {self._producer.name!r}" if self._producer else ""
        return f"<KerasTensor shape={format_shape(self.shape)}, dtype={self.dtype}{origin}>"


class Call:
    """One symbolic call of a layer (or model): what it read and what it made.

    Args:
        layer: the layer or model called.
        inputs: the symbolic tensors it read.
        many_inputs: whether it was called on a list.
        outputs: the symbolic tensors it made.
        training: the ``training=`` the call was made with (None: it follows the pass).

    Examples:
        >>> x = layers.Input(shape=(3,))
        >>> y = layers.Dense(2, name="d")(x)
        >>> y._call.inputs == [x]
        True
    """

    def __init__(self, layer, inputs, many_inputs, outputs, training=None):
        self.layer = layer
        self.inputs = list(inputs)
        self.many_inputs = many_inputs
        self.outputs = list(outputs)
        self.training = training

    @property
    def input(self):
        """The input, or the list of inputs when the call took a list."""
        return list(self.inputs) if self.many_inputs else self.inputs[0]

    @property
    def output(self):
        """The output, or the list of outputs when there are several."""
        return self.outputs[0] if len(self.outputs) == 1 else list(self.outputs)


def symbolic_call(layer, inputs, output_shape, dtype, many_inputs=False, training=None):
    """Records a call of ``layer`` on symbolic ``inputs`` and returns its output(s).

    Args:
        layer: the layer or model called.
        inputs: the symbolic input tensors (a list; one element when called on one tensor).
        output_shape: one shape, or a list of shapes for several outputs.
        dtype: the outputs' dtype.
        many_inputs: whether the layer was called on a list.
        training: Keras's ``training=`` argument of the call: None follows the mode of each
            pass; True or False fixes it (``base(x, training=False)`` keeps a base model in
            inference mode while the outer model trains).

    Examples:
        >>> x = layers.Input(shape=(3,))
        >>> symbolic_call(layers.Dense(2, name="d"), [x], (None, 2), "float32").shape
        (None, 2)
    """
    many_outputs = isinstance(output_shape, list)
    shapes = output_shape if many_outputs else [output_shape]
    outputs = [KerasTensor(s, dtype, producer=layer, inputs=inputs) for s in shapes]
    if training is not None and not isinstance(training, bool):
        raise TypeError(
            f"training= of a symbolic call of {layer.name!r} must be None, True or False, "
            f"received {training!r}"
        )
    call = Call(layer, inputs, many_inputs, outputs, training)
    for index, tensor in enumerate(outputs):
        tensor._call = call
        tensor._index = index
    calls = layer.__dict__.setdefault("_calls", [])
    calls.append(call)
    return outputs if many_outputs else outputs[0]


def first_call(layer) -> Call:
    """The first symbolic call of ``layer``, or a ValueError saying it has none.

    Args:
        layer: a layer.

    Examples:
        >>> first_call(layers.Dense(2, name="d"))
        Traceback (most recent call last):
        ValueError: ...
    """
    calls = layer.__dict__.get("_calls")
    if not calls:
        raise ValueError(
            f"the layer {layer.name!r} has never been called on a symbolic input, so it has no "
            "defined input or output"
        )
    return calls[0]
