"""Tracing: turning Python code (a subclassed layer's or model's ``call()``, a ``Lambda``, a
custom loss) into graph nodes that the Rust loops run, without calling Python per batch.

The code runs once on small tensors of zeros while the core records every tensor op it makes
(``ferrograd._core._trace_*``); a built-in layer or model it calls is noted as one call. The
recording becomes the nodes of a ``_core.Graph``: the calls become layer and model nodes, the
ops op nodes, the weights made with ``add_weight`` variable nodes, and any other tensor a
constant.

The code runs twice, with batches of two sizes, so that a shape taken from the batch
(``ops.reshape(x, (batch, -1, heads, depth))``, ``random.normal((batch, dim))``) follows the
batch of each pass; an op whose settings change with the batch in any other way cannot be
traced and says so. It also runs once with ``training=True`` and once with ``training=False``:
when the code branches on ``training``, the model keeps a graph for each mode.

Python control flow on the values of tensors cannot be traced: reading a traced value
(``float(x)``, ``if x > 0:``, ``x.numpy()``) raises a ``TracingError`` naming the line, and
``compile(run_eagerly=True)`` runs such code in Python at each batch instead.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.errors import TracedValueError, TracingError

# The two batch sizes of the traces: small, and unlike each other, so that a dimension that
# follows the batch shows as one that differs between the traces.
TRACE_BATCHES = (2, 3)


@dataclass
class _Recording:
    """The layers and models called during one trace, by token."""

    calls: list = field(default_factory=list)
    # The losses the traced code added (add_loss), in order.
    losses: list = field(default_factory=list)


_active: _Recording | None = None


def is_tracing() -> bool:
    """Whether Python code is being traced now (ops are being recorded).

    Examples:
        >>> fg.tracing.is_tracing()
        False
    """
    return _active is not None and _core._trace_active()


def add_loss(loss: Tensor) -> bool:
    """Takes a loss the traced code added (``add_loss``) into the graph being traced; False
    when nothing is being traced.

    Args:
        loss: a tensor.

    Examples:
        >>> add_loss(fg.tensor(1.0))
        False
    """
    if not is_tracing():
        return False
    _active.losses.append(loss)
    return True


def run_builtin(owner, inputs: Sequence[Tensor], run: Callable, training=None):
    """Runs a built-in layer or model on tensors; while tracing, notes it as one call (its own
    ops unrecorded) and runs it in inference mode, so that tracing changes no state (batch
    normalisation's moving statistics) and draws no dropout.

    Args:
        owner: the layer or model.
        inputs: the tensors it reads.
        run: computes its output(s) given the training mode to run in.
        training: the ``training=`` argument of the call (None, True or False).

    Returns:
        What ``run`` returns.

    Examples:
        >>> dense = layers.Dense(2)
        >>> x = fg.ones(1, 3)
        >>> run_builtin(dense, [x], lambda mode: dense(x, training=mode)).shape
        (1, 2)
    """
    if not is_tracing():
        return run(training)
    _core._trace_pause()
    try:
        outputs = run(False)
    finally:
        _core._trace_resume()
    token = len(_active.calls)
    _active.calls.append((owner, training))
    listed = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
    _core._trace_call(token, list(inputs), listed)
    return outputs


@dataclass
class Trace:
    """One run of the traced code: the recorded steps, the calls by token, the input and
    output tensors, and the output structure."""

    steps: list
    calls: list
    inputs: list
    outputs: list
    many_outputs: bool
    losses: list = field(default_factory=list)


def record(fn: Callable, inputs: list[Tensor], where: str) -> Trace:
    """Runs ``fn(inputs)`` with the recorder on.

    Args:
        fn: takes the list of input tensors, returns a tensor or a list/tuple/dict of them.
        inputs: the input tensors.
        where: names the traced code in messages (``"call() of model 'my_model'"``).

    Returns:
        The ``Trace``.

    Raises:
        TracingError: the code read a traced value or returned something else than tensors.

    Examples:
        >>> trace = record(lambda xs: xs[0] * 2.0, [fg.zeros(2, 3)], "an example")
        >>> [step[0] for step in trace.steps]
        ['op']
    """
    global _active
    if _active is not None:
        raise TracingError(f"{where}: tracing does not nest")
    _active = _Recording()
    _core._trace_start()
    _core._trace_inputs(list(inputs))
    try:
        result = fn(inputs)
    except TracedValueError as error:
        raise TracingError(_value_read_message(where, error)) from None
    finally:
        steps = _core._trace_finish()
        recording, _active = _active, None
    many = isinstance(result, list | tuple)
    outputs = list(result) if many else [result]
    for output in outputs:
        if not isinstance(output, Tensor):
            raise TracingError(
                f"{where} returned {type(output).__name__} {output!r}; it must return a tensor "
                "or a list or tuple of tensors"
            )
    return Trace(steps, recording.calls, list(inputs), outputs, many, recording.losses)


def _value_read_message(where: str, error: Exception) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    user = [f for f in frames if "/ferrograd/" not in f.filename.replace("\\", "/")]
    line = f" at {user[-1].filename}:{user[-1].lineno} ({user[-1].line})" if user else ""
    return (
        f"{where} cannot be traced{line}: {error}. Python control flow on the values of "
        "tensors cannot become a graph; compute with ferrograd.ops (ops.where, ops.maximum, "
        "...) instead, or compile the model with run_eagerly=True to run call() in Python at "
        "each batch"
    )


def _uid(tensor: Tensor) -> int:
    return _core._tensor_uid(tensor)


@dataclass
class Variable:
    """A weight made in Python (``add_weight``), as the graph names it."""

    name: str
    tensor: Tensor
    trainable: bool
    regularizer: tuple | None = None


@dataclass
class TracedGraph:
    """What a traced function becomes: a ``_core.Graph``, the built-in layers and models it
    calls (in the graph's order), and whether it returns several outputs."""

    graph: object
    layers: list
    many_outputs: bool


def _batch_reshape(op1: dict, op2: dict, out1, out2, where: str) -> dict:
    """The reshape of two traces as one that follows the batch: the target dimension that
    differs (twice the batch in one, three times in the other, ...) becomes -1, and a -1 the
    code wrote becomes the size it stood for."""
    shape1, shape2 = op1["reshape"]["shape"], op2["reshape"]["shape"]
    differing = [i for i, (a, b) in enumerate(zip(shape1, shape2, strict=True)) if a != b]
    batch1, batch2 = TRACE_BATCHES
    ok = len(shape1) == len(shape2) and len(differing) == 1
    if ok:
        i = differing[0]
        ok = shape1[i] % batch1 == 0 and shape1[i] // batch1 * batch2 == shape2[i]
    if not ok:
        raise TracingError(
            f"{where}: a reshape to {tuple(shape1)} depends on the batch size in a way the tracer "
            "cannot follow; write the batch dimension as -1"
        )
    shape = list(shape1)
    for j, d in enumerate(shape):
        if d == -1:
            if out1[j] != out2[j]:
                raise TracingError(
                    f"{where}: a reshape has two dimensions that follow the batch size"
                )
            shape[j] = out1[j]
    shape[differing[0]] = -1
    return {"reshape": {"shape": shape}}


def _batch_creation(op1: dict, op2: dict, where: str) -> dict:
    """A tensor made from a shape (``Full``, ``Random``) whose batch-sized axes follow the
    batch of each pass."""
    (kind, settings1), (_, settings2) = next(iter(op1.items())), next(iter(op2.items()))
    shape1, shape2 = settings1["shape"], settings2["shape"]
    same_rest = {k: v for k, v in settings1.items() if k != "shape"} == {
        k: v for k, v in settings2.items() if k != "shape"
    }
    batch_axes = [i for i, (a, b) in enumerate(zip(shape1, shape2, strict=True)) if a != b]
    if (
        not same_rest
        or len(shape1) != len(shape2)
        or any((shape1[i], shape2[i]) != TRACE_BATCHES for i in batch_axes)
    ):
        raise TracingError(
            f"{where}: a tensor of shape {tuple(shape1)} made in the traced code depends on the "
            "batch size in a way the tracer cannot follow"
        )
    return {kind: {**settings1, "batch_axes": batch_axes}}


def _merge_op(op1: dict, op2: dict, out1, out2, where: str) -> dict:
    if op1 == op2:
        return op1
    kind1, kind2 = (
        next(iter(op1)) if isinstance(op1, dict) else op1,
        (next(iter(op2)) if isinstance(op2, dict) else op2),
    )
    if kind1 != kind2:
        raise TracingError(
            f"{where} takes different paths for batches of different sizes ({kind1} against "
            f"{kind2}); it cannot be traced into one graph"
        )
    if kind1 == "reshape":
        return _batch_reshape(op1, op2, out1, out2, where)
    if kind1 in ("full", "random"):
        return _batch_creation(op1, op2, where)
    raise TracingError(
        f"{where}: the settings of a traced {kind1} op depend on the batch size "
        f"({json.dumps(op1)} against {json.dumps(op2)}); this cannot be traced"
    )


def _shape_of_both(tensor1: Tensor, tensor2: Tensor) -> list:
    pairs = zip(tuple(tensor1.shape), tuple(tensor2.shape), strict=True)
    return [a if a == b else None for a, b in pairs]


def build_graph(
    first: Trace,
    second: Trace,
    input_shapes: list,
    variables: dict[int, Variable],
    dtype: str,
    where: str,
) -> TracedGraph:
    """The graph two traces of the same code (batches of ``TRACE_BATCHES``) describe.

    Args:
        first: the trace with the first batch size.
        second: the trace with the second.
        input_shapes: each input's shape, batch axis first (None).
        variables: the weights made in Python, by tensor uid.
        dtype: the graph's dtype.
        where: names the traced code in messages.

    Returns:
        A ``TracedGraph``.

    Raises:
        TracingError: the traces differ in a way one graph cannot hold.

    Examples:
        >>> f = lambda xs: xs[0] * 2.0
        >>> traces = [record(f, [fg.zeros(b, 3)], "f") for b in TRACE_BATCHES]
        >>> build_graph(*traces, [(None, 3)], {}, "float32", "f").graph.output_shape
        [None, 3]
    """
    if len(first.steps) != len(second.steps) or [s[0] for s in first.steps] != [
        s[0] for s in second.steps
    ]:
        raise TracingError(
            f"{where} takes different paths for batches of different sizes; it cannot be "
            "traced into one graph (compile with run_eagerly=True)"
        )
    nodes = [("input", [None, *tuple(shape)[1:]]) for shape in input_shapes]
    refs: dict[int, tuple[int, int]] = {}
    twins: dict[int, Tensor] = {}
    for index, (tensor1, tensor2) in enumerate(zip(first.inputs, second.inputs, strict=True)):
        refs[_uid(tensor1)] = (index, 0)
        twins[_uid(tensor1)] = tensor2
    # The built-in layers the graph's layer nodes index, and every layer or model called.
    core_layers, layers, layer_index = [], [], {}

    def ref_of(tensor: Tensor, twin: Tensor):
        uid = _uid(tensor)
        if uid in refs:
            return refs[uid]
        if uid in variables:
            variable = variables[uid]
            nodes.append(
                (
                    "variable",
                    variable.name,
                    variable.tensor,
                    variable.trainable,
                    variable.regularizer,
                )
            )
        else:
            if tensor.grad_fn is not None:
                raise TracingError(
                    f"{where} computes a tensor of shape {tuple(tensor.shape)} with an operation "
                    "the tracer does not record (from outside ferrograd.ops and the Tensor "
                    "methods); compile with run_eagerly=True to run it in Python"
                )
            if tuple(tensor.shape) != tuple(twin.shape):
                raise TracingError(
                    f"{where} makes a constant of shape {tuple(tensor.shape)} from the batch "
                    "size outside ferrograd.ops (numpy?); use ferrograd.ops so that it follows "
                    "the batch"
                )
            constant = _core.tensor(np.array(tensor.detach().numpy()), dtype=str(tensor.dtype))
            nodes.append(("constant", constant))
        refs[uid] = (len(nodes) - 1, 0)
        return refs[uid]

    for step1, step2 in zip(first.steps, second.steps, strict=True):
        kind, _, inputs1, outputs1 = step1
        _, _, inputs2, outputs2 = step2
        sources = [ref_of(t1, t2) for t1, t2 in zip(inputs1, inputs2, strict=True)]
        wiring = [r[0] if r[1] == 0 else list(r) for r in sources]
        if kind == "op":
            op1, op2 = json.loads(step1[1]), json.loads(step2[1])
            op = _merge_op(op1, op2, tuple(outputs1.shape), tuple(outputs2.shape), where)
            nodes.append(("op", json.dumps(op), wiring, _shape_of_both(outputs1, outputs2)))
            made = [(outputs1, outputs2)]
        else:
            owner, training = first.calls[step1[1]]
            if second.calls[step2[1]][0] is not owner:
                raise TracingError(f"{where} calls different layers for batches of different sizes")
            from ferrograd.models.model import Model

            if isinstance(owner, Model):
                graph = owner._require_graph()
                nodes.append(("model", graph, wiring, owner.name, training))
            else:
                if id(owner) not in layer_index:
                    layer_index[id(owner)] = len(core_layers)
                    core_layers.append(owner)
                nodes.append((layer_index[id(owner)], wiring, training))
            if all(owner is not seen for seen in layers):
                layers.append(owner)
            made = list(zip(outputs1, outputs2, strict=True))
        for position, (tensor1, tensor2) in enumerate(made):
            refs.setdefault(_uid(tensor1), (len(nodes) - 1, position))
            twins[_uid(tensor1)] = tensor2
    outputs = [ref_of(t1, t2) for t1, t2 in zip(first.outputs, second.outputs, strict=True)]
    if len(first.losses) != len(second.losses):
        raise TracingError(f"{where} adds a different number of losses for different batches")
    # The added losses ride as the last outputs; the graph sums them into the training loss.
    added = [ref_of(t1, t2) for t1, t2 in zip(first.losses, second.losses, strict=True)]
    graph = _core.Graph(
        [layer._core for layer in core_layers],
        nodes,
        list(range(len(input_shapes))),
        outputs + added if first.many_outputs or added else outputs[0],
        dtype,
        added_losses=len(added),
    )
    return TracedGraph(graph, layers, first.many_outputs)


def _is_model(obj) -> bool:
    from ferrograd.models.model import Model

    return isinstance(obj, Model)


def trace_function(
    fn: Callable,
    input_shapes: list,
    input_dtypes: list,
    dtype: str,
    variables: Callable[[], dict[int, Variable]],
    where: str,
) -> TracedGraph:
    """Traces ``fn`` on inputs of ``input_shapes`` (batch axis first, None) into a graph.

    Args:
        fn: takes the list of input tensors and the training mode, returns tensor(s).
        input_shapes: the inputs' shapes.
        input_dtypes: the inputs' dtypes (an integer dtype is traced with float zeros, as
            the model receives ids).
        dtype: the graph's dtype.
        variables: returns the weights made in Python by tensor uid (called after the first
            trace, which may create them).
        where: names the code in messages.

    Returns:
        A ``TracedGraph`` whose graph holds an inference graph too when ``fn`` branches on
        the training mode.

    Examples:
        >>> traced = trace_function(
        ...     lambda xs, training: xs[0] + 1.0, [(None, 3)], ["float32"], "float32",
        ...     dict, "f")
        >>> traced.graph.output_shape
        [None, 3]
    """

    def one(batch: int, training: bool) -> Trace:
        inputs = [
            _core.zeros(batch, *[int(d) for d in tuple(shape)[1:]], dtype=dtype)
            for shape in input_shapes
        ]
        return record(lambda xs: fn(xs, training), inputs, where)

    for shape in input_shapes:
        if any(d is None for d in tuple(shape)[1:]):
            raise TracingError(
                f"{where}: inputs of shape {tuple(shape)} cannot be traced; give every dimension "
                "but the batch (for example Input(shape=(maxlen,)))"
            )
    train_first = one(TRACE_BATCHES[0], True)
    train_second = one(TRACE_BATCHES[1], True)
    known = variables()
    traced = build_graph(train_first, train_second, input_shapes, known, dtype, where)
    infer_first = one(TRACE_BATCHES[0], False)
    if _same_path(train_first, infer_first):
        return traced
    infer_second = one(TRACE_BATCHES[1], False)
    inference = build_graph(infer_first, infer_second, input_shapes, known, dtype, where)
    traced.graph.set_inference_graph(inference.graph)
    for layer in inference.layers:
        if layer not in traced.layers:
            traced.layers.append(layer)
    return traced


def _same_path(train: Trace, infer: Trace) -> bool:
    """Whether the code did the same in both modes (ops and calls alike; a call's own mode
    may differ, as it follows the pass)."""
    if len(train.steps) != len(infer.steps):
        return False
    for a, b in zip(train.steps, infer.steps, strict=True):
        if a[0] != b[0]:
            return False
        if a[0] == "op" and a[1] != b[1]:
            return False
        if a[0] == "call" and train.calls[a[1]][0] is not infer.calls[b[1]][0]:
            return False
    return True
