"""The neural-network functions Keras keeps in ``keras.ops.nn`` (and re-exports at
``keras.ops``): activations, cross-entropies on probabilities or logits, and ``moments``."""

import json
from typing import Any

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.ops._convert import normalize_axes, normalize_axis, to_tensor, to_tensors

# Keras's epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] before their log.
EPSILON = 1e-7


def _unary(name: str, x: Any, **params: float) -> Tensor:
    return _core.apply_unary(to_tensor(x), json.dumps({"name": name, **params}))


def relu(x: Any) -> Tensor:
    """``max(x, 0)``.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.relu([-1.0, 2.0]).tolist()
        [0.0, 2.0]
    """
    return _unary("relu", x)


def relu6(x: Any) -> Tensor:
    """``min(max(x, 0), 6)``.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.relu6([7.0]).tolist()
        [6.0]
    """
    return to_tensor(x).clip(0.0, 6.0)


def sigmoid(x: Any) -> Tensor:
    """``1 / (1 + exp(-x))``.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.sigmoid([0.0]).tolist()
        [0.5]
    """
    return _unary("sigmoid", x)


def softplus(x: Any) -> Tensor:
    """``log(1 + exp(x))``, without overflow.

    Args:
        x: A tensor, array or number.
    """
    return _unary("softplus", x)


def softsign(x: Any) -> Tensor:
    """``x / (1 + |x|)``.

    Args:
        x: A tensor, array or number.
    """
    return _unary("softsign", x)


def silu(x: Any) -> Tensor:
    """``x * sigmoid(x)`` (also called swish).

    Args:
        x: A tensor, array or number.
    """
    return _unary("silu", x)


swish = silu


