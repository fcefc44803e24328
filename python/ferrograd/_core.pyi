"""Type stubs for ``ferrograd._core``, the native module built from ``src/python/``.

Checked against the built module by ``tests/test_stubs.py`` (``python -m mypy.stubtest``).
"""

import os
from collections.abc import Iterable, Iterator, Sequence
from types import EllipsisType
from typing import Any, ClassVar, TypeAlias, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BatchOrder",
    "Tensor",
    "tensor",
    "zeros",
    "ones",
    "full",
    "randn",
    "rand",
    "arange",
    "set_seed",
    "random_seed",
    "set_num_threads",
    "get_num_threads",
    "is_grad_enabled",
    "_set_grad_enabled",
    "concat",
    "stack",
    "where",
    "_random",
    "_draw_seed",
    "Graph",
    "Layer",
    "Loss",
    "Metric",
    "Optimizer",
    "Schedule",
    "apply_unary",
    "assign",
    "build_layer",
    "evaluate",
    "fit",
    "initialize",
    "defer_initial_values",
    "layer_kinds",
    "read_idx",
    "regularization_penalty",
    "resolve_accuracy",
    "safetensors_dumps",
    "safetensors_loads",
    "_share_numpy_array",
    "_tensor_uid",
    "_trace_active",
    "_trace_call",
    "_trace_finish",
    "_trace_inputs",
    "_trace_pause",
    "_trace_resume",
    "_trace_start",
]

# What names a dtype: "float32", "float64" (or "f32", "f64", "double"), a numpy dtype or a type
# such as np.float64 or float; None means float32. Anything else is a TypeError at run time.
_DTypeLike: TypeAlias = str | np.dtype[Any] | type[Any] | None

# What converts to a tensor: a tensor, a numpy array of any real dtype, a number or nested lists.
_TensorLike: TypeAlias = Tensor | npt.ArrayLike

# One operand of an arithmetic or comparison operator.
_Operand: TypeAlias = Tensor | float | npt.ArrayLike

_Axis: TypeAlias = int | Sequence[int] | None
_Shape: TypeAlias = int | Sequence[int]

# One item of an index: an integer, a slice, None (a new axis), ..., a 1-D integer array or
# list (a gather), or a boolean mask.
_IndexItem: TypeAlias = (
    int | slice | None | EllipsisType | Sequence[int] | Sequence[bool] | npt.NDArray[Any]
)
_Index: TypeAlias = _IndexItem | tuple[_IndexItem, ...]

