"""A model's declarative description (``config.json``'s ``model`` and ``compile``): writing
it, and reading it back with a closed schema, so that nothing in a file can make the loader
import or run anything.

Every layer is a ``kind`` the layer registry knows (``ferrograd.layers.registry``, limited to
the kinds of the Rust core), a ``name``, a ``dtype``, ``trainable`` and its ``settings``.
"""

from __future__ import annotations

import json
from typing import Any

from ferrograd import _core
from ferrograd.errors import FileFormatError
from ferrograd.layers.registry import registered_layers


def layer_classes() -> dict[str, type]:
    """The layer classes a model file may name, by kind: the registered layers whose kind the
    Rust core builds.

    Examples:
        >>> layer_classes()["Dense"] is layers.Dense
        True
    """
    from ferrograd import layers  # noqa: F401  (defining the built-in layers registers them)

    known = set(_core.layer_kinds())
    return {kind: cls for kind, cls in registered_layers().items() if kind in known}


def layer_entry(layer) -> dict:
    """The description of one layer in a model file: kind, name, trainable, dtype, settings.

    Args:
        layer: a layer.

    Examples:
        >>> layer_entry(layers.Dropout(0.5, name="drop"))["settings"]
        {'rate': 0.5}
    """
    from ferrograd.layers.layer import is_python_defined
    from ferrograd.models import Model

    if is_python_defined(layer) and not isinstance(layer, Model):
        raise ValueError(
            f"layer {layer.name!r} ({type(layer).__name__}) is written in Python: a model file "
            "can hold it only inside a subclassed Model (saved as its class and config); "
            "save_weights() saves the weights of any model"
        )
    if isinstance(layer, Model):
        return {
            "kind": "Model",
            "name": layer.name,
            "trainable": layer.trainable,
            "model": model_config(layer),
        }
    return {
        "kind": layer.kind,
        "name": layer.name,
        "trainable": layer.trainable,
        "dtype": layer.dtype,
        "settings": layer.settings(),
    }


def model_config(model) -> dict:
    """The declarative description of ``model``'s architecture.

    Args:
        model: a built ``Model`` or ``Sequential``.

    Examples:
        >>> model_config(model)["class"]
        'Sequential'
    """
    from ferrograd.layers.input_layer import InputLayer
    from ferrograd.layers.layer import is_python_defined
    from ferrograd.models import Sequential
    from ferrograd.saving.object_registration import get_registered_name

    graph = model._require_graph()
    if is_python_defined(model):
        # Keras's rule: the class by name and its constructor arguments; loading finds the
        # class among those the program passes or registers, then traces it again.
        return {
            "class": "Subclassed",
            "name": model.name,
            "class_name": get_registered_name(type(model)),
            "config": _json_ready(model.get_config(), type(model).__name__),
            "input_shapes": [list(shape) for shape in graph.input_shapes],
        }
    real_layers = [layer for layer in model.layers if not isinstance(layer, InputLayer)]
    config: dict[str, Any] = {
        "name": model.name,
        "layers": [layer_entry(layer) for layer in real_layers],
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
        refs = [list(r) for r in model._output_refs]
        if model._many_outputs:
            config["output"] = refs
        elif refs[0][1] == 0:
            config["output"] = refs[0][0]
        else:
            config["output"] = refs[0]
    return config


def _json_ready(config, class_name: str) -> dict:
    import json

    try:
        return json.loads(json.dumps(config))
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"get_config() of {class_name} returned values JSON cannot hold ({error}); "
            "override get_config() to return plain values"
        ) from None


