"""ferrograd: deep learning with a Rust core and a Keras-like Python API."""

import numpy as np

from ferrograd import (
    activations,
    callbacks,
    datasets,
    distribution,
    errors,
    initializers,
    interop,
    layers,
    losses,
    metrics,
    models,
    onnx,
    ops,
    optimizers,
    preprocessing,
    random,
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
from ferrograd._environment import check_num_threads_variable, worker_thread_count
from ferrograd._grad_mode import no_grad
from ferrograd.layers.input_layer import Input
from ferrograd.layers.naming import clear_session
from ferrograd.models import Model, Sequential
from ferrograd.ops import linspace, sin

# The dtypes under their numpy names, for PyTorch-style code (`dtype=ferrograd.float32`).
float32 = np.dtype("float32")
float64 = np.dtype("float64")

__version__ = "0.1.0"

check_num_threads_variable(get_num_threads())
# A worker process of joblib, Dask or multiprocessing takes its share of the cores, not all.
_worker_threads = worker_thread_count(get_num_threads())
if _worker_threads is not None:
    set_num_threads(_worker_threads)
del _worker_threads

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
    "linspace",
    "models",
    "regularizers",
    "arange",
    "concat",
    "datasets",
    "distribution",
    "errors",
    "float32",
    "float64",
    "from_dlpack",
    "full",
    "get_num_threads",
    "is_grad_enabled",
    "losses",
    "metrics",
    "no_grad",
    "onnx",
    "ones",
    "ops",
    "optimizers",
    "preprocessing",
    "rand",
    "randn",
    "random",
    "set_num_threads",
    "set_seed",
    "sin",
    "stack",
    "tensor",
    "utils",
    "where",
    "zeros",
]
