"""`normalize`: rows scaled to unit norm."""

from __future__ import annotations

import numpy as np

from ferrograd._core import Tensor, tensor


def normalize(x, axis: int = -1, order: int = 2):
    """Divides ``x`` by its norm along ``axis``, as ``keras.utils.normalize`` does; slices
    whose norm is 0 are left as they are.

    Args:
        x: a numpy array, a list or a tensor.
        axis: the axis along which to normalize (default -1, the last).
        order: the order of the norm (default 2; 1 for the sum of absolute values, ``np.inf``
            for the largest absolute value).

    Returns:
        An array of the same shape (a tensor when ``x`` is one, without gradient history).

    Examples:
        >>> import ferrograd as fg
        >>> fg.utils.normalize([[3.0, 4.0], [0.0, 0.0]])
        array([[0.6, 0.8],
               [0. , 0. ]])
    """
    is_tensor = isinstance(x, Tensor)
    values = x.numpy() if is_tensor else np.asarray(x)
    if values.dtype.kind not in "fiu":
        raise TypeError(f"normalize expects numbers, received an array of dtype {values.dtype}")
    if values.ndim == 0:
        raise ValueError("normalize expects at least one dimension, received a scalar")
    if not -values.ndim <= axis < values.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of {values.ndim} dimension(s)")
    if values.dtype.kind != "f":
        values = values.astype("float64")
    norm = np.atleast_1d(np.linalg.norm(values, ord=order, axis=axis))
    norm[norm == 0] = 1
    result = values / np.expand_dims(norm, axis)
    return tensor(result, dtype=result.dtype.name) if is_tensor else result
