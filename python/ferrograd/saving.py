"""Saving and loading models and weights, safely.

A model file (``model.save("model.fgm")``) is a zip archive of three entries, like Keras's
``.keras`` files:

- ``config.json``: a closed, declarative description: the model class (``Sequential`` or
  ``Functional``), each layer's kind (from a fixed list), name and settings, the wiring, the
  input shapes, and the compile settings (optimizer, loss and metrics by their configs). No
  code, no module paths, no pickle: nothing a loader could be tricked into importing or running.
- ``metadata.json``: the format version, the library version and the save date.
- ``model.safetensors``: the weights, named ``"{layer name}/{weight name}"`` (``dense/kernel``,
  ``dense/bias``; Dense kernels are ``(inputs, units)``), and, when the optimizer is saved, its
  state under ``optimizer/...`` (``optimizer/iterations`` and ``optimizer/{index}/{slot}``, the
  index being the position of the weight among ``model.trainable_weights``).

``model.save_weights(path)`` writes just the weights as a plain safetensors file, which PyTorch
(``safetensors.torch.load_file``) and other tools read.

Guarantees:

- Writes are atomic: the file is written to a temporary file in the same folder, flushed to
  disk, renamed over the target, and the folder is flushed too. A crash or a kill during a save
  leaves the previous file intact; a temporary file left by a killed process is removed by the
  next save to the same path.
- Loading validates everything before it changes anything: the archive (only the three entries,
  each within a size limit, against zip bombs), the JSON, every layer kind and setting, the
  safetensors header (bounded), names (no repeats), dtypes, shapes and byte spans. A bad file
  raises ``ferrograd.errors.FileFormatError`` (a ``ValueError``) that says what is wrong, and a
  model's weights are left untouched.
"""

from __future__ import annotations

import datetime
import errno
import io
import json
import os
import re
import tempfile
import zipfile
import zlib
from typing import Any

import numpy as np

from ferrograd import _core
from ferrograd.errors import FileFormatError

FORMAT = "ferrograd.model"
FORMAT_VERSION = 1

CONFIG_ENTRY = "config.json"
METADATA_ENTRY = "metadata.json"
WEIGHTS_ENTRY = "model.safetensors"

#: Size limits of the archive's entries, in bytes (uncompressed).
ENTRY_LIMITS = {
    CONFIG_ENTRY: 16 << 20,
    METADATA_ENTRY: 1 << 20,
    WEIGHTS_ENTRY: 64 << 30,
}

OPTIMIZER_PREFIX = "optimizer/"


# --- atomic writes ---------------------------------------------------------------------------


def _temporary_prefix(path: str) -> str:
    return f".{os.path.basename(path)}.tmp-"


def _remove_stale_temporaries(path: str) -> None:
    """Deletes temporary files that a killed save to ``path`` left behind (their process is
    gone)."""
    directory = os.path.dirname(path) or "."
    pattern = re.compile(re.escape(_temporary_prefix(path)) + r"(\d+)-")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = pattern.match(name)
        if match is None or _process_alive(int(match.group(1))):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def atomic_write(path, write) -> None:
    """Calls ``write(file)`` on a temporary file beside ``path`` and, once it is complete and on
    disk, renames it over ``path``."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"cannot save to {path!r}: it is a folder", path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            errno.ENOENT, f"cannot save to {path!r}: the folder {directory!r} does not exist", path
        )
    _remove_stale_temporaries(path)
    try:
        handle, temporary = tempfile.mkstemp(
            dir=directory, prefix=f"{_temporary_prefix(path)}{os.getpid()}-", suffix=".part"
        )
    except PermissionError as error:
        raise PermissionError(
            errno.EACCES, f"cannot save to {path!r}: the folder {directory!r} is not writable", path
        ) from error
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_folder(directory)


def _fsync_folder(directory: str) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# --- the archive -----------------------------------------------------------------------------


def _write_archive(file, config: dict, metadata: dict, weights: bytes) -> None:
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(CONFIG_ENTRY, json.dumps(config, indent=2, allow_nan=False))
        archive.writestr(METADATA_ENTRY, json.dumps(metadata, indent=2))
        archive.writestr(WEIGHTS_ENTRY, weights)


def _read_archive(path) -> tuple[dict, dict, bytes]:
    """The three entries of a model file, each checked against its limit."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"cannot load {path!r}: it is a folder", path)
    try:
        file_size = os.path.getsize(path)
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if sorted(names) != sorted(ENTRY_LIMITS):
                raise FileFormatError(
                    f"{path!r} is not a ferrograd model file: expected the entries "
                    f"{sorted(ENTRY_LIMITS)}, found {names[:10]}"
                )
            entries = {}
            for info in infos:
                limit = ENTRY_LIMITS[info.filename]
                if info.file_size > limit:
                    raise FileFormatError(
                        f"{path!r}: the entry {info.filename} claims {info.file_size} bytes, more "
                        f"than the {limit} allowed"
                    )
                if not 0 <= info.header_offset < file_size:
                    raise FileFormatError(
                        f"{path!r}: the entry {info.filename} starts at byte "
                        f"{info.header_offset}, outside the file's {file_size} bytes"
                    )
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise FileFormatError(
                        f"{path!r}: the entry {info.filename} uses an unsupported compression"
                    )
                with archive.open(info) as entry:
                    data = entry.read(limit + 1)
                if len(data) > limit:
                    raise FileFormatError(f"{path!r}: the entry {info.filename} is too large")
                entries[info.filename] = data
    except FileFormatError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        ValueError,
        NotImplementedError,
        OverflowError,
        RuntimeError,
        UnicodeDecodeError,
        IndexError,
        KeyError,
    ) as error:
        raise FileFormatError(
            f"{path!r} is not a valid ferrograd model file ({type(error).__name__}: {error}); "
            "it may be truncated or corrupt"
        ) from error
    config = _parse_json(entries[CONFIG_ENTRY], CONFIG_ENTRY, path)
    metadata = _parse_json(entries[METADATA_ENTRY], METADATA_ENTRY, path)
    return config, metadata, entries[WEIGHTS_ENTRY]


