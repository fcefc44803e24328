"""Activation functions, by Keras name or as functions of a tensor.

Layers take an activation as a name (``Dense(64, activation="relu")``) or as one of the
functions here (``activation=fg.activations.relu``).

Example:
    >>> fg.activations.relu(fg.tensor([-1.0, 2.0]))
    tensor([0., 2.], shape=(2,), dtype=float32)
"""

import json

from ferrograd import _core
from ferrograd._core import Tensor


def _apply(x, config: dict) -> Tensor:
    if not isinstance(x, Tensor):
        x = _core.tensor(x)
    return _core.apply_unary(x, json.dumps(config))


def linear(x):
    """The identity."""
    return x if isinstance(x, Tensor) else _core.tensor(x)


def relu(x):
    """``max(x, 0)``."""
    return _apply(x, {"name": "relu"})


def sigmoid(x):
    """``1 / (1 + exp(-x))``, stable for large ``|x|``."""
    return _apply(x, {"name": "sigmoid"})


def tanh(x):
    return _apply(x, {"name": "tanh"})


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum for stability."""
    x = x if isinstance(x, Tensor) else _core.tensor(x)
    return x.softmax(axis)


def leaky_relu(x, negative_slope=0.2):
    """``x`` above zero, ``negative_slope * x`` below."""
    return _apply(x, {"name": "leaky_relu", "alpha": float(negative_slope)})


def elu(x, alpha=1.0):
    """``x`` above zero, ``alpha * (exp(x) - 1)`` below."""
    return _apply(x, {"name": "elu", "alpha": float(alpha)})


def selu(x):
    return _apply(x, {"name": "selu"})


def gelu(x, approximate=False):
    """``x * Phi(x)``; ``approximate=True`` uses the tanh approximation."""
    return _apply(x, {"name": "gelu_tanh" if approximate else "gelu"})


def softplus(x):
    """``log(1 + exp(x))``, stable for large ``|x|``."""
    return _apply(x, {"name": "softplus"})


def softsign(x):
    """``x / (1 + |x|)``."""
    return _apply(x, {"name": "softsign"})


def silu(x):
    """``x * sigmoid(x)`` (also called swish)."""
    return _apply(x, {"name": "silu"})


swish = silu


def exponential(x):
    return _apply(x, {"name": "exp"})


_BY_NAME = {
    "linear": linear,
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "softplus": softplus,
    "softsign": softsign,
    "silu": silu,
    "swish": silu,
    "exponential": exponential,
}


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
        return "silu" if name == "swish" else name
    for name, function in _BY_NAME.items():
        if activation is function:
            return name
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