def gelu(x: Any, approximate: bool = True) -> Tensor:
    """The Gaussian error linear unit; the tanh approximation by default, as ``keras.ops``
    (``approximate=False``: the exact ``x * Phi(x)``).

    Args:
        x: A tensor, array, number or nested list.
        approximate: Whether to use the tanh approximation (default ``True``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.gelu(np.array([0.0])).numpy()
        array([0.])
    """
    return _unary("gelu_tanh" if approximate else "gelu", x)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` above 0, ``alpha * (exp(x) - 1)`` below.

    Args:
        x: A tensor, array, number or nested list.
        alpha: The scale of the negative part (default ``1.0``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.elu(np.array([-1.0, 2.0])).numpy()
        array([-0.63212056,  2.        ])
    """
    return _unary("elu", x, alpha=float(alpha))


def selu(x: Any) -> Tensor:
    """The scaled ELU with the constants of Klambauer et al. (2017).

    Args:
        x: A tensor, array or number.
    """
    return _unary("selu", x)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """``x`` above 0, ``negative_slope * x`` below.

    Args:
        x: A tensor, array, number or nested list.
        negative_slope: The slope for negative inputs (default ``0.2``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.leaky_relu(np.array([-1.0, 2.0])).numpy()
        array([-0.2,  2. ])
    """
    return _unary("leaky_relu", x, alpha=float(negative_slope))


def hard_sigmoid(x: Any) -> Tensor:
    """``relu6(x + 3) / 6``, Keras 3's piecewise-linear sigmoid.

    Args:
        x: A tensor, array or number.

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.hard_sigmoid([0.0]).tolist()
        [0.5]
    """
    return (to_tensor(x) + 3.0).clip(0.0, 6.0) / 6.0


def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``.

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis to normalize over (default ``-1``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.softmax(fg.tensor([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """
    x = to_tensor(x)
    return x.softmax(normalize_axis("softmax", axis, x.ndim, x.shape))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``.

    Args:
        x: A tensor, array, number or nested list.
        axis: The axis to normalize over (default ``-1``).

    Returns:
        A tensor.

    Examples:
        >>> fg.ops.log_softmax(np.array([0.0, 0.0])).numpy()
        array([-0.69314718, -0.69314718])
    """
    x = to_tensor(x)
    return x.log_softmax(normalize_axis("log_softmax", axis, x.ndim, x.shape))


def _check_same_shape(op: str, target: Tensor, output: Tensor) -> None:
    if tuple(target.shape) != tuple(output.shape):
        raise ValueError(
            f"{op}: target and output must have the same shape, received target.shape="
            f"{tuple(target.shape)} and output.shape={tuple(output.shape)}"
        )


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    """The elementwise binary cross-entropy of probabilities ``output`` (clipped to
    ``[1e-7, 1 - 1e-7]``) or, with ``from_logits``, of logits (computed stably).

    Args:
        target: Labels in [0, 1].
        output: Probabilities, or logits when ``from_logits``.
        from_logits: Whether ``output`` holds logits. Defaults to False.

    Returns:
        A tensor.

    Examples:
        >>> round(fg.ops.binary_crossentropy([1.0], [0.5]).item(), 4)
        0.6931
    """
    target, output = to_tensors(target, output)
    _check_same_shape("binary_crossentropy", target, output)
    if from_logits:
        # log(1 + exp(x)) - t * x, the form that neither overflows nor loses precision.
        return softplus(output) - target * output
    p = output.clip(EPSILON, 1.0 - EPSILON)
    return -(target * p.log() + (1.0 - target) * (1.0 - p).log())


def categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """The cross-entropy between one-hot (or soft) ``target`` and ``output`` along ``axis``:
    probabilities (renormalised to sum to 1, then clipped) or logits.

    Args:
        target: One-hot (or soft) true labels.
        output: The predictions: probabilities, or logits where ``from_logits``.
        from_logits: Whether ``output`` holds logits rather than probabilities (default ``False``).
        axis: The class axis (default ``-1``).

    Returns:
        A tensor.

    Examples:
        >>> round(fg.ops.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]]).item(), 4)
        0.6931
    """
    target, output = to_tensors(target, output)
    _check_same_shape("categorical_crossentropy", target, output)
    axis = normalize_axis("categorical_crossentropy", axis, output.ndim, output.shape)
    if from_logits:
        return -(target * output.log_softmax(axis)).sum(axis=axis)
    p = (output / output.sum(axis=axis, keepdims=True)).clip(EPSILON, 1.0 - EPSILON)
    return -(target * p.log()).sum(axis=axis)


def sparse_categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """``categorical_crossentropy`` with integer class labels as ``target`` (one axis fewer
    than ``output``).

    Args:
        target: Integer class labels.
        output: The predictions: probabilities, or logits where ``from_logits``.
        from_logits: Whether ``output`` holds logits rather than probabilities (default ``False``).
        axis: The class axis (default ``-1``).

    Returns:
        A tensor.

    Examples:
        >>> round(fg.ops.sparse_categorical_crossentropy([1], [[0.5, 0.5]]).item(), 4)
        0.6931
    """
    from ferrograd.ops.creation import one_hot

    output = to_tensor(output)
    axis = normalize_axis("sparse_categorical_crossentropy", axis, output.ndim, output.shape)
    labels = target.numpy() if isinstance(target, Tensor) else target
    import numpy as np

    labels = np.asarray(labels)
    if labels.ndim == output.ndim and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis)
    expected = tuple(d for i, d in enumerate(output.shape) if i != axis)
    if labels.shape != expected:
        raise ValueError(
            f"sparse_categorical_crossentropy: target of shape {labels.shape} does not fit "
            f"output of shape {tuple(output.shape)} (expected target shape {expected})"
        )
    classes = output.shape[axis]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"sparse_categorical_crossentropy: labels must lie in [0, {classes}), received "
            f"values from {labels.min()} to {labels.max()}"
        )
    encoded = one_hot(labels, classes, axis=axis, dtype=output.dtype)
    return categorical_crossentropy(encoded, output, from_logits=from_logits, axis=axis)


def moments(
    x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False
) -> tuple[Tensor, Tensor]:
    """The mean and the (population) variance of ``x`` over ``axes``.

    Args:
        x: A tensor, array, number or nested list.
        axes: The axes to compute the mean and variance over.
        keepdims: Whether to keep the reduced axes with length 1 (default ``False``).
        synchronized: Accepted for Keras compatibility; no effect here (default ``False``).

    Returns:
        A pair ``(mean, variance)`` of tensors.

    Examples:
        >>> mean, variance = fg.ops.moments(fg.tensor([1.0, 3.0]), axes=[0])
        >>> mean.item(), variance.item()
        (2.0, 1.0)
    """
    x = to_tensor(x)
    resolved = normalize_axes("moments", axes, x.ndim, x.shape)
    axis = None if resolved is None else tuple(resolved)
    return x.mean(axis=axis, keepdims=keepdims), x.var(axis=axis, keepdims=keepdims, correction=0.0)