def _parse_json(data: bytes, entry: str, path: str) -> dict:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise FileFormatError(f"{path!r}: {entry} is not valid JSON ({error})") from error
    if not isinstance(value, dict):
        raise FileFormatError(f"{path!r}: {entry} must hold a JSON object")
    return value


def _decode_weights(data: bytes, source: str) -> dict[str, np.ndarray]:
    try:
        tensors, _ = _core.safetensors_loads(data)
    except ValueError as error:
        raise FileFormatError(f"{source}: {error}") from error
    return dict(tensors)


# --- the model's description -----------------------------------------------------------------


def layer_classes() -> dict[str, type]:
    """The layer classes a model file may name, by kind: the registered layers whose kind the
    Rust core builds."""
    from ferrograd import layers  # noqa: F401  (defining the built-in layers registers them)
    from ferrograd.layers.registry import registered_layers

    known = set(_core.layer_kinds())
    return {kind: cls for kind, cls in registered_layers().items() if kind in known}


def _layer_entry(layer) -> dict:
    return {
        "kind": layer.kind,
        "name": layer.name,
        "trainable": layer.trainable,
        "dtype": layer.dtype,
        "settings": layer.settings(),
    }


def model_config(model) -> dict:
    """The declarative description of ``model``'s architecture."""
    from ferrograd.layers.input_layer import InputLayer
    from ferrograd.models import Sequential

    model._require_graph()
    real_layers = [layer for layer in model.layers if not isinstance(layer, InputLayer)]
    config: dict[str, Any] = {
        "name": model.name,
        "layers": [_layer_entry(layer) for layer in real_layers],
    }
    if isinstance(model, Sequential):
        config["class"] = "Sequential"
        config["input_shape"] = list(model.input_shape)
    else:
        config["class"] = "Functional"
        config["inputs"] = [
            {"name": t._producer.name, "shape": list(t.shape), "dtype": t.dtype}
            for t in model.inputs
        ]
        config["nodes"] = model._wiring
        config["output"] = model._output_node
    return config


def _compile_config(model) -> dict | None:
    from ferrograd import losses, metrics, optimizers

    if not model.compiled:
        return None
    return {
        "optimizer": optimizers.serialize(model.optimizer),
        "loss": losses.serialize(model.loss),
        "metrics": [
            spec if isinstance(spec, str) else metrics.serialize(spec)
            for spec in model._metric_specs
        ],
    }