def compile_config(model) -> dict | None:
    """The compile settings of ``model`` (optimizer, loss, metrics by their configs, and
    ``loss_weights`` when given), or None when it is not compiled. A model of several outputs
    keeps its losses and metrics as it was given them: a list (one per output) or a dict by
    output name.

    Args:
        model: a model.

    Examples:
        >>> compile_config(model)["loss"]["class_name"]
        'BinaryCrossentropy'
    """
    from ferrograd import losses, optimizers

    if not model.compiled:
        return None
    loss = model.loss
    if isinstance(loss, dict):
        loss_config: Any = {
            name: None if value is None else losses.serialize(value) for name, value in loss.items()
        }
    elif isinstance(loss, (list, tuple)):
        loss_config = [None if value is None else losses.serialize(value) for value in loss]
    else:
        # None: compiled without a loss (a model whose train_step computes its own).
        loss_config = None if loss is None else losses.serialize(loss)
    settings: dict[str, Any] = {
        "optimizer": optimizers.serialize(model.optimizer),
        "loss": loss_config,
        "metrics": _metric_specs_config(model._metric_specs),
    }
    loss_weights = model.loss_weights
    if loss_weights is not None:
        settings["loss_weights"] = (
            dict(loss_weights) if isinstance(loss_weights, dict) else list(loss_weights)
        )
    return settings


def _metric_specs_config(specs):
    """``compile(metrics=...)`` as JSON: names stay names, metrics become their configs, lists
    and dicts by output keep their shape."""
    from ferrograd import metrics

    if isinstance(specs, dict):
        return {name: _metric_specs_config(value) for name, value in specs.items()}
    if isinstance(specs, (list, tuple)):
        return [_metric_specs_config(value) for value in specs]
    if specs is None or isinstance(specs, str):
        return specs
    return metrics.serialize(specs)


def compile_arguments(settings: dict) -> dict:
    """The arguments of ``model.compile`` that ``compile_config`` describes (fresh optimizer,
    losses and metrics, no state).

    Args:
        settings: a dict as ``compile_config`` returns it.

    Returns:
        A dict with ``optimizer``, ``loss``, ``metrics`` and ``loss_weights``.

    Raises:
        KeyError, TypeError, ValueError: settings that describe no optimizer, loss or metric.

    Examples:
        >>> twin = fg.Sequential([layers.Dense(2, input_shape=(3,)), layers.Dense(1)])
        >>> twin.compile(**compile_arguments(compile_config(model)))
        >>> type(twin.loss).__name__
        'BinaryCrossentropy'
    """
    from ferrograd import losses, metrics, optimizers

    def loss_of(entry):
        return None if entry is None else losses.deserialize(entry)

    def metrics_of(entry):
        if isinstance(entry, dict) and "class_name" in entry:
            return metrics.deserialize(entry)
        if isinstance(entry, dict):
            return {name: metrics_of(value) for name, value in entry.items()}
        if isinstance(entry, list):
            return [metrics_of(value) for value in entry]
        return entry

    loss = settings["loss"]
    if isinstance(loss, dict) and "class_name" not in loss:
        loss = {name: loss_of(value) for name, value in loss.items()}
    elif isinstance(loss, list):
        loss = [loss_of(value) for value in loss]
    else:
        loss = loss_of(loss)
    return {
        "optimizer": optimizers.deserialize(settings["optimizer"]),
        "loss": loss,
        "metrics": metrics_of(settings.get("metrics") or []),
        "loss_weights": settings.get("loss_weights"),
    }


