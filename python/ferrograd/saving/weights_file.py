"""The weights file (``model.save_weights``): the weights alone, as a plain safetensors file
named like ``dense/kernel``, and their checked assignment to a model (all or nothing).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ferrograd import _core
from ferrograd.errors import FileFormatError
from ferrograd.saving.archive import decode_weights
from ferrograd.saving.atomic import atomic_write


def check_and_assign(model, arrays: dict[str, np.ndarray], source: str) -> None:
    """Assigns ``arrays`` to the model's weights by name after checking that the names, shapes
    and dtypes all agree; on any difference nothing is assigned and the error lists them all.

    Args:
        model: the model to overwrite.
        arrays: the arrays by weight path (``dense/kernel``).
        source: how errors name where the arrays came from.

    Raises:
        FileFormatError: a name is missing or unexpected, or a shape or dtype differs.

    Examples:
        >>> check_and_assign(model, dict((n, t.numpy()) for n, t in model.named_weights()), "x")
    """
    named = dict(model.named_weights())
    problems = []
    missing = sorted(set(named) - set(arrays))
    unexpected = sorted(set(arrays) - set(named))
    if missing:
        problems.append(f"missing weights: {missing}")
    if unexpected:
        problems.append(f"unexpected weights: {unexpected}")
    for name in sorted(set(named) & set(arrays)):
        expected, found = tuple(named[name].shape), tuple(arrays[name].shape)
        if expected != found:
            problems.append(f"{name}: expected shape {expected}, found {found}")
        if arrays[name].dtype.kind != "f":
            problems.append(f"{name}: expected floats, found dtype {arrays[name].dtype}")
        else:
            overflow = _overflow(arrays[name], named[name].dtype)
            if overflow is not None:
                problems.append(
                    f"{name}: the {arrays[name].dtype} value {overflow!r} does not fit the "
                    f"model's {named[name].dtype} weight (it would become infinite)"
                )
    if problems:
        raise FileFormatError(f"{source} does not match the model: " + "; ".join(problems))
    for name, tensor in named.items():
        _core.assign(tensor, arrays[name])


def _overflow(values: np.ndarray, dtype: str):
    """The first finite value of ``values`` too large for ``dtype``, or None: weights are
    converted to the model's dtype, but only when every value keeps its meaning."""
    limit = np.finfo(np.dtype(dtype)).max
    if values.dtype.itemsize <= np.dtype(dtype).itemsize or values.size == 0:
        return None
    too_large = np.isfinite(values) & (np.abs(values) > limit)
    if not too_large.any():
        return None
    return values.reshape(-1)[int(np.argmax(too_large.reshape(-1)))].item()


def weight_arrays(model) -> list[tuple[str, Any]]:
    """The ``(path, tensor)`` pairs a file stores for ``model``'s weights.

    Args:
        model: a built model.

    Examples:
        >>> [name for name, _ in weight_arrays(model)][:2]
        ['dense/kernel', 'dense/bias']
    """
    return list(model.named_weights())


def save_weights(model, path) -> None:
    """Writes ``model``'s weights to ``path`` as a safetensors file, atomically.

    Args:
        model: a built model.
        path: the file to write.

    Examples:
        >>> save_weights(model, "w.safetensors")
    """
    data = _core.safetensors_dumps(weight_arrays(model), {"format": "ferrograd.weights"})
    atomic_write(path, lambda file: file.write(data))


def load_weights(model, path) -> None:
    """Reads the weights ``save_weights`` wrote into ``model``; every name and shape is checked
    before any weight changes.

    Args:
        model: a built model of the same architecture.
        path: the safetensors file.

    Raises:
        FileFormatError: the file is invalid or does not match the model.

    Examples:
        >>> load_weights(model, "w.safetensors")
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        data = file.read()
    arrays = decode_weights(data, repr(path))
    check_and_assign(model, arrays, repr(path))
