"""Keras 3's own files: ``.keras`` model archives (a zip of ``config.json``, ``metadata.json``
and ``model.weights.h5``) and ``.weights.h5`` weights files, read into ferrograd models.

The closed-schema rule holds for Keras's files too: a file can only name the layer, initializer,
regularizer and optimizer classes of ``keras.*`` that ferrograd has, by their class names. A
``Lambda`` layer, a custom or registered object (``registered_name`` not Keras's own, a
``module`` outside ``keras``) or any Python code is refused with a message that says which;
nothing in a file makes ferrograd import or run anything. A Keras argument that ferrograd does
not support is refused, unless it holds Keras's neutral default (``kernel_constraint=None``).

Keras stores each layer's weights under ``layers/<key>/vars/<i>``, ``<key>`` being the snake
case of the layer's class name made unique among its siblings (``dense``, ``dense_1``), and
those of the parts of a layer below it (``cell/vars`` for a recurrent layer,
``forward_layer``/``backward_layer`` for ``Bidirectional``); the weights are matched to
ferrograd's by that structure, every shape and dtype checked before anything is read or
assigned. Keras's layouts are ferrograd's: Dense kernels ``(inputs, units)``, the gate orders
of LSTM (i, f, c, o) and GRU (z, r, h, ``reset_after``), convolution kernels
``(*window, in, out)``.

The optimizer's state in a ``.keras`` file is not read: a loaded model continues training with
a fresh optimizer state (its moments start at zero), which its docstring says.
"""

from __future__ import annotations

import inspect
import io
import os
import re
import zipfile
import zlib
from typing import Any

import numpy as np

from ferrograd import _core
from ferrograd.errors import FileFormatError
from ferrograd.saving.archive import parse_json
from ferrograd.saving.weights_file import _overflow

#: The entries of a ``.keras`` archive and their size limits (uncompressed bytes).
KERAS_ENTRY_LIMITS = {
    "config.json": 16 << 20,
    "metadata.json": 1 << 20,
    "model.weights.h5": 64 << 30,
}

#: Keras arguments ferrograd's layers do not take, accepted only with these neutral values
#: (what they mean is then what ferrograd does anyway).
NEUTRAL_ARGUMENTS: dict[str, tuple] = {
    "activity_regularizer": (None,),
    "kernel_constraint": (None,),
    "bias_constraint": (None,),
    "recurrent_constraint": (None,),
    "beta_constraint": (None,),
    "gamma_constraint": (None,),
    "embeddings_constraint": (None,),
    "alpha_constraint": (None,),
    "alpha_regularizer": (None,),
    "quantization_config": (None,),
    "lora_rank": (None,),
    "lora_alpha": (None,),
    "synchronized": (False,),
    "renorm": (False,),
    "renorm_clipping": (None,),
    "stateful": (False,),
    "unroll": (False,),
    "zero_output_for_mask": (False,),
    "seed": (None,),
    "axis": (-1,),
    "noise_shape": (None,),
    # ferrograd's layers are channels-last, Keras's default.
    "data_format": ("channels_last",),
}

#: Neutral arguments that only mean something together with another (``renorm_momentum``
#: without ``renorm``): accepted with any value when that one is neutral.
DEPENDENT_ARGUMENTS = {"renorm_momentum": "renorm"}

#: The Keras model classes a file may name.
MODEL_CLASSES = ("Functional", "Sequential", "Model")

#: Keras's optimizer arguments ferrograd's optimizers do not take, with their neutral values.
NEUTRAL_OPTIMIZER_ARGUMENTS: dict[str, tuple] = {
    "use_ema": (False,),
    "ema_overwrite_frequency": (None,),
    "loss_scale_factor": (None,),
    "gradient_accumulation_steps": (None,),
    "weight_decay": (None,),
    "clipnorm": (None,),
    "global_clipnorm": (None,),
    "clipvalue": (None,),
}


def _h5py(path: str):
    """The h5py module, or a FileFormatError that says what the file is and what to do."""
    try:
        import h5py
    except ImportError:
        raise FileFormatError(
            f"{path!r} is an HDF5 file (a Keras .weights.h5 or .h5 file), not a safetensors "
            "file; reading it needs h5py: pip install h5py (or pip install 'ferrograd[keras]')"
        ) from None
    return h5py