class _ConfigReader:
    """Reads a model description, failing with a message that names the place and the problem."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str):
        raise FileFormatError(f"{self.source}: {message}")

    def get(self, mapping: Any, key: str, kind: type | tuple, where: str):
        if not isinstance(mapping, dict) or key not in mapping:
            self.fail(f"{where} has no {key!r}")
        value = mapping[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            expected = " or ".join(k.__name__ for k in kinds)
            self.fail(f"{where}.{key} must be {expected}, found {value!r}")
        return value

    def only_keys(self, mapping: dict, allowed: set, where: str) -> None:
        unknown = set(mapping) - allowed
        if unknown:
            self.fail(f"{where} has unknown settings {sorted(unknown)}; allowed: {sorted(allowed)}")

    def shape(self, value: Any, where: str) -> tuple:
        if not isinstance(value, list) or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40)
            for d in value
        ):
            self.fail(f"{where} must be a list of sizes or nulls, found {value!r}")
        return tuple(value)


def model_from_config(config: dict, source: str = "model config"):
    """A new model (weights freshly initialised) from ``model_config``'s description."""
    from ferrograd import layers as layer_module
    from ferrograd.models import Model, Sequential

    reader = _ConfigReader(source)
    classes = layer_classes()
    reader.only_keys(
        config, {"class", "name", "layers", "input_shape", "inputs", "nodes", "output"}, "model"
    )
    model_class = reader.get(config, "class", str, "model")
    name = reader.get(config, "name", str, "model")
    entries = reader.get(config, "layers", list, "model")

    def build(entry: Any, index: int):
        where = f"layer {index}"
        reader.only_keys(
            entry if isinstance(entry, dict) else {},
            {"kind", "name", "trainable", "dtype", "settings"},
            where,
        )
        kind = reader.get(entry, "kind", str, where)
        if kind not in classes:
            reader.fail(f"{where} has the unknown kind {kind!r}; known kinds: {sorted(classes)}")
        settings = reader.get(entry, "settings", dict, where)
        options = {
            "name": reader.get(entry, "name", str, where),
            "trainable": reader.get(entry, "trainable", bool, where),
            "dtype": reader.get(entry, "dtype", str, where),
        }
        try:
            return classes[kind].from_settings(settings, **options)
        except (TypeError, ValueError) as error:
            reader.fail(f"{where} ({kind} {options['name']!r}) has invalid settings: {error}")

    built = [build(entry, i) for i, entry in enumerate(entries)]
    if len({layer.name for layer in built}) != len(built):
        reader.fail("two layers have the same name")
    try:
        if model_class == "Sequential":
            input_shape = reader.shape(
                reader.get(config, "input_shape", list, "model"), "model.input_shape"
            )
            model = Sequential(name=name)
            for layer in built:
                model._layers.append(layer)
            model.build(input_shape)
            return model
        if model_class != "Functional":
            reader.fail(f"unknown model class {model_class!r}; known: Sequential, Functional")
        inputs = []
        for i, spec in enumerate(reader.get(config, "inputs", list, "model")):
            shape = reader.shape(reader.get(spec, "shape", list, f"input {i}"), f"input {i}.shape")
            inputs.append(
                layer_module.Input(
                    batch_shape=shape,
                    name=reader.get(spec, "name", str, f"input {i}"),
                    dtype=reader.get(spec, "dtype", str, f"input {i}"),
                )
            )
        by_name = {layer.name: layer for layer in built}
        tensors = []
        next_input = iter(inputs)
        for i, node in enumerate(reader.get(config, "nodes", list, "model")):
            layer_name = reader.get(node, "layer", (str, type(None)), f"node {i}")
            sources = reader.get(node, "inputs", list, f"node {i}")
            if layer_name is None:
                tensor = next(next_input, None)
                if tensor is None:
                    reader.fail(f"node {i} reads more model inputs than the model has")
            else:
                if layer_name not in by_name:
                    reader.fail(f"node {i} names the unknown layer {layer_name!r}")
                if len(sources) != 1 or not all(
                    isinstance(s, int) and not isinstance(s, bool) and 0 <= s < i for s in sources
                ):
                    reader.fail(f"node {i} must read exactly one earlier node, reads {sources!r}")
                tensor = by_name[layer_name](tensors[sources[0]])
            tensors.append(tensor)
        output = reader.get(config, "output", int, "model")
        if not 0 <= output < len(tensors):
            reader.fail(f"the output node {output} does not exist")
        return Model(inputs=inputs, outputs=tensors[output], name=name)
    except FileFormatError:
        raise
    except (TypeError, ValueError) as error:
        reader.fail(f"the model cannot be rebuilt: {error}")


# --- weights -----------------------------------------------------------------------------------


def _check_and_assign(model, arrays: dict[str, np.ndarray], source: str) -> None:
    """Assigns ``arrays`` to the model's weights by name after checking that the names, shapes
    and dtypes all agree; on any difference nothing is assigned and the error lists them all."""
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
    if problems:
        raise FileFormatError(f"{source} does not match the model: " + "; ".join(problems))
    for name, tensor in named.items():
        _core.assign(tensor, arrays[name])