class ConfigReader:
    """Reads a model description, failing with a message that names the place and the problem.

    Args:
        source: how errors name the file (``"'model.fgm'"``).

    Examples:
        >>> reader = ConfigReader("'model.fgm'")
        >>> reader.get({"units": 4}, "units", int, "layer 0")
        4
    """

    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str):
        """Raises ``FileFormatError`` with ``message``, after the source."""
        raise FileFormatError(f"{self.source}: {message}")

    def get(self, mapping: Any, key: str, kind: type | tuple, where: str):
        """``mapping[key]``, which must exist and be a ``kind`` (bools are not ints)."""
        if not isinstance(mapping, dict) or key not in mapping:
            self.fail(f"{where} has no {key!r}")
        value = mapping[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            expected = " or ".join(k.__name__ for k in kinds)
            self.fail(f"{where}.{key} must be {expected}, found {value!r}")
        return value

    def only_keys(self, mapping: dict, allowed: set, where: str) -> None:
        """Fails when ``mapping`` has a key outside ``allowed``."""
        unknown = set(mapping) - allowed
        if unknown:
            self.fail(f"{where} has unknown settings {sorted(unknown)}; allowed: {sorted(allowed)}")

    def shape(self, value: Any, where: str) -> tuple:
        """``value`` as a shape: a list of sizes (below 2**40) or nulls."""
        if not isinstance(value, list) or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40)
            for d in value
        ):
            self.fail(f"{where} must be a list of sizes or nulls, found {value!r}")
        return tuple(value)


def model_from_config(config: dict, source: str = "model config"):
    """A new model (weights freshly initialised) from ``model_config``'s description.

    Args:
        config: the description.
        source: how errors name where it came from.

    Raises:
        FileFormatError: the description breaks the schema or cannot be built.

    Examples:
        >>> copy = model_from_config(model_config(model))
    """
    from ferrograd import layers as layer_module
    from ferrograd.models import Model, Sequential

    reader = ConfigReader(source)
    classes = layer_classes()
    if config.get("class") == "Subclassed":
        return _subclassed_from_config(config, reader)
    reader.only_keys(
        config, {"class", "name", "layers", "input_shape", "inputs", "nodes", "output"}, "model"
    )
    model_class = reader.get(config, "class", str, "model")
    name = reader.get(config, "name", str, "model")
    entries = reader.get(config, "layers", list, "model")

    def build(entry: Any, index: int):
        where = f"layer {index}"
        if isinstance(entry, dict) and entry.get("kind") == "Model":
            reader.only_keys(entry, {"kind", "name", "trainable", "model"}, where)
            inner = model_from_config(
                reader.get(entry, "model", dict, where), f"{source} ({where})"
            )
            inner.trainable = reader.get(entry, "trainable", bool, where)
            return inner
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

        def ref(value: Any, i: int, where: str) -> tuple:
            """A wiring reference: an earlier node, or [node, output index]."""
            if isinstance(value, int) and not isinstance(value, bool):
                value = [value, 0]
            if not (
                isinstance(value, list)
                and len(value) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
                and 0 <= value[0] < i
                and value[1] >= 0
            ):
                reader.fail(f"{where} must name an earlier node, found {value!r}")
            return tuple(value)

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
        tensors: list = []

        def pick(reference: tuple, i: int):
            """The symbolic tensor a reference names."""
            value = tensors[reference[0]]
            if isinstance(value, list):
                if reference[1] >= len(value):
                    reader.fail(f"node {i} reads output {reference[1]} of a node with fewer")
                return value[reference[1]]
            if reference[1] != 0:
                reader.fail(f"node {i} reads output {reference[1]} of a node with one output")
            return value

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
                if not sources:
                    reader.fail(f"node {i} reads no node")
                read = [pick(ref(s, i, f"node {i}.inputs"), i) for s in sources]
                training = node.get("training")
                if training is not None and not isinstance(training, bool):
                    reader.fail(f"node {i}.training must be true, false or absent")
                tensor = by_name[layer_name](read if len(read) > 1 else read[0], training=training)
            tensors.append(tensor)
        output = config.get("output")
        if isinstance(output, list) and output and isinstance(output[0], list):
            outs = [pick(ref(o, len(tensors), "model.output"), len(tensors)) for o in output]
            return Model(inputs=inputs, outputs=outs, name=name)
        out = pick(ref(output, len(tensors), "model.output"), len(tensors))
        return Model(inputs=inputs, outputs=out, name=name)
    except FileFormatError:
        raise
    except (TypeError, ValueError) as error:
        reader.fail(f"the model cannot be rebuilt: {error}")


