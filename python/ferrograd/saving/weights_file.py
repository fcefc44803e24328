"""The weights file (``model.save_weights``): the weights alone, as a plain safetensors file
named like ``dense/kernel``, and their checked assignment to a model (all or nothing).

The file's metadata lists the weights in the model's order (``order``), and ``load_weights``
matches them by that structure (layer order, then weight order), as Keras 3 does: a model built
a second time in the same process, whose generated names differ (``dense_1`` for ``dense``),
loads the weights of the first. A file written without that list is matched by name.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ferrograd import _core
from ferrograd.errors import FileFormatError
from ferrograd.saving.archive import decode_weights_and_metadata
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


def check_and_assign_by_structure(model, arrays: dict, order: list, source: str) -> None:
    """Assigns the file's weights to the model's weights position by position (the file's
    ``order``, the model's ``named_weights()`` order), after checking the count, every shape and
    every dtype; on any difference nothing is assigned and the error lists them all.

    Args:
        model: the model to overwrite.
        arrays: the file's arrays by name.
        order: the names of ``arrays`` in the order they were saved (the saved model's order).
        source: how errors name where the arrays came from.

    Raises:
        FileFormatError: the counts, a shape or a dtype differ.

    Examples:
        >>> arrays = {name: tensor.numpy() for name, tensor in model.named_weights()}
        >>> check_and_assign_by_structure(model, arrays, list(arrays), "x")
    """
    named = list(model.named_weights())
    problems = []
    if len(named) != len(order):
        problems.append(
            f"the model has {len(named)} weights ({_layer_list(n for n, _ in named)}), the file "
            f"{len(order)} ({_layer_list(order)})"
        )
    for (name, tensor), file_name in zip(named, order, strict=False):
        layer, _, weight = name.rpartition("/")
        values = arrays[file_name]
        expected, found = tuple(tensor.shape), tuple(values.shape)
        where = f"layer {layer!r} weight {weight!r}"
        if expected != found:
            problems.append(
                f"{where} has shape {expected}, the file's {file_name!r} has shape {found}"
            )
        if values.dtype.kind != "f":
            problems.append(f"{where}: expected floats, the file's {file_name!r} is {values.dtype}")
        elif expected == found:
            overflow = _overflow(values, tensor.dtype)
            if overflow is not None:
                problems.append(
                    f"{where}: the {values.dtype} value {overflow!r} of {file_name!r} does not fit "
                    f"the model's {tensor.dtype} weight (it would become infinite)"
                )
    if problems:
        raise FileFormatError(f"{source} does not match the model: " + "; ".join(problems))
    for (_, tensor), file_name in zip(named, order, strict=False):
        _core.assign(tensor, arrays[file_name])


def _layer_list(names) -> str:
    """The layers of weight paths, in order and once each: ``layers dense, dense_1``."""
    layers: list[str] = []
    for name in names:
        layer = name.rpartition("/")[0]
        if not layers or layers[-1] != layer:
            layers.append(layer)
    return "layers " + ", ".join(layers) if layers else "no layers"


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
    tensors = weight_arrays(model)
    metadata = {
        "format": "ferrograd.weights",
        # The structure the loader matches by: the weights' paths in the model's order.
        "order": json.dumps([name for name, _ in tensors]),
    }
    data = _core.safetensors_dumps(tensors, metadata)
    atomic_write(path, lambda file: file.write(data))


#: The first bytes of every HDF5 file (Keras's ``.weights.h5`` and ``.h5`` files).
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def load_weights(model, path) -> None:
    """Reads the weights ``save_weights`` wrote into ``model``, matched by structure (layer
    order, then weight order, as Keras 3 does); every count, shape and dtype is checked before
    any weight changes. An HDF5 file (Keras 3's ``.weights.h5``) is read by
    ``ferrograd.saving.keras_file`` when h5py is installed.

    Args:
        model: a built model of the same architecture.
        path: the safetensors file, or a Keras ``.weights.h5`` file.

    Raises:
        FileFormatError: the file is invalid or does not match the model.

    Examples:
        >>> load_weights(model, "w.safetensors")
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        data = file.read()
    if data.startswith(HDF5_SIGNATURE):
        from ferrograd.saving import keras_file

        keras_file.load_keras_weights(model, path)
        return
    arrays, metadata = decode_weights_and_metadata(data, repr(path))
    order = _saved_order(metadata, arrays)
    if order is None:
        check_and_assign(model, arrays, repr(path))
    else:
        check_and_assign_by_structure(model, arrays, order, repr(path))


def _saved_order(metadata: dict, arrays: dict) -> list | None:
    """The saved order of the weights, when the file records one that names each array once."""
    text = metadata.get("order")
    if not isinstance(text, str):
        return None
    try:
        order = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise FileFormatError(f"the weights file's order is not valid JSON ({error})") from error
    if (
        not isinstance(order, list)
        or not all(isinstance(name, str) for name in order)
        or sorted(order) != sorted(arrays)
    ):
        raise FileFormatError("the weights file's order does not name each of its weights once")
    return order
