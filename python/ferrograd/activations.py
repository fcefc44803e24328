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
    """The identity (Keras's ``linear``): returns ``x`` as a tensor, unchanged.

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.linear(fg.tensor([-1.0, 0.0, 2.0]))
        tensor([-1.,  0.,  2.], shape=(3,), dtype=float32)
    """
    return x if isinstance(x, Tensor) else _core.tensor(x)


@_registered()
def relu(x):
    """The rectified linear unit, ``max(x, 0)``.

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.relu(fg.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.], shape=(3,), dtype=float32)
    """
    return _apply(x, {"name": "relu"})


@_registered()
def sigmoid(x):
    """The logistic sigmoid, ``1 / (1 + exp(-x))``, stable for large ``|x|``.

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.sigmoid(fg.tensor([-1.0, 0.0, 2.0])).numpy().round(4)
        array([0.2689, 0.5   , 0.8808], dtype=float32)
    """
    return _apply(x, {"name": "sigmoid"})


@_registered()
def tanh(x):
    """The hyperbolic tangent, ``tanh(x)``, in (-1, 1).

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.tanh(fg.tensor([-1.0, 0.0, 2.0])).numpy().round(4)
        array([-0.7616,  0.    ,  0.964 ], dtype=float32)
    """
    return _apply(x, {"name": "tanh"})


@_registered()
def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum for stability.

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).
        axis: the axis that sums to 1 (default -1, the last).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.softmax(fg.tensor([-1.0, 0.0, 2.0])).numpy().round(4)
        array([0.042 , 0.1142, 0.8438], dtype=float32)
    """
    x = x if isinstance(x, Tensor) else _core.tensor(x)
    return x.softmax(axis)


@_registered()
def leaky_relu(x, negative_slope=0.2):
    """``x`` above zero, ``negative_slope * x`` below.

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).
        negative_slope: the slope below zero (default 0.2, as in Keras).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.leaky_relu(fg.tensor([-1.0, 0.0, 2.0]))
        tensor([-0.2,  0. ,  2. ], shape=(3,), dtype=float32)
    """
    return _apply(x, {"name": "leaky_relu", "alpha": float(negative_slope)})


@_registered()
def elu(x, alpha=1.0):
    """The exponential linear unit: ``x`` above zero, ``alpha * (exp(x) - 1)`` below.

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).
        alpha: the value approached as ``x`` goes to minus infinity, negated (default 1.0).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.elu(fg.tensor([-1.0, 0.0, 2.0])).numpy().round(4)
        array([-0.6321,  0.    ,  2.    ], dtype=float32)
    """
    return _apply(x, {"name": "elu", "alpha": float(alpha)})


@_registered()
def selu(x):
    """The scaled ELU, ``scale * elu(x, alpha)``, with the self-normalising constants.

    ``alpha`` is about 1.6733 and ``scale`` about 1.0507, as in Keras.

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.selu(fg.tensor([-1.0, 0.0, 2.0])).numpy().round(4)
        array([-1.1113,  0.    ,  2.1014], dtype=float32)
    """
    return _apply(x, {"name": "selu"})


@_registered()
def gelu(x, approximate=False):
    """The Gaussian error linear unit, ``x * Phi(x)`` (``Phi``: the normal distribution).

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).
        approximate: use the tanh approximation instead of the exact error function (default False).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.gelu(fg.tensor([-1.0, 0.0, 2.0])).numpy().round(4)
        array([-0.1587,  0.    ,  1.9545], dtype=float32)
    """
    return _apply(x, {"name": "gelu_tanh" if approximate else "gelu"})


@_registered()
def softplus(x):
    """``log(1 + exp(x))``, stable for large ``|x|``.

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.softplus(fg.tensor([-1.0, 0.0, 2.0])).numpy().round(4)
        array([0.3133, 0.6931, 2.1269], dtype=float32)
    """
    return _apply(x, {"name": "softplus"})


@_registered()
def softsign(x):
    """``x / (1 + |x|)``.

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.softsign(fg.tensor([-1.0, 0.0, 2.0])).numpy().round(4)
        array([-0.5   ,  0.    ,  0.6667], dtype=float32)
    """
    return _apply(x, {"name": "softsign"})


@_registered("swish")
def silu(x):
    """``x * sigmoid(x)`` (also called swish; ``swish`` is the same function).

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.silu(fg.tensor([-1.0, 0.0, 2.0])).numpy().round(4)
        array([-0.2689,  0.    ,  1.7616], dtype=float32)
    """
    return _apply(x, {"name": "silu"})


swish = silu


@_registered()
def exponential(x):
    """``exp(x)``.

    Args:
        x: a tensor, or an array-like or number (made a float32 tensor).

    Returns:
        A tensor of the shape of ``x``; gradients flow through it.

    Examples:
        >>> fg.activations.exponential(fg.tensor([-1.0, 0.0, 2.0])).numpy().round(4)
        array([0.3679, 1.    , 7.3891], dtype=float32)
    """
    return _apply(x, {"name": "exp"})


def serialize(activation) -> str:
    """The name a layer stores for ``activation`` (a name, one of this module's functions, or
    None for linear).

    Args:
        activation: None, a name (any case; an alias such as ``"swish"`` gives its canonical
            name) or one of this module's functions.

    Returns:
        The canonical name, such as ``"relu"``.

    Raises:
        ValueError: for an unknown name.
        TypeError: for anything else (a function from elsewhere included).

    Examples:
        >>> fg.activations.serialize(fg.activations.relu)
        'relu'
        >>> fg.activations.serialize("swish"), fg.activations.serialize(None)
        ('silu', 'linear')
    """
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
    """The activation function for a name, a function, or None (linear).

    Args:
        identifier: None, a name such as ``"relu"``, or one of this module's functions.

    Returns:
        The function of this module.

    Raises:
        ValueError: for an unknown name.
        TypeError: for anything else.

    Examples:
        >>> fg.activations.get("relu") is fg.activations.relu
        True
        >>> fg.activations.get(None) is fg.activations.linear
        True
    """
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
