"""Activation functions, by Keras name or as functions of a tensor.

Layers take an activation as a name (``Dense(64, activation="relu")``) or as one of the
functions here (``activation=fg.activations.relu``).

Each activation is one function here, registered by name with ``@_registered`` (Keras keeps
its activations in one module too); the Rust core's ``Activation`` registry
(``src/ops/activation.rs``) knows the same names.

Examples:
    >>> fg.activations.relu(fg.tensor([-1.0, 2.0]))
    tensor([0., 2.], shape=(2,), dtype=float32)
"""

import json
from collections.abc import Callable

from ferrograd import _core
from ferrograd._core import Tensor

# The activation functions by Keras name (aliases included), in the order messages list them.
_BY_NAME: dict[str, Callable] = {}
# Aliases to the names layers store.
_CANONICAL: dict[str, str] = {}


def _registered(*aliases: str) -> Callable[[Callable], Callable]:
    """Registers an activation function under its own name and ``aliases``."""

    def register(function: Callable) -> Callable:
        _BY_NAME[function.__name__] = function
        for alias in aliases:
            _BY_NAME[alias] = function
            _CANONICAL[alias] = function.__name__
        return function

    return register


def _apply(x, config: dict) -> Tensor:
    if not isinstance(x, Tensor):
        x = _core.tensor(x)
    return _core.apply_unary(x, json.dumps(config))


@_registered()
def linear(x):
    """The identity."""
    return x if isinstance(x, Tensor) else _core.tensor(x)


@_registered()
def relu(x):
    """``max(x, 0)``."""
    return _apply(x, {"name": "relu"})


@_registered()
def sigmoid(x):
    """``1 / (1 + exp(-x))``, stable for large ``|x|``."""
    return _apply(x, {"name": "sigmoid"})


@_registered()
def tanh(x):
    return _apply(x, {"name": "tanh"})


@_registered()
def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum for stability."""
    x = x if isinstance(x, Tensor) else _core.tensor(x)
    return x.softmax(axis)


@_registered()
def leaky_relu(x, negative_slope=0.2):
    """``x`` above zero, ``negative_slope * x`` below."""
    return _apply(x, {"name": "leaky_relu", "alpha": float(negative_slope)})


@_registered()
def elu(x, alpha=1.0):
    """``x`` above zero, ``alpha * (exp(x) - 1)`` below."""
    return _apply(x, {"name": "elu", "alpha": float(alpha)})


@_registered()
def selu(x):
    return _apply(x, {"name": "selu"})


@_registered()
def gelu(x, approximate=False):
    """``x * Phi(x)``; ``approximate=True`` uses the tanh approximation."""
    return _apply(x, {"name": "gelu_tanh" if approximate else "gelu"})


@_registered()
def softplus(x):
    """``log(1 + exp(x))``, stable for large ``|x|``."""
    return _apply(x, {"name": "softplus"})


@_registered()
def softsign(x):
    """``x / (1 + |x|)``."""
    return _apply(x, {"name": "softsign"})


@_registered("swish")
def silu(x):
    """``x * sigmoid(x)`` (also called swish)."""
    return _apply(x, {"name": "silu"})


swish = silu


@_registered()
def exponential(x):
    return _apply(x, {"name": "exp"})


def serialize(activation) -> str:
    """The name a layer stores for ``activation`` (a name, one of this module's functions, or
    None for linear)."""
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        name = activation.lower()
        if name not in _BY_NAME:
            raise ValueError(
                f"Unknown activation {activation!r}. Known activations: {', '.join(_BY_NAME)}"
            )
        return _CANONICAL.get(name, name)
    for name, function in _BY_NAME.items():
        if activation is function:
            return _CANONICAL.get(name, name)
    raise TypeError(
        "activation must be None, a name such as 'relu', or a function of "
        f"ferrograd.activations; received {activation!r}"
    )


def get(identifier):
    """The activation function for a name, a function, or None (linear)."""
    return _BY_NAME[serialize(identifier)]


__all__ = [
    "elu",
    "exponential",
    "gelu",
    "get",
    "leaky_relu",
    "linear",
    "relu",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]
