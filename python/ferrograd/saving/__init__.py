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

One thing per file: ``atomic.py`` (atomic writes), ``archive.py`` (the zip and its entries),
``config.py`` (the description and its closed-schema reader), ``weights_file.py`` (the weights
alone), ``model_file.py`` (whole models, and their bytes for pickling), ``keras_file.py``
(Keras 3's ``.keras`` and ``.weights.h5`` files, read with the same closed schema).
"""

from __future__ import annotations

from ferrograd.saving.archive import (
    CONFIG_ENTRY,
    ENTRY_LIMITS,
    FORMAT,
    FORMAT_VERSION,
    METADATA_ENTRY,
    OPTIMIZER_PREFIX,
    WEIGHTS_ENTRY,
)
from ferrograd.saving.atomic import atomic_write
from ferrograd.saving.config import (
    compile_arguments,
    compile_config,
    layer_classes,
    layer_entry,
    model_config,
    model_from_config,
    model_from_json,
    model_to_json,
    unbuilt_sequential,
)
from ferrograd.saving.model_file import load_model, model_from_bytes, model_to_bytes, save_model
from ferrograd.saving.object_registration import (
    custom_object_scope,
    get_registered_name,
    register_keras_serializable,
)
from ferrograd.saving.weights_file import load_weights, save_weights

# The names other modules (``ferrograd.sklearn``) and older code use.
_layer_entry = layer_entry
_compile_config = compile_config

__all__ = [
    "CONFIG_ENTRY",
    "ENTRY_LIMITS",
    "FORMAT",
    "FORMAT_VERSION",
    "METADATA_ENTRY",
    "OPTIMIZER_PREFIX",
    "WEIGHTS_ENTRY",
    "atomic_write",
    "compile_arguments",
    "compile_config",
    "custom_object_scope",
    "get_registered_name",
    "layer_classes",
    "layer_entry",
    "load_model",
    "load_weights",
    "model_config",
    "model_from_bytes",
    "model_from_config",
    "model_from_json",
    "model_to_bytes",
    "model_to_json",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "unbuilt_sequential",
]