def is_keras_archive(path) -> bool:
    """Whether ``path`` is a zip whose entries are those of a Keras 3 ``.keras`` file.

    Args:
        path: a file.

    Returns:
        True for a Keras 3 archive, False otherwise (a missing file included).

    Examples:
        >>> import keras
        >>> keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> keras_model.save("model.keras")
        >>> is_keras_archive("model.keras")
        True
    """
    try:
        with zipfile.ZipFile(os.fspath(path)) as archive:
            return "model.weights.h5" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def is_hdf5(path) -> bool:
    """Whether ``path`` is a file that starts with the HDF5 signature.

    Args:
        path: a file.

    Returns:
        True for an HDF5 file, False otherwise (a missing file included).

    Examples:
        >>> import keras
        >>> keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> keras_model.save_weights("model.weights.h5")
        >>> is_hdf5("model.weights.h5")
        True
    """
    try:
        with open(os.fspath(path), "rb") as file:
            return file.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError:
        return False


# --- the archive -----------------------------------------------------------------------------


def read_keras_archive(path: str) -> tuple[dict, dict, bytes]:
    """The config, the metadata and the HDF5 weights of a ``.keras`` file, every entry checked
    against its size limit before it is read.

    Args:
        path: the ``.keras`` file.

    Raises:
        FileFormatError: not a valid Keras archive, truncated or corrupt.

    Examples:
        >>> config, metadata, weights = read_keras_archive("model.keras")
    """
    try:
        file_size = os.path.getsize(path)
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            unknown = [n for n in names if n not in KERAS_ENTRY_LIMITS and not n.endswith("/")]
            if unknown:
                raise FileFormatError(
                    f"{path!r}: the Keras file holds entries ferrograd does not read "
                    f"({unknown[:5]}; assets of preprocessing layers are not supported)"
                )
            missing = sorted(set(KERAS_ENTRY_LIMITS) - set(names))
            if missing:
                raise FileFormatError(f"{path!r} is not a Keras 3 model file: it lacks {missing}")
            entries = {}
            for info in infos:
                if info.filename.endswith("/"):
                    continue
                limit = KERAS_ENTRY_LIMITS[info.filename]
                if info.file_size > limit:
                    raise FileFormatError(
                        f"{path!r}: the entry {info.filename} claims {info.file_size} bytes, more "
                        f"than the {limit} allowed"
                    )
                if info.compress_type == zipfile.ZIP_STORED and info.file_size > file_size:
                    raise FileFormatError(
                        f"{path!r}: the entry {info.filename} claims {info.file_size} bytes, "
                        f"more than the file's {file_size}; it is truncated or corrupt"
                    )
                with archive.open(info) as entry:
                    # Never more than the declared size (plus one byte to notice a lie).
                    data = entry.read(info.file_size + 1)
                if len(data) != info.file_size:
                    raise FileFormatError(
                        f"{path!r}: the entry {info.filename} holds {len(data)} bytes, not the "
                        f"{info.file_size} it declares"
                    )
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
        KeyError,
        IndexError,
    ) as error:
        raise FileFormatError(
            f"{path!r} is not a valid Keras model file ({type(error).__name__}: {error}); it may "
            "be truncated or corrupt"
        ) from error
    config = parse_json(entries["config.json"], "config.json", repr(path))
    metadata = parse_json(entries["metadata.json"], "metadata.json", repr(path))
    return config, metadata, entries["model.weights.h5"]


# --- the config ------------------------------------------------------------------------------


