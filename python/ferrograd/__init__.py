"""ferrograd: deep learning with a Rust core and a Keras-like Python API."""

from ferrograd import (
    activations,
    callbacks,
    datasets,
    errors,
    initializers,
    interop,
    layers,
    losses,
    metrics,
    models,
    onnx,
    optimizers,
    preprocessing,
    regularizers,
    utils,
)
from ferrograd._core import (
    Tensor,
    arange,
    concat,
    full,
    get_num_threads,
    is_grad_enabled,
    ones,
    rand,
    randn,
    set_num_threads,
    set_seed,
    stack,
    tensor,
    where,
    zeros,
)
from ferrograd._dlpack import from_dlpack
from ferrograd._environment import check_num_threads_variable
from ferrograd._grad_mode import no_grad
from ferrograd.layers.input_layer import Input
from ferrograd.layers.naming import clear_session
from ferrograd.models import Model, Sequential

__version__ = "0.1.0"

check_num_threads_variable(get_num_threads())

__all__ = [
    "Input",
    "Model",
    "Sequential",
    "Tensor",
    "activations",
    "callbacks",
    "clear_session",
    "initializers",
    "interop",
    "layers",
    "models",
    "regularizers",
    "arange",
    "concat",
    "datasets",
    "errors",
    "from_dlpack",
    "full",
    "get_num_threads",
    "is_grad_enabled",
    "losses",
    "metrics",
    "no_grad",
    "onnx",
    "ones",
    "optimizers",
    "preprocessing",
    "rand",
    "randn",
    "set_num_threads",
    "set_seed",
    "stack",
    "tensor",
    "utils",
    "where",
    "zeros",
]