@final
class Tensor:
    """An n-dimensional array of float32 or float64 values that can record the operations made
    with it and backpropagate through them."""

    # numpy defers binary operators with a tensor on the right to the tensor's reflected methods.
    __array_ufunc__: ClassVar[None]

    def __new__(
        cls, data: _TensorLike, dtype: _DTypeLike = None, requires_grad: bool = False
    ) -> Tensor: ...
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def dtype(self) -> np.dtype[np.float32 | np.float64]: ...
    @property
    def ndim(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def requires_grad(self) -> bool: ...
    @requires_grad.setter
    def requires_grad(self, value: bool) -> None: ...
    @property
    def is_leaf(self) -> bool: ...
    @property
    def grad_fn(self) -> str | None:
        """The name of the op that produced this tensor, or None for a leaf."""
    @property
    def value(self) -> Tensor:
        """The tensor itself (a Keras variable's ``.value``)."""
    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a leaf's), or None before any backward pass."""
    @grad.setter
    def grad(self, value: _TensorLike | None) -> None: ...
    @property
    def T(self) -> Tensor: ...
    def backward(self, gradient: _TensorLike | None = None, retain_graph: bool = False) -> None:
        """Backpropagates from this tensor into the ``.grad`` of every leaf that requires one."""
    def detach(self) -> Tensor: ...
    def zero_grad(self) -> None:
        """Sets the gradient to None (PyTorch's ``zero_grad(set_to_none=True)``)."""
    def numpy(self) -> npt.NDArray[np.float32 | np.float64]:
        """A copy of the values as a numpy array of the tensor's dtype."""
    def __array__(
        self, dtype: npt.DTypeLike | None = None, copy: bool | None = None
    ) -> npt.NDArray[Any]: ...
    def item(self) -> float: ...
    def tolist(self) -> Any: ...
    def astype(self, dtype: _DTypeLike) -> Tensor: ...
    def __iter__(self) -> Iterator[Tensor]:
        """The rows (the sub-tensors along the first axis), each computed when it is reached."""
    def __len__(self) -> int: ...
    def __float__(self) -> float: ...
    def __int__(self) -> int: ...
    def __bool__(self) -> bool: ...
    def __hash__(self) -> int: ...
    def __getitem__(self, key: _Index, /) -> Tensor: ...
    def __add__(self, value: _Operand, /) -> Tensor: ...
    def __radd__(self, value: _Operand, /) -> Tensor: ...
    def __sub__(self, value: _Operand, /) -> Tensor: ...
    def __rsub__(self, value: _Operand, /) -> Tensor: ...
    def __mul__(self, value: _Operand, /) -> Tensor: ...
    def __rmul__(self, value: _Operand, /) -> Tensor: ...
    def __truediv__(self, value: _Operand, /) -> Tensor: ...
    def __rtruediv__(self, value: _Operand, /) -> Tensor: ...
    def __pow__(self, value: _Operand, mod: None = None, /) -> Tensor: ...
    def __rpow__(self, value: _Operand, mod: None = None, /) -> Tensor: ...
    def __matmul__(self, value: _TensorLike, /) -> Tensor: ...
    def __rmatmul__(self, value: _TensorLike, /) -> Tensor: ...
    def matmul(self, other: _TensorLike) -> Tensor: ...
    def __neg__(self) -> Tensor: ...
    def __pos__(self) -> Tensor: ...
    def __abs__(self) -> Tensor: ...
    # Comparisons give 0/1 tensors of the operands' dtype, never bools.
    def __lt__(self, value: _Operand, /) -> Tensor: ...
    def __le__(self, value: _Operand, /) -> Tensor: ...
    def __gt__(self, value: _Operand, /) -> Tensor: ...
    def __ge__(self, value: _Operand, /) -> Tensor: ...
    def __eq__(self, value: object, /) -> Tensor: ...  # type: ignore[override]
    def __ne__(self, value: object, /) -> Tensor: ...  # type: ignore[override]
    def exp(self) -> Tensor: ...
    def log(self) -> Tensor: ...
    def sqrt(self) -> Tensor: ...
    def abs(self) -> Tensor: ...
    def square(self) -> Tensor: ...
    def relu(self) -> Tensor: ...
    def sigmoid(self) -> Tensor: ...
    def tanh(self) -> Tensor: ...
    def softmax(self, axis: int = -1) -> Tensor: ...
    def log_softmax(self, axis: int = -1) -> Tensor: ...
    def sum(self, axis: _Axis = None, keepdims: bool = False) -> Tensor: ...
    def mean(self, axis: _Axis = None, keepdims: bool = False) -> Tensor: ...
    def max(self, axis: _Axis = None, keepdims: bool = False) -> Tensor: ...
    def reshape(self, *shape: _Shape) -> Tensor:
        """``reshape(2, 3)`` or ``reshape((2, 3))``; one dimension may be -1."""
    def transpose(self, *axes: _Shape) -> Tensor:
        """``transpose()`` reverses the axes; ``transpose(1, 0, 2)`` or
        ``transpose((1, 0, 2))`` permutes them."""
    def clip(self, min: float | None = None, max: float | None = None) -> Tensor: ...

    # --- PyTorch-style methods and in-place updates (ferrograd.ops builds on them) -----------
    def sin(self) -> Tensor: ...
    def cos(self) -> Tensor: ...
    def tan(self) -> Tensor: ...
    def sinh(self) -> Tensor: ...
    def cosh(self) -> Tensor: ...
    def expm1(self) -> Tensor: ...
    def log1p(self) -> Tensor: ...
    def log2(self) -> Tensor: ...
    def rsqrt(self) -> Tensor: ...
    def sign(self) -> Tensor: ...
    def floor(self) -> Tensor: ...
    def ceil(self) -> Tensor: ...
    def round(self) -> Tensor: ...
    def pow(self, exponent: _Operand) -> Tensor:
        """``self ** exponent`` (a number or a tensor, broadcast), as PyTorch's ``pow``."""
    def maximum(self, other: _Operand) -> Tensor:
        """The elementwise larger of the two (broadcast); ties send the gradient to
        ``self``."""
    def minimum(self, other: _Operand) -> Tensor:
        """The elementwise smaller of the two (broadcast)."""
    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """``clip`` under PyTorch's name."""
    def min(
        self,
        axis: _Axis = None,
        keepdims: bool = False,
        *,
        dim: _Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor: ...
    def prod(
        self,
        axis: _Axis = None,
        keepdims: bool = False,
        *,
        dim: _Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor: ...
    def argmax(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The position of the largest value (over the flattened tensor when no axis is
        given), as a float tensor without a graph; ties go to the first."""
    def argmin(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The position of the smallest value; see ``argmax``."""
    def cumsum(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """The running sum along ``axis`` (over the flattened tensor when None)."""
    def var(
        self,
        axis: _Axis = None,
        keepdims: bool = False,
        *,
        dim: _Axis = None,
        keepdim: bool | None = None,
        correction: float = 1.0,
    ) -> Tensor:
        """The variance, dividing by ``n - correction``: PyTorch's default ``correction=1``
        (the sample variance); ``ferrograd.ops.var`` is Keras's population variance."""
    def std(
        self,
        axis: _Axis = None,
        keepdims: bool = False,
        *,
        dim: _Axis = None,
        keepdim: bool | None = None,
        correction: float = 1.0,
    ) -> Tensor:
        """The standard deviation; see ``var``."""
    def norm(self, p: float = 2.0, dim: _Axis = None, keepdim: bool = False) -> Tensor:
        """The ``p``-norm of the elements over ``dim`` (all of them by default) taken as one
        vector."""
    def unsqueeze(self, dim: int) -> Tensor:
        """A new axis of size 1 at ``dim`` (negative counts from the end of the result)."""
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Turns gradient tracking on (or off) for this leaf and returns it, as in
        PyTorch."""
    @property
    def _version(self) -> int:
        """The number of in-place changes made to this tensor (PyTorch's ``_version``)."""
    def zero_(self) -> Tensor:
        """Sets every element to zero in place and returns the tensor."""
    def fill_(self, value: float) -> Tensor:
        """Sets every element to ``value`` in place and returns the tensor."""
    def copy_(self, src: _TensorLike) -> Tensor:
        """Copies ``src`` (broadcast to this tensor's shape) into this tensor and returns
        it."""
    def assign(self, value: _TensorLike) -> Tensor:
        """Keras's ``Variable.assign``: overwrites the values in place (outside the autograd)."""
    def assign_add(self, value: _TensorLike) -> Tensor:
        """Keras's ``Variable.assign_add``: adds ``value`` in place."""
    def assign_sub(self, value: _TensorLike) -> Tensor:
        """Keras's ``Variable.assign_sub``: subtracts ``value`` in place."""
    def add_(self, other: _Operand, *, alpha: float = 1.0) -> Tensor:
        """``self += alpha * other`` in place; returns the tensor."""
    def sub_(self, other: _Operand, *, alpha: float = 1.0) -> Tensor:
        """``self -= alpha * other`` in place; returns the tensor."""
    def mul_(self, other: _Operand) -> Tensor:
        """``self *= other`` in place; returns the tensor."""
    def div_(self, other: _Operand) -> Tensor:
        """``self /= other`` in place; returns the tensor."""
    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        """``clamp`` in place; returns the tensor."""
    def __iadd__(self, other: _Operand, /) -> Tensor: ...
    def __isub__(self, other: _Operand, /) -> Tensor: ...
    def __imul__(self, other: _Operand, /) -> Tensor: ...
    def __itruediv__(self, other: _Operand, /) -> Tensor: ...
    def __setitem__(self, key: _Index, value: _Operand, /) -> None:
        """``t[index] = value``: writes ``value`` (broadcast to the selection) in place, with
        the indexing rules of ``t[index]``."""

    # --- DLPack (added with ferrograd.interop; kept together at the class's end) -------------
    def __dlpack__(
        self,
        *,
        stream: Any | None = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: bool | None = None,
    ) -> Any:
        """The tensor's buffer as a DLPack capsule, without a copy (``torch.from_dlpack(t)``,
        ``np.from_dlpack(t)``); a tensor that requires grad is refused: export
        ``t.detach()``."""
    def __dlpack_device__(self) -> tuple[int, int]:
        """``(1, 0)``: DLPack's CPU device."""

def tensor(data: _TensorLike, dtype: _DTypeLike = None, requires_grad: bool = False) -> Tensor:
    """A tensor from a numpy array, a list or a number (float32 unless ``dtype`` says
    otherwise)."""

def zeros(*shape: _Shape, dtype: _DTypeLike = None, requires_grad: bool = False) -> Tensor: ...
def ones(*shape: _Shape, dtype: _DTypeLike = None, requires_grad: bool = False) -> Tensor: ...
def full(
    shape: _Shape, fill_value: float, dtype: _DTypeLike = None, requires_grad: bool = False
) -> Tensor: ...
def randn(*shape: _Shape, dtype: _DTypeLike = None, requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal distribution, from the seeded generator."""

def rand(*shape: _Shape, dtype: _DTypeLike = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1), from the seeded generator."""

def arange(
    start: float,
    stop: float | None = None,
    step: float = 1.0,
    dtype: _DTypeLike = None,
    requires_grad: bool = False,
) -> Tensor:
    """``arange(stop)`` or ``arange(start, stop, step)``, like numpy."""

def random_seed() -> int:
    """A 64-bit integer drawn from the library's generator (follows ``set_seed``)."""

def set_seed(seed: int) -> None:
    """Seeds the library's generator: initialisation, shuffling and dropout become
    repeatable."""

def set_num_threads(n: int) -> None:
    """Sets how many threads the kernels use (the default is the machine's cores, or
    ``FERROGRAD_NUM_THREADS``)."""

def get_num_threads() -> int: ...
def is_grad_enabled() -> bool: ...
def _set_grad_enabled(enabled: bool) -> bool:
    """Sets this thread's grad mode and returns the previous one (used by ``no_grad``)."""

def concat(tensors: Iterable[_TensorLike], axis: int = 0) -> Tensor: ...
def stack(tensors: Iterable[_TensorLike], axis: int = 0) -> Tensor: ...
def where(condition: _TensorLike, x: _TensorLike, y: _TensorLike) -> Tensor:
    """``x`` where ``condition`` holds (is nonzero), ``y`` elsewhere, broadcast together."""

def _random(
    distribution: str,
    shape: Sequence[int],
    a: float,
    b: float,
    dtype: _DTypeLike = None,
    seed: int | None = None,
    fresh_when_traced: bool = False,
) -> Tensor:
    """Samples of "normal", "uniform" or "truncated_normal" (parameters ``a``, ``b``: the mean
    and standard deviation, or the bounds), from the global generator or from one seeded by
    ``seed``. Used by ``ferrograd.random``."""

def _draw_seed() -> int:
    """A seed drawn from the library's generator (follows ``set_seed``)."""

# --- the layers, models and training loop behind the Keras-like API ------------------------------
# These are internal: the Python classes in ferrograd.layers, ferrograd.models, ferrograd.losses,
# ferrograd.metrics and ferrograd.optimizers wrap them.

# A shape with None for the dimensions not known until data arrives (the batch).
_LayerShape: TypeAlias = list[int | None]

# What the training loop reads as x or y: a numpy array, or a tuple/list of them per model input.
_Data: TypeAlias = npt.ArrayLike | Sequence[npt.ArrayLike]

@final
class Layer:
    """A built layer of the Rust core (``build_layer``)."""

    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def config(self) -> str: ...
    @property
    def trainable(self) -> bool: ...
    @trainable.setter
    def trainable(self, trainable: bool) -> None: ...
    @property
    def output_activation(self) -> str: ...
    def output_shape(self, input_shapes: Sequence[_LayerShape]) -> _LayerShape: ...
    def output_shapes(self, input_shapes: Sequence[_LayerShape]) -> list[_LayerShape]:
        """The shapes of every output (a recurrent layer with ``return_state=True`` adds its
        states)."""

    def weights(self) -> list[tuple[str, Tensor, bool]]: ...
    def forward(self, inputs: Sequence[Tensor], training: bool = False) -> Tensor: ...
    def call(
        self,
        inputs: Sequence[Tensor],
        mask: npt.NDArray[np.bool_] | None = None,
        training: bool = False,
    ) -> tuple[list[Tensor], npt.NDArray[np.bool_] | None]:
        """The outputs (a recurrent layer with ``return_state=True`` has several) and the
        mask of the output, given the inputs' (batch, time) mask."""
    def call_masked(
        self,
        inputs: Sequence[Tensor],
        masks: Sequence[npt.NDArray[np.bool_] | None],
        training: bool = False,
    ) -> list[Tensor]:
        """Every output, given each input's own (batch, time) mask (None where it has none)."""

    def regularization_loss(self) -> Tensor | None: ...

# A value a node reads: a node (its first output) or (node, output index).
_GraphValue: TypeAlias = int | tuple[int, int]
# A node of a Graph: ("input", shape), (layer index, [value, ...]) or a nested model
# ("model", graph, [value, ...]) / ("model", graph, [value, ...], name).
_GraphNode: TypeAlias = (
    tuple[str, _LayerShape]
    | tuple[int, Sequence[_GraphValue]]
    | tuple[str, Graph, Sequence[_GraphValue]]
    | tuple[str, Graph, Sequence[_GraphValue], str]
)

@final
class Graph:
    """Layers wired into a model: what ``fit``, ``evaluate`` and ``predict`` run.

    Nodes may read several values (merge layers), give several (a recurrent layer's states,
    read as ``(node, index)``), apply one layer twice (shared weights) or a whole model
    (nesting); ``output`` is one value or a list of them.
    """

    def __new__(
        cls,
        layers: Sequence[Layer],
        nodes: Sequence[_GraphNode],
        inputs: Sequence[int],
        output: _GraphValue | Sequence[_GraphValue],
        dtype: _DTypeLike = None,
        added_losses: int = 0,
    ) -> Graph: ...
    def set_inference_graph(self, inference: Graph) -> None:
        """Sets the graph that runs in inference mode instead (a traced ``call()`` that branches
        on ``training``)."""
    @property
    def output_shape(self) -> _LayerShape: ...
    @property
    def output_shapes(self) -> list[_LayerShape]: ...
    @property
    def input_shapes(self) -> list[_LayerShape]: ...
    @property
    def output_activation(self) -> str: ...
    @property
    def output_activations(self) -> list[str]: ...
    @property
    def trainable(self) -> bool: ...
    @trainable.setter
    def trainable(self, trainable: bool) -> None: ...
    def node_shape(self, node: int) -> _LayerShape | None: ...
    def weights(self) -> list[tuple[str, Tensor, bool]]: ...
    def regularization_loss(self) -> Tensor | None: ...
    def forward(self, inputs: Sequence[Tensor], training: bool = False) -> Tensor: ...
    def forward_all(self, inputs: Sequence[Tensor], training: bool = False) -> list[Tensor]:
        """Every output of the model, in order."""

    def predict(
        self,
        x: _Data | Sequence[_Data],
        batch_size: int = 32,
        hooks: Any = None,
        every_batch: bool = False,
    ) -> npt.NDArray[np.float32 | np.float64] | list[npt.NDArray[np.float32 | np.float64]]:
        """One array per output: a single array for a model with one output, else a list."""

@final
class Loss:
    """A loss of the Rust core, from its JSON config."""

    def __new__(cls, config: str) -> Loss: ...
    @staticmethod
    def from_name(name: str) -> Loss: ...
    @staticmethod
    def traced(graph: Graph) -> Loss:
        """The loss a traced graph computes (inputs y_true and y_pred): a Python loss."""
    @property
    def name(self) -> str: ...
    @property
    def from_logits(self) -> bool: ...
    def to_json(self) -> str: ...
    def compute(
        self, y_true: _TensorLike, y_pred: _TensorLike, reduction: str = "sum_over_batch_size"
    ) -> Tensor: ...
    def fused_with(self, activation: str) -> Loss | None: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class Metric:
    """A streaming metric of the Rust core, from its JSON config."""

    def __new__(cls, config: str) -> Metric: ...
    @staticmethod
    def from_name(name: str) -> Metric: ...
    @property
    def name(self) -> str: ...
    def to_json(self) -> str: ...
    def update_state(self, y_true: _TensorLike, y_pred: _TensorLike) -> None: ...
    def result(self) -> float: ...
    def reset_state(self) -> None: ...

@final
class Optimizer:
    """An optimizer of the Rust core, from its JSON config, with its slot variables."""

    def __new__(cls, config_json: str) -> Optimizer: ...
    def config_json(self) -> str: ...
    @property
    def iterations(self) -> int: ...
    @iterations.setter
    def iterations(self, iterations: int) -> None: ...
    @property
    def learning_rate(self) -> float: ...
    def set_learning_rate(self, learning_rate: float) -> None: ...
    def set_schedule(self, schedule_json: str) -> None: ...
    def apply(
        self, params: Sequence[Tensor], grads: Sequence[Tensor], learning_rate: float | None = None
    ) -> None: ...
    def step(self, params: Sequence[Tensor], learning_rate: float | None = None) -> None: ...
    def slots(self, params: Sequence[Tensor]) -> list[tuple[str, npt.NDArray[Any]]]: ...
    def load_slots(
        self, params: Sequence[Tensor], slots: Sequence[tuple[str, npt.ArrayLike]]
    ) -> None: ...

@final
class Schedule:
    """A learning-rate schedule of the Rust core, from its JSON config."""

    def __new__(cls, config_json: str) -> Schedule: ...
    def at(self, step: int) -> float: ...
    def config_json(self) -> str: ...

def build_layer(
    kind: str,
    name: str,
    config: str,
    input_shapes: Sequence[_LayerShape],
    dtype: _DTypeLike = None,
) -> Layer: ...
def layer_kinds() -> list[str]: ...
def initialize(config: str, shape: Sequence[int], dtype: _DTypeLike = None) -> Tensor: ...
def defer_initial_values(deferred: bool) -> bool: ...
def regularization_penalty(weight: Tensor, l1: float, l2: float) -> Tensor: ...
def apply_unary(x: Tensor, config: str) -> Tensor: ...
def assign(tensor: Tensor, value: _TensorLike) -> None: ...
def _share_numpy_array(array: np.ndarray) -> Tensor:
    """A tensor over ``array``'s memory (float32/float64, C-contiguous, aligned, writable),
    else over a copy; the import side of ``fg.from_dlpack``."""

def resolve_accuracy(
    y_true_shape: Sequence[int], y_pred_shape: Sequence[int], loss: Loss | None = None
) -> str: ...
def fit(
    graph: Graph,
    loss: Loss | Sequence[Loss],
    metrics: Sequence[tuple[str, Metric]] | Sequence[Sequence[tuple[str, Metric]]],
    optimizer: Optimizer,
    x: _Data | Sequence[_Data],
    y: _Data | Sequence[_Data] | None = None,
    validation: tuple[Any, ...] | None = None,
    *,
    epochs: int = 1,
    initial_epoch: int = 0,
    batch_size: int = 32,
    shuffle: bool = True,
    steps_per_epoch: int | None = None,
    validation_batch_size: int | None = None,
    validation_steps: int | None = None,
    stop_on_nonfinite: bool = False,
    hooks: Any = None,
    every_batch: bool = False,
    loss_weights: Sequence[float] | None = None,
    output_names: Sequence[str] | None = None,
    sample_weight: Sequence[_Data] | None = None,
    validation_freq: int | Sequence[int] | None = None,
    seed: int | None = None,
    python_metrics: Any = None,
    collective: Any = None,
) -> dict[str, Any]:
    """Trains ``graph``. For several outputs: ``loss`` one per output, ``metrics`` one list per
    output, ``x``/``y`` lists of arrays (one per input/output); ``sample_weight`` one array of
    per-sample weights per output."""

def evaluate(
    graph: Graph,
    loss: Loss | Sequence[Loss],
    metrics: Sequence[tuple[str, Metric]] | Sequence[Sequence[tuple[str, Metric]]],
    x: _Data | Sequence[_Data],
    y: _Data | Sequence[_Data] | None = None,
    *,
    batch_size: int = 32,
    steps: int | None = None,
    hooks: Any = None,
    every_batch: bool = False,
    loss_weights: Sequence[float] | None = None,
    output_names: Sequence[str] | None = None,
    sample_weight: Sequence[_Data] | None = None,
    python_metrics: Any = None,
) -> list[tuple[str, float]]: ...

@final
class BatchOrder:
    """The row order of each epoch of ``fit``, drawn as the Rust loop draws it (for the loop
    that runs in Python)."""
    def __new__(cls, samples: int, seed: int | None = None) -> BatchOrder: ...
    def epoch(self, epoch: int, shuffle: bool) -> npt.NDArray[np.int64]: ...

# --- files -------------------------------------------------------------------------------------

def read_idx(
    path: str | os.PathLike[str], max_bytes: int | None = None
) -> tuple[npt.NDArray[np.uint8], str]:
    """Reads an IDX file of unsigned bytes, gzipped or not; returns ``(array, sha256)``."""

def safetensors_dumps(
    tensors: Sequence[tuple[str, Tensor]], metadata: dict[str, str] | None = None
) -> bytes: ...
def safetensors_loads(
    data: bytes,
) -> tuple[list[tuple[str, npt.NDArray[np.float32 | np.float64]]], dict[str, str]]: ...

# The trace recorder (ferrograd.tracing): record the tensor ops a Python call() makes.
def _trace_start() -> None: ...
def _trace_finish() -> list[tuple[Any, ...]]: ...
def _trace_active() -> bool: ...
def _trace_pause() -> None: ...
def _trace_resume() -> None: ...
def _trace_call(token: int, inputs: Sequence[Tensor], outputs: Sequence[Tensor]) -> None: ...
def _trace_inputs(inputs: Sequence[Tensor]) -> None: ...
def _tensor_uid(tensor: Tensor) -> int: ...