def unbuilt_sequential(name: str, entries: list, compile_settings: dict | None = None):
    """A ``Sequential`` model of fresh, unbuilt layers from their ``layer_entry`` descriptions
    (the pickled form of a model not built yet), compiled as ``compile_settings`` says.

    Args:
        name: the model's name.
        entries: one ``layer_entry`` per layer.
        compile_settings: ``compile_config``'s description of the compile settings, or None
            for a model not compiled (default None).

    Examples:
        >>> model = unbuilt_sequential("mlp", [layer_entry(layers.Dense(2))])
    """
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
    model = Sequential(layers, name=name)
    if compile_settings is not None:
        model.compile(**compile_arguments(compile_settings))
    return model


def model_to_json(model, **kwargs) -> str:
    """The JSON text of ``model``'s architecture (``model.to_json()``), which
    ``model_from_json`` rebuilds with fresh weights.

    Args:
        model: a built model.
        **kwargs: passed to ``json.dumps`` (``indent=2``).

    Returns:
        The JSON text, a str.

    Examples:
        >>> text = fg.saving.model_to_json(model)
        >>> fg.saving.model_from_json(text).count_params() == model.count_params()
        True
    """
    return json.dumps(
        {"class_name": model_config(model)["class"], "config": model_config(model)}, **kwargs
    )


def model_from_json(json_string: str):
    """A new model (fresh weights) from ``model.to_json()``'s text, ferrograd's or Keras 3's
    (read with the same closed schema as their files: no code, no custom objects).

    Args:
        json_string: the JSON text.

    Raises:
        FileFormatError: the text is not JSON or breaks the schema.

    Returns:
        A new, uncompiled model with freshly initialised weights.

    Examples:
        >>> copy = fg.saving.model_from_json(model.to_json())
        >>> copy.count_params() == model.count_params()
        True
    """
    from ferrograd.saving.archive import parse_json

    if not isinstance(json_string, (str, bytes)):
        raise TypeError(f"model_from_json takes a JSON string, received {json_string!r:.80}")
    data = json_string.encode("utf-8") if isinstance(json_string, str) else json_string
    spec = parse_json(data, "the JSON text", "model_from_json")
    if "module" in spec or "registered_name" in spec:
        from ferrograd.saving.keras_file import KerasConfigReader

        return KerasConfigReader("model_from_json").model(spec)
    reader = ConfigReader("model_from_json")
    reader.only_keys(spec, {"class_name", "config"}, "the JSON text")
    return model_from_config(reader.get(spec, "config", dict, "the JSON text"), "model_from_json")


def _subclassed_from_config(config: dict, reader):
    """A subclassed model from its class name and config: the class comes from the loading
    program (``custom_objects``, ``register_keras_serializable``), never from the file."""
    from ferrograd.saving.object_registration import find_class

    reader.only_keys(config, {"class", "name", "class_name", "config", "input_shapes"}, "model")
    class_name = reader.get(config, "class_name", str, "model")
    arguments = reader.get(config, "config", dict, "model")
    shapes = reader.get(config, "input_shapes", list, "model")
    cls = find_class(class_name)
    if cls is None:
        reader.fail(
            f"the model is of class {class_name!r}, written in Python; pass it to "
            f"load_model(..., custom_objects={{{class_name.split('>')[-1]!r}: "
            f"{class_name.split('>')[-1]}}}) or decorate it with "
            "@ferrograd.saving.register_keras_serializable()"
        )
    for shape in shapes:
        if not isinstance(shape, list) or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 < d < 2**31)
            for d in shape
        ):
            reader.fail(f"invalid input shape {shape!r}")
    try:
        model = cls.from_config(arguments)
        model.build(shapes if len(shapes) > 1 else tuple(shapes[0]))
    except (TypeError, ValueError) as error:
        reader.fail(f"{class_name} could not be rebuilt from its config: {error}")
    return model