class KerasConfigReader:
    """Turns Keras 3 configs into ferrograd objects, refusing anything outside the closed
    schema with a message that names the place.

    Args:
        source: how errors name the file.

    Examples:
        >>> import json
        >>> import keras
        >>> keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> config = json.loads(keras_model.to_json())
        >>> KerasConfigReader("the JSON text").model(config).count_params()
        8
    """

    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str):
        """Raises ``FileFormatError`` with ``message`` after the file's name."""
        raise FileFormatError(f"{self.source}: {message}")

    def check_object(self, spec: Any, where: str) -> tuple[str, dict]:
        """The class name and config of a serialized Keras object, refused when it names code
        or anything outside Keras."""
        if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
            self.fail(f"{where} must be a serialized Keras object, found {spec!r:.200}")
        class_name = spec["class_name"]
        if class_name in ("Lambda", "function", "__lambda__") or "code" in spec:
            self.fail(
                f"{where} is a {class_name} holding Python code; ferrograd never runs code "
                "from a file (rebuild that part with ferrograd layers)"
            )
        module = spec.get("module")
        if module is not None and (not isinstance(module, str) or not _is_keras_module(module)):
            self.fail(
                f"{where} names the custom object {class_name!r} of module {module!r}; ferrograd "
                "reads only Keras's own classes and never imports code from a file"
            )
        registered = spec.get("registered_name")
        if registered is not None and registered != class_name:
            self.fail(
                f"{where} names the custom registered object {registered!r}; ferrograd reads "
                "only Keras's own classes and never imports code from a file"
            )
        config = spec.get("config", {})
        if not isinstance(config, dict):
            self.fail(f"{where}.config must be an object")
        return class_name, config

    # --- nested values -------------------------------------------------------------------

    def value(self, key: str, value: Any, where: str) -> Any:
        """A layer argument's value: serialized initializers and regularizers become
        ferrograd's; activations stay names."""
        from ferrograd import initializers, regularizers

        if not isinstance(value, dict):
            return value
        class_name, config = self.check_object(value, f"{where}.{key}")
        module = value.get("module") or ""
        if key.endswith("_initializer") or module.startswith("keras.initializers"):
            settings = {k: v for k, v in config.items() if not (k in _INIT_NEUTRAL and v is None)}
            try:
                return initializers.get({"name": class_name, **settings})
            except (TypeError, ValueError) as error:
                self.fail(f"{where}.{key}: the initializer {class_name} is not supported ({error})")
        if key.endswith("_regularizer") or module.startswith("keras.regularizers"):
            names = {"L1": ("l1",), "L2": ("l2",), "L1L2": ("l1", "l2")}
            if class_name not in names or set(config) - set(names[class_name]):
                self.fail(f"{where}.{key}: the regularizer {class_name} {config} is not supported")
            return regularizers.L1L2(**{k: float(v) for k, v in config.items()})
        if class_name == "DTypePolicy":
            return config.get("name")
        self.fail(f"{where}.{key}: the object {class_name} is not supported as an argument")

    def dtype(self, value: Any, where: str) -> str:
        """A layer's dtype from Keras's dtype policy (float32 or float64)."""
        if isinstance(value, dict):
            _, config = self.check_object(value, f"{where}.dtype")
            value = config.get("name")
        if value is None:
            return "float32"
        if value not in ("float32", "float64"):
            self.fail(
                f"{where} has dtype policy {value!r}; ferrograd layers are float32 or float64 "
                "(mixed precision is not supported)"
            )
        return value

    # --- layers --------------------------------------------------------------------------

    def layer(self, spec: Any, where: str):
        """The ferrograd layer (or nested model) a Keras layer config describes."""

        class_name, config = self.check_object(spec, where)
        if class_name in MODEL_CLASSES:
            return self.model(spec, where)
        classes = keras_layer_classes()
        if class_name not in classes:
            self.fail(
                f"{where} is a Keras {class_name} layer, which ferrograd does not have; it reads "
                f"{', '.join(sorted(classes))}"
            )
        cls = classes[class_name]
        name = config.get("name", spec.get("name"))
        if not isinstance(name, str):
            self.fail(f"{where} has no name")
        where = f"{where} ({class_name} {name!r})"
        arguments: dict[str, Any] = {
            "name": name,
            "trainable": bool(config.get("trainable", True)),
            "dtype": self.dtype(config.get("dtype"), where),
        }
        accepted = accepted_arguments(cls)
        for key, value in config.items():
            if key in ("name", "trainable", "dtype"):
                continue
            if key in ("layer", "backward_layer") and class_name == "Bidirectional":
                arguments[key] = None if value is None else self.layer(value, f"{where}.{key}")
                continue
            if key not in accepted:
                neutral = NEUTRAL_ARGUMENTS.get(key)
                if neutral is not None and any(_same(value, n) for n in neutral):
                    continue
                if value is None and key.endswith(("_regularizer", "_constraint")):
                    continue  # no penalty, no constraint: what the layer does without them
                dependent = DEPENDENT_ARGUMENTS.get(key)
                if dependent is not None and config.get(dependent) in NEUTRAL_ARGUMENTS[dependent]:
                    continue
                self.fail(
                    f"{where}: the Keras argument {key}={value!r:.100} is not supported by "
                    "ferrograd"
                )
            arguments[key] = self.value(key, value, where)
        try:
            return cls(**arguments)
        except (TypeError, ValueError) as error:
            self.fail(f"{where} cannot be built: {error}")

    # --- models --------------------------------------------------------------------------

    def model(self, spec: dict, where: str = "model"):
        """The ferrograd model a Keras model config describes (weights not yet loaded)."""
        class_name, config = self.check_object(spec, where)
        if class_name not in MODEL_CLASSES:
            self.fail(f"{where} is a {class_name}, not a Keras model")
        entries = config.get("layers")
        if not isinstance(entries, list):
            self.fail(f"{where} has no list of layers")
        name = config.get("name", "model")
        if class_name == "Sequential":
            return self._sequential(config, entries, name, where)
        return self._functional(config, entries, name, where)

    def _sequential(self, config: dict, entries: list, name: str, where: str):
        from ferrograd.models import Sequential

        shape = config.get("build_input_shape")
        built = []
        for i, entry in enumerate(entries):
            entry_class, entry_config = self.check_object(entry, f"{where}.layers[{i}]")
            if entry_class == "InputLayer":
                shape = entry_config.get("batch_shape", shape)
                continue
            built.append(self.layer(entry, f"{where}.layers[{i}]"))
        if not built:
            self.fail(f"{where} has no layers")
        model = Sequential(built, name=name)
        if shape is not None:
            model.build(tuple(self.shape(shape, f"{where}.input shape")))
        model.trainable = bool(config.get("trainable", True))
        return model

    def shape(self, value: Any, where: str) -> list:
        """A Keras shape: sizes below 2**40 or nulls."""
        if not isinstance(value, list) or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40)
            for d in value
        ):
            self.fail(f"{where} must be a list of sizes or nulls, found {value!r:.100}")
        return value

    def _functional(self, config: dict, entries: list, name: str, where: str):
        from ferrograd import layers as layer_module
        from ferrograd.models import Model

        layer_of: dict[str, Any] = {}
        self._masked_tokens: set = set()
        calls: list[tuple[str, int, list]] = []
        outputs_of: dict[tuple[str, int], Any] = {}
        for i, entry in enumerate(entries):
            entry_where = f"{where}.layers[{i}]"
            entry_class, entry_config = self.check_object(entry, entry_where)
            layer_name = entry.get("name", entry_config.get("name"))
            if not isinstance(layer_name, str) or layer_name in layer_of:
                self.fail(f"{entry_where} has no name or repeats one ({layer_name!r})")
            if entry_class == "InputLayer":
                shape = self.shape(entry_config.get("batch_shape"), f"{entry_where}.batch_shape")
                for key, value in entry_config.items():
                    if key in ("sparse", "ragged", "optional") and value:
                        self.fail(f"{entry_where}: {key}=True inputs are not supported")
                dtype = entry_config.get("dtype", "float32")
                if isinstance(dtype, dict):
                    dtype = self.dtype(dtype, entry_where)
                layer_of[layer_name] = None
                outputs_of[(layer_name, 0)] = layer_module.Input(
                    batch_shape=tuple(shape), name=layer_name, dtype=dtype
                )
                continue
            if entry_class == "NotEqual" and str(entry.get("module", "")).startswith(
                "keras.src.ops"
            ):
                # Keras draws the padding mask of Embedding(mask_zero=True) as an op,
                # not_equal(tokens, 0), passed as the next layer's `mask`; ferrograd's
                # masks ride along with the values, so that op is only checked, never run.
                layer_of[layer_name] = None
                outputs_of[(layer_name, 0)] = self._padding_mask(entry, entry_where)
                continue
            layer_of[layer_name] = self.layer(entry, entry_where)
            nodes = entry.get("inbound_nodes", [])
            if not isinstance(nodes, list):
                self.fail(f"{entry_where}.inbound_nodes must be a list")
            for node_index, node in enumerate(nodes):
                calls.append((layer_name, node_index, node))
        pending = calls
        while pending:
            waiting = []
            for layer_name, node_index, node in pending:
                node_where = f"{where}: layer {layer_name!r} call {node_index}"
                arguments = self._node_arguments(node, node_where, outputs_of)
                if arguments is None:
                    waiting.append((layer_name, node_index, node))
                    continue
                inputs, training, settings = arguments
                layer = layer_of[layer_name]
                if isinstance(layer, layer_module.Embedding) and layer.mask_zero:
                    self._masked_tokens.add(self._key(_history_of(node), node_where))
                if training is not None:
                    settings["training"] = training
                try:
                    if isinstance(inputs, tuple):
                        outputs_of[(layer_name, node_index)] = layer(*inputs, **settings)
                    else:
                        outputs_of[(layer_name, node_index)] = layer(inputs, **settings)
                except (TypeError, ValueError) as error:
                    self.fail(f"{node_where} cannot be made: {error}")
            if len(waiting) == len(pending):
                self.fail(f"{where}: the calls of {[c[0] for c in waiting][:5]} read no layer")
            pending = waiting
        inputs = [
            self._history(h, f"{where}.input_layers", outputs_of)
            for h in _refs(config.get("input_layers"))
        ]
        outputs_spec = config.get("output_layers")
        outputs = [
            self._history(h, f"{where}.output_layers", outputs_of) for h in _refs(outputs_spec)
        ]
        many = isinstance(outputs_spec, list) and outputs_spec and isinstance(outputs_spec[0], list)
        if isinstance(outputs_spec, dict):
            self.fail(f"{where}: outputs given as a dict are not supported in Keras files")
        try:
            model = Model(
                inputs=inputs if len(inputs) > 1 else inputs[0],
                outputs=outputs if many else outputs[0],
                name=name,
            )
        except (TypeError, ValueError) as error:
            self.fail(f"{where} cannot be built: {error}")
        model.trainable = bool(config.get("trainable", True))
        return model

    def _node_arguments(self, node: Any, where: str, outputs_of: dict):
        """The inputs (and ``training``) of one call, or None while a layer it reads is not
        called yet."""
        if not isinstance(node, dict):
            self.fail(f"{where} must be an object")
        args = node.get("args", [])
        kwargs = node.get("kwargs", {})
        # An attention layer's call: mha(query, value[, key]), with its call settings.
        positional = isinstance(args, list) and len(args) in (2, 3)
        if not isinstance(args, list) or not (len(args) == 1 or positional):
            self.fail(f"{where}: only calls on one tensor or one list of tensors are supported")
        if not isinstance(kwargs, dict):
            self.fail(f"{where}: the call's kwargs must be an object")
        training = None
        settings = {}
        for key, value in kwargs.items():
            if key in ("use_causal_mask", "return_attention_scores") and isinstance(value, bool):
                settings[key] = value
                continue
            if key == "mask" and value is None:
                continue
            if key == "mask" and isinstance(value, dict):
                history = value.get("config", {}).get("keras_history")
                mask = outputs_of.get(self._key(history, where))
                if not isinstance(mask, _PaddingMask) or mask.tokens not in self._masked_tokens:
                    self.fail(
                        f"{where}: an explicit mask is supported only as the padding mask of an "
                        "Embedding(mask_zero=True) on the same tokens"
                    )
                continue
            if key == "training" and isinstance(value, bool):
                training = value
                continue
            self.fail(f"{where}: the call argument {key}={value!r:.80} is not supported")
        argument = args if positional else args[0]
        items = argument if isinstance(argument, list) else [argument]
        tensors = []
        for item in items:
            if not isinstance(item, dict) or item.get("class_name") != "__keras_tensor__":
                self.fail(f"{where}: a call argument is not a tensor ({item!r:.80})")
            history = item.get("config", {}).get("keras_history")
            key = self._key(history, where)
            if key not in outputs_of:
                return None
            tensors.append(_pick(outputs_of[key], history[2], where, self))
        if positional:
            return tuple(tensors), training, settings
        return (tensors if isinstance(argument, list) else tensors[0]), training, settings

    def _padding_mask(self, entry: dict, where: str) -> _PaddingMask:
        """The ``not_equal(tokens, 0)`` op of a padding mask, checked to be exactly that."""
        nodes = entry.get("inbound_nodes")
        if not isinstance(nodes, list) or len(nodes) != 1 or not isinstance(nodes[0], dict):
            self.fail(f"{where}: a NotEqual op must have one call")
        args = nodes[0].get("args")
        if (
            not isinstance(args, list)
            or len(args) != 2
            or not isinstance(args[0], dict)
            or args[1] != 0
            or isinstance(args[1], bool)
            or nodes[0].get("kwargs")
        ):
            self.fail(
                f"{where}: only not_equal(tokens, 0), the padding mask of "
                "Embedding(mask_zero=True), is supported among Keras's ops"
            )
        history = args[0].get("config", {}).get("keras_history")
        return _PaddingMask(self._key(history, where))

    def _key(self, history: Any, where: str) -> tuple[str, int]:
        if not (
            isinstance(history, list)
            and len(history) == 3
            and isinstance(history[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in history[1:])
        ):
            self.fail(f"{where}: invalid keras_history {history!r:.80}")
        return history[0], history[1]

    def _history(self, history: Any, where: str, outputs_of: dict):
        key = self._key(history, where)
        if key not in outputs_of:
            self.fail(f"{where} names {history!r}, which no call makes")
        return _pick(outputs_of[key], history[2], where, self)


_INIT_NEUTRAL = ("seed", "input_axes", "output_axes")


class _PaddingMask:
    """Where a padding mask op (``not_equal(tokens, 0)``) stands in a Keras graph: the key
    ``(layer, node)`` of the tokens it reads."""

    def __init__(self, tokens: tuple):
        self.tokens = tokens


def _history_of(node: dict) -> Any:
    """The keras_history of a call's single tensor argument (None for a list)."""
    argument = node.get("args", [None])[0]
    return argument.get("config", {}).get("keras_history") if isinstance(argument, dict) else None


def _pick(value, index: int, where: str, reader: KerasConfigReader):
    if isinstance(value, _PaddingMask):
        reader.fail(f"{where} reads a padding mask op as a tensor, which is not supported")
    if isinstance(value, list):
        if index >= len(value):
            reader.fail(f"{where} reads output {index} of a call with {len(value)}")
        return value[index]
    if index != 0:
        reader.fail(f"{where} reads output {index} of a call with one output")
    return value


def _refs(value: Any) -> list:
    """Keras's input_layers/output_layers: one ``[name, node, index]`` or a list of them."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value]
    if isinstance(value, list) and value:
        return value
    return [value]


def _same(value: Any, neutral: Any) -> bool:
    return type(value) is type(neutral) and value == neutral


def _is_keras_module(module: str) -> bool:
    return module == "keras" or module.startswith("keras.")


def accepted_arguments(cls: type) -> set:
    """The keyword arguments ``cls(...)`` takes: its own and those its bases take through
    ``**kwargs``.

    Args:
        cls: a layer class.

    Examples:
        >>> "units" in accepted_arguments(layers.Dense)
        True
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        parameters = inspect.signature(init).parameters.values()
        names |= {p.name for p in parameters if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    names.discard("self")
    return names


def keras_layer_classes() -> dict[str, type]:
    """The ferrograd layer classes a Keras file may name, by their (Keras) class names.

    Args:
        None.

    Examples:
        >>> keras_layer_classes()["Dense"] is layers.Dense
        True
    """
    from ferrograd.saving.config import layer_classes

    return {cls.__name__: cls for cls in layer_classes().values()}


# --- the weights -----------------------------------------------------------------------------


def snake_case(name: str) -> str:
    """Keras's snake case of a class name (``BatchNormalization``: ``batch_normalization``,
    ``SimpleRNN``: ``simple_rnn``, ``Conv2D``: ``conv2d``).

    Args:
        name: a class name.

    Examples:
        >>> snake_case("GlobalAveragePooling1D")
        'global_average_pooling1d'
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras_class_name(layer) -> str:
    """The Keras class name of a ferrograd layer or model (a functional ``Model`` is Keras's
    ``Functional``)."""
    from ferrograd.models import Model, Sequential

    if isinstance(layer, Sequential):
        return "Sequential"
    if isinstance(layer, Model):
        return "Functional"
    return type(layer).__name__


def planned_assignments(model, weights_group, where: str) -> list[tuple[Any, Any, str]]:
    """``(tensor, dataset, path)`` for every weight of ``model``, each dataset's shape and
    dtype checked against its tensor (nothing read yet).

    Args:
        model: a ferrograd model.
        weights_group: the HDF5 group of the model (the file's root, or a nested model's).
        where: the group's path, for errors.

    Returns:
        A list of ``(tensor, dataset, path)`` tuples, one per weight.

    Examples:
        >>> import h5py
        >>> import keras
        >>> keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> keras_model.save_weights("m.weights.h5")
        >>> copy = fg.Sequential([layers.Dense(2, input_shape=(3,))])
        >>> with h5py.File("m.weights.h5", "r") as weights_file:
        ...     len(planned_assignments(copy, weights_file, ""))
        2
    """
    from ferrograd.layers.input_layer import InputLayer
    from ferrograd.models import Model

    plan: list[tuple[Any, Any, str]] = []
    layers_group = _child(weights_group, "layers")
    used: dict[str, int] = {}
    for layer in model.layers:
        if isinstance(layer, InputLayer):
            key = "input_layer"
        else:
            key = snake_case(keras_class_name(layer))
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        if isinstance(layer, InputLayer):
            continue
        path = f"{where}layers/{key}"
        group = _child(layers_group, key) if layers_group is not None else None
        if isinstance(layer, Model):
            if group is None:
                if layer.weights:
                    raise FileFormatError(f"the file has no weights for the nested model {path}")
                continue
            plan += planned_assignments(layer, group, path + "/")
            continue
        datasets = _layer_datasets(layer, group, path)
        tensors = layer.weights
        if len(datasets) != len(tensors):
            raise FileFormatError(
                f"layer {layer.name!r} ({type(layer).__name__}) has {len(tensors)} weights "
                f"{[tuple(t.shape) for t in tensors]}, the file's {path} has {len(datasets)} "
                f"{[tuple(d.shape) for d, _ in datasets]}"
            )
        for tensor, (dataset, dataset_path) in zip(tensors, datasets, strict=True):
            if tuple(dataset.shape) != tuple(tensor.shape):
                raise FileFormatError(
                    f"layer {layer.name!r} ({type(layer).__name__}): the weight of shape "
                    f"{tuple(tensor.shape)} meets {dataset_path} of shape {tuple(dataset.shape)}"
                )
            if dataset.dtype.kind != "f" or dataset.dtype.itemsize not in (2, 4, 8):
                raise FileFormatError(
                    f"layer {layer.name!r}: {dataset_path} holds {dataset.dtype}, not floats"
                )
            plan.append((tensor, dataset, dataset_path))
    return plan


def _child(group, key: str):
    """The member ``key`` of an HDF5 group, or None."""
    try:
        return group[key] if key in group else None
    except (KeyError, TypeError, ValueError):
        return None


def _layer_datasets(layer, group, path: str) -> list:
    """The datasets of one layer in Keras's order: its own ``vars``, then those of its parts
    (``cell`` of a recurrent layer; ``forward_layer`` then ``backward_layer`` of
    ``Bidirectional``; the query, key, value and output projections of
    ``MultiHeadAttention``)."""
    if group is None:
        return []
    parts = ["vars"]
    if type(layer).__name__ == "Bidirectional":
        parts += ["forward_layer", "backward_layer"]
    elif type(layer).__name__ == "MultiHeadAttention":
        # Its EinsumDense parts, in the order of its weights (not the file's sorted order).
        parts += ["query_dense", "key_dense", "value_dense", "output_dense"]
    else:
        parts += sorted(k for k in group if k != "vars")
    found = []
    for part in parts:
        member = _child(group, part)
        if member is None:
            continue
        if part == "vars":
            count = len(member)
            for i in range(count):
                dataset = _child(member, str(i))
                if dataset is None or not hasattr(dataset, "dtype"):
                    raise FileFormatError(f"{path}/vars holds no dataset {i}")
                found.append((dataset, f"{path}/vars/{i}"))
        else:
            found += _layer_datasets(_Part(), member, f"{path}/{part}")
    return found


class _Part:
    """A part of a layer (a recurrent cell, a wrapped layer), walked like a layer."""


def assign_keras_weights(model, weights_file, source: str) -> None:
    """Reads the HDF5 weights Keras wrote (``model.weights.h5`` or a ``.weights.h5`` file) into
    ``model``, after checking every count, shape and dtype.

    Args:
        model: a ferrograd model of the file's architecture.
        weights_file: an open ``h5py.File``.
        source: how errors name the file.

    Raises:
        FileFormatError: the structure, a count, a shape or a dtype differs.

    Examples:
        >>> import h5py
        >>> import keras
        >>> keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> keras_model.save_weights("m.weights.h5")
        >>> copy = fg.Sequential([layers.Dense(2, input_shape=(3,))])
        >>> with h5py.File("m.weights.h5", "r") as weights_file:
        ...     assign_keras_weights(copy, weights_file, "'m.weights.h5'")
    """
    if "layers" not in weights_file and model.weights:
        legacy = "model_weights" in weights_file or "layer_names" in weights_file.attrs
        raise FileFormatError(
            f"{source} is "
            + ("a Keras 2 (legacy .h5) file" if legacy else "not a Keras 3 weights file")
            + "; ferrograd reads the .weights.h5 and .keras files of Keras 3"
        )
    try:
        plan = planned_assignments(model, weights_file, "")
    except FileFormatError as error:
        raise FileFormatError(f"{source} does not match the model: {error}") from None
    values = []
    for tensor, dataset, path in plan:
        value = np.asarray(dataset[()])
        overflow = _overflow(value, tensor.dtype)
        if overflow is not None:
            raise FileFormatError(
                f"{source}: the {value.dtype} value {overflow!r} of {path} does not fit the "
                f"model's {tensor.dtype} weight (it would become infinite)"
            )
        values.append(value)
    for (tensor, _, _), value in zip(plan, values, strict=True):
        _core.assign(tensor, value)


def load_keras_weights(model, path: str) -> None:
    """Reads a Keras 3 ``.weights.h5`` file into ``model`` (matched by structure, every shape
    checked before any weight changes).

    Args:
        model: a built model of the same architecture.
        path: the HDF5 file.

    Raises:
        FileFormatError: the file is not a Keras 3 weights file or does not match the model.

    Examples:
        >>> import keras
        >>> keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> keras_model.save_weights("model.weights.h5")
        >>> copy = fg.Sequential([layers.Dense(2, input_shape=(3,))])
        >>> load_keras_weights(copy, "model.weights.h5")
    """
    h5py = _h5py(path)
    try:
        with h5py.File(path, "r") as weights_file:
            assign_keras_weights(model, weights_file, repr(path))
    except FileFormatError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise FileFormatError(
            f"{path!r} is not a readable Keras weights file ({type(error).__name__}: {error})"
        ) from error


def load_keras_model(path: str, compile: bool = True):
    """The model of a Keras 3 ``.keras`` file, with its weights and (when ``compile``) its
    optimizer and loss, the optimizer's state starting fresh.

    Args:
        path: the ``.keras`` file.
        compile: compile the model with the file's optimizer, loss and metrics.

    Raises:
        FileFormatError: the file is invalid or names what ferrograd does not read (a
            ``Lambda``, a custom object, a layer ferrograd does not have).

    Returns:
        The model, a ``Sequential`` or functional ``Model``.

    Examples:
        >>> import keras
        >>> keras_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> keras_model.save("model.keras")
        >>> load_keras_model("model.keras").count_params()
        8
    """
    source = repr(path)
    config, metadata, weight_bytes = read_keras_archive(path)
    if not str(metadata.get("keras_version", "3")).startswith("3"):
        raise FileFormatError(f"{source}: only Keras 3 files are read")
    h5py = _h5py(path)
    reader = KerasConfigReader(source)
    previous = _core.defer_initial_values(True)
    try:
        model = reader.model(config)
    except MemoryError as error:
        raise FileFormatError(
            f"{source}: the config describes weights larger than this machine's memory"
        ) from error
    finally:
        _core.defer_initial_values(previous)
    try:
        with h5py.File(io.BytesIO(weight_bytes), "r") as weights_file:
            assign_keras_weights(model, weights_file, source)
    except FileFormatError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise FileFormatError(
            f"{source}: its model.weights.h5 is not readable ({type(error).__name__}: {error})"
        ) from error
    compile_config = config.get("compile_config")
    if compile and isinstance(compile_config, dict) and compile_config:
        _compile(model, compile_config, reader)
    return model


def _compile(model, config: dict, reader: KerasConfigReader) -> None:
    from ferrograd import losses, optimizers

    optimizer_spec = config.get("optimizer", "rmsprop")
    if isinstance(optimizer_spec, dict):
        class_name, settings = reader.check_object(optimizer_spec, "compile_config.optimizer")
        kept = {}
        for key, value in settings.items():
            neutral = NEUTRAL_OPTIMIZER_ARGUMENTS.get(key)
            if key in ("name", "ema_momentum"):
                continue
            if neutral is not None and any(_same(value, n) for n in neutral):
                continue
            kept[key] = value
        try:
            optimizer = optimizers.deserialize({"class_name": class_name, "config": kept})
        except (TypeError, ValueError) as error:
            reader.fail(f"compile_config.optimizer {class_name} is not supported: {error}")
    else:
        optimizer = optimizer_spec
    loss = config.get("loss")
    if isinstance(loss, dict):
        class_name, settings = reader.check_object(loss, "compile_config.loss")
        settings = {k: v for k, v in settings.items() if k not in ("name", "dtype")}
        try:
            loss = losses.deserialize({"class_name": class_name, "config": settings})
        except (TypeError, ValueError) as error:
            reader.fail(f"compile_config.loss {class_name} is not supported: {error}")
    metrics = config.get("metrics")
    if metrics is not None and not (
        isinstance(metrics, list) and all(isinstance(m, str) for m in metrics)
    ):
        reader.fail("compile_config.metrics: only metrics given by name are supported")
    for key in ("loss_weights", "weighted_metrics"):
        if config.get(key) is not None:
            reader.fail(f"compile_config.{key} is not supported")
    try:
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    except (TypeError, ValueError) as error:
        reader.fail(f"the compile settings are not supported: {error}")