def _weight_arrays(model) -> list[tuple[str, Any]]:
    return list(model.named_weights())


def save_weights(model, path) -> None:
    data = _core.safetensors_dumps(_weight_arrays(model), {"format": "ferrograd.weights"})
    atomic_write(path, lambda file: file.write(data))


def load_weights(model, path) -> None:
    path = os.fspath(path)
    with open(path, "rb") as file:
        data = file.read()
    arrays = _decode_weights(data, repr(path))
    _check_and_assign(model, arrays, repr(path))


# --- whole models -------------------------------------------------------------------------------


def save_model(model, path, include_optimizer: bool = True) -> None:
    from ferrograd import __version__

    tensors = _weight_arrays(model)
    compile_config = _compile_config(model)
    if include_optimizer and compile_config is not None:
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
        "compile": compile_config,
    }
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ferrograd_version": __version__,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    weights = _core.safetensors_dumps(tensors, {"format": FORMAT})
    buffer = io.BytesIO()
    _write_archive(buffer, config, metadata, weights)
    atomic_write(path, lambda file: file.write(buffer.getbuffer()))


def load_model(path, compile: bool = True):
    """The model saved at ``path`` (``model.save``), with its weights, its compile settings
    and, when saved, its optimizer's state, so that training continues where it stopped."""
    from ferrograd import losses, metrics, optimizers

    source = repr(os.fspath(path))
    config, metadata, weight_bytes = _read_archive(path)
    reader = _ConfigReader(source)
    if config.get("format") != FORMAT or metadata.get("format") != FORMAT:
        reader.fail(f"not a ferrograd model file (format {config.get('format')!r})")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        reader.fail(
            f"format version {version!r} is not supported (this ferrograd reads up to "
            f"{FORMAT_VERSION}); upgrade ferrograd"
        )
    reader.only_keys(config, {"format", "format_version", "model", "compile"}, "config")
    arrays = _decode_weights(weight_bytes, source)
    optimizer_state = {
        name[len(OPTIMIZER_PREFIX) :]: value
        for name, value in arrays.items()
        if name.startswith(OPTIMIZER_PREFIX)
    }
    weights = {
        name: value for name, value in arrays.items() if not name.startswith(OPTIMIZER_PREFIX)
    }
    model = model_from_config(reader.get(config, "model", dict, "config"), source)
    _check_and_assign(model, weights, source)
    compile_config = config.get("compile")
    if compile and compile_config is not None:
        if not isinstance(compile_config, dict):
            reader.fail("compile must be an object or null")
        reader.only_keys(compile_config, {"optimizer", "loss", "metrics"}, "compile")
        try:
            optimizer = optimizers.deserialize(compile_config["optimizer"])
            loss = losses.deserialize(compile_config["loss"])
            metric_specs = [
                spec if isinstance(spec, str) else metrics.deserialize(spec)
                for spec in compile_config.get("metrics") or []
            ]
        except (KeyError, TypeError, ValueError) as error:
            reader.fail(f"invalid compile settings: {error}")
        model.compile(optimizer=optimizer, loss=loss, metrics=metric_specs)
        if optimizer_state:
            _restore_optimizer(model, optimizer_state, reader)
    return model


def _restore_optimizer(model, state: dict[str, np.ndarray], reader: _ConfigReader) -> None:
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


# --- pickling ----------------------------------------------------------------------------------


def model_to_bytes(model) -> bytes:
    """The model file of ``model`` (with its optimizer's state) as bytes, for pickling."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.fgm")
        save_model(model, path)
        with open(path, "rb") as file:
            return file.read()


def model_from_bytes(data: bytes):
    """The model whose file ``model_to_bytes`` returned."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.fgm")
        with open(path, "wb") as file:
            file.write(data)
        return load_model(path)


def unbuilt_sequential(name: str, entries: list):
    """A ``Sequential`` model of fresh, unbuilt layers from their ``_layer_entry`` descriptions
    (the pickled form of a model not built yet)."""
    from ferrograd.models import Sequential

    classes = layer_classes()
    layers = [
        classes[entry["kind"]].from_settings(
            entry["settings"],
            name=entry["name"],
            trainable=entry["trainable"],
            dtype=entry["dtype"],
        )
        for entry in entries
    ]
    return Sequential(layers, name=name)
