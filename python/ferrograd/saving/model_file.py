"""The model file (``model.save``): the archive of the architecture, the compile settings, the
weights and the optimizer's state, written atomically and read back validated before anything
is built; and the same file as bytes, which is how models pickle.
"""

from __future__ import annotations

import datetime
import io
import os
import tempfile

import numpy as np

from ferrograd import _core
from ferrograd.errors import FileFormatError
from ferrograd.saving.archive import (
    FORMAT,
    FORMAT_VERSION,
    OPTIMIZER_PREFIX,
    decode_weights,
    read_archive,
    write_archive,
)
from ferrograd.saving.atomic import atomic_write
from ferrograd.saving.config import (
    ConfigReader,
    compile_arguments,
    compile_config,
    model_config,
    model_from_config,
)
from ferrograd.saving.weights_file import check_and_assign, weight_arrays


def save_model(model, path, include_optimizer: bool = True) -> None:
    """Writes ``model`` to ``path`` as one model file, atomically.

    Args:
        model: a built model.
        path: the file to write (``.fgm``).
        include_optimizer: also save the optimizer's state, to continue training later.

    Examples:
        >>> save_model(model, "model.fgm")
    """
    from ferrograd import __version__

    tensors = weight_arrays(model)
    compile_settings = compile_config(model)
    if include_optimizer and compile_settings is not None:
        optimizer_core = model.optimizer._core
        iterations = _core.tensor(
            np.array([optimizer_core.iterations], dtype=np.float64), dtype="float64"
        )
        tensors.append((f"{OPTIMIZER_PREFIX}iterations", iterations))
        for name, value in optimizer_core.slots(model.trainable_weights):
            tensors.append((f"{OPTIMIZER_PREFIX}{name}", _core.tensor(value, dtype=value.dtype)))
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model_config(model),
        "compile": compile_settings,
    }
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ferrograd_version": __version__,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    weights = _core.safetensors_dumps(tensors, {"format": FORMAT})
    buffer = io.BytesIO()
    write_archive(buffer, config, metadata, weights)
    atomic_write(path, lambda file: file.write(buffer.getbuffer()))


def load_model(path, compile: bool = True, custom_objects: dict | None = None):
    """The model saved at ``path`` (``model.save``), with its weights, its compile settings
    and, when saved, its optimizer's state, so that training continues where it stopped. A
    Keras 3 ``.keras`` file is read by ``ferrograd.saving.keras_file``.

    Args:
        path: the model file.
        compile: restore the compile settings and the optimizer's state (default True).
        custom_objects: the classes written in Python (subclassed models) the file may name,
            by name; registered classes (``register_keras_serializable``) are found too.

    Raises:
        FileFormatError: the file is invalid (the message says where and why).

    Examples:
        >>> model = load_model("model.fgm")
    """

    from ferrograd.saving.object_registration import custom_object_scope

    with custom_object_scope(custom_objects):
        return _load_model(path, compile)


def _load_model(path, compile: bool):
    source = repr(os.fspath(path))
    from ferrograd.saving import keras_file

    if keras_file.is_keras_archive(path):
        return keras_file.load_keras_model(os.fspath(path), compile=compile)
    if keras_file.is_hdf5(path):
        raise FileFormatError(
            f"{source} is an HDF5 file (a Keras 2 .h5 model or a .weights.h5 file), not a model "
            "file; ferrograd loads its own model files and Keras 3 .keras files here, and "
            ".weights.h5 files with model.load_weights"
        )
    config, metadata, weight_bytes = read_archive(path)
    reader = ConfigReader(source)
    if config.get("format") != FORMAT or metadata.get("format") != FORMAT:
        reader.fail(f"not a ferrograd model file (format {config.get('format')!r})")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        reader.fail(
            f"format version {version!r} is not supported (this ferrograd reads up to "
            f"{FORMAT_VERSION}); upgrade ferrograd"
        )
    reader.only_keys(config, {"format", "format_version", "model", "compile"}, "config")
    arrays = decode_weights(weight_bytes, source)
    optimizer_state = {
        name[len(OPTIMIZER_PREFIX) :]: value
        for name, value in arrays.items()
        if name.startswith(OPTIMIZER_PREFIX)
    }
    weights = {
        name: value for name, value in arrays.items() if not name.startswith(OPTIMIZER_PREFIX)
    }
    model = _built_without_values(reader.get(config, "model", dict, "config"), source)
    check_and_assign(model, weights, source)
    compile_config = config.get("compile")
    if compile and compile_config is not None:
        if not isinstance(compile_config, dict):
            reader.fail("compile must be an object or null")
        reader.only_keys(
            compile_config, {"optimizer", "loss", "metrics", "loss_weights"}, "compile"
        )
        # The schema is closed at every level: a key nothing reads is refused, not ignored.
        for where, entry in _serialized_objects(compile_config):
            reader.only_keys(entry, {"class_name", "config"}, where)
        try:
            model.compile(**compile_arguments(compile_config))
        except (KeyError, TypeError, ValueError) as error:
            reader.fail(f"invalid compile settings: {error}")
        if optimizer_state:
            _restore_optimizer(model, optimizer_state, reader)
    return model


def _serialized_objects(compile_settings: dict):
    """``(where, entry)`` for every ``{"class_name": ..., "config": ...}`` object in the compile
    settings: the optimizer, each loss and each metric, however nested by output."""

    def walk(value, where):
        if isinstance(value, dict) and "class_name" in value:
            yield where, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{where}[{key!r}]")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, f"{where}[{index}]")

    for key in ("optimizer", "loss", "metrics"):
        yield from walk(compile_settings.get(key), f"compile.{key}")


def _restore_optimizer(model, state: dict[str, np.ndarray], reader: ConfigReader) -> None:
    iterations = state.pop("iterations", None)
    if (
        iterations is None
        or iterations.shape != (1,)
        or not (0 <= iterations[0] < 2**53 and float(iterations[0]).is_integer())
    ):
        reader.fail("the optimizer state has no valid 'iterations'")
    optimizer_core = model.optimizer._core
    try:
        optimizer_core.load_slots(model.trainable_weights, list(state.items()))
    except ValueError as error:
        reader.fail(f"the optimizer state does not match the model: {error}")
    optimizer_core.iterations = int(iterations[0])


def model_to_bytes(model) -> bytes:
    """The model file of ``model`` (with its optimizer's state) as bytes, for pickling.

    Args:
        model: a built model.

    Examples:
        >>> data = model_to_bytes(model)
    """
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.fgm")
        save_model(model, path)
        with open(path, "rb") as file:
            return file.read()


def _built_without_values(model_config: dict, source: str):
    """The model a config describes, its weights zeros that take no memory until the file's
    values are assigned: a config naming sizes its weights do not have is refused by the shape
    check that follows, before those sizes are ever allocated."""
    previous = _core.defer_initial_values(True)
    try:
        return model_from_config(model_config, source)
    except MemoryError as error:
        raise FileFormatError(
            f"{source}: the config describes weights larger than this machine's memory ({error})"
        ) from error
    finally:
        _core.defer_initial_values(previous)


def model_from_bytes(data: bytes):
    """The model whose file ``model_to_bytes`` returned.

    Args:
        data: the bytes of a model file.

    Examples:
        >>> copy = model_from_bytes(model_to_bytes(model))
    """
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.fgm")
        with open(path, "wb") as file:
            file.write(data)
        return load_model(path)
