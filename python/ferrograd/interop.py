"""Moving weights between ferrograd models and PyTorch modules.

``to_torch_state_dict(model)`` gives a PyTorch ``state_dict`` of the model's weights, and
``load_torch_state_dict(model, state_dict)`` takes one back. Each layer's weights are converted
between the two layouts (``docs/weight_layout.md`` has the details):

==========================  =====================================================================
ferrograd layer             PyTorch module and its keys (after the layer's prefix)
==========================  =====================================================================
``Dense``                   ``nn.Linear``: ``weight`` = kernel.T (out, in), ``bias``
``BatchNormalization``      ``nn.BatchNorm1d(eps=epsilon, momentum=1 - momentum)``: ``weight`` =
                            gamma, ``bias`` = beta, ``running_mean``, ``running_var``,
                            ``num_batches_tracked`` (written as 0, ignored when loading)
``Embedding``               ``nn.Embedding``: ``weight`` (the same layout)
``SimpleRNN``/``LSTM``      ``nn.RNN``/``nn.LSTM(batch_first=True)``: ``weight_ih_l0`` = kernel.T,
                            ``weight_hh_l0`` = recurrent_kernel.T, ``bias_ih_l0`` = bias,
                            ``bias_hh_l0`` = 0 (loading adds the two biases)
``GRU``                     ``nn.GRU(batch_first=True)``: as the LSTM, with the gate blocks
                            reordered from (z, r, h) to (r, z, n) and ``bias[0]``/``bias[1]``
                            as ``bias_ih_l0``/``bias_hh_l0``
``Bidirectional``           the recurrent module with ``bidirectional=True``: the backward copy's
                            keys end in ``_reverse``
``Conv1D``/``Conv2D``       ``nn.Conv1d``/``nn.Conv2d`` (``groups``): ``weight`` = kernel
                            ``(*k, in/g, out)`` permuted to ``(out, in/g, *k)``, ``bias``
``Conv1DTranspose``/        ``nn.ConvTranspose1d``/``nn.ConvTranspose2d``: ``weight`` = kernel
``Conv2DTranspose``         ``(*k, out, in)`` permuted to ``(in, out, *k)``, ``bias``
``DepthwiseConv2D``         ``nn.Conv2d(c, c * m, k, groups=c)``: ``weight`` = kernel
                            ``(kh, kw, c, m)`` as ``(c * m, 1, kh, kw)``, ``bias``
``SeparableConv2D``         two ``nn.Conv2d`` submodules: ``depthwise.weight`` (as
                            ``DepthwiseConv2D``, no bias), ``pointwise.weight`` = the 1x1 kernel
                            ``(1, 1, c * m, filters)`` as ``(filters, c * m, 1, 1)``,
                            ``pointwise.bias``
==========================  =====================================================================

The keys are ``"{prefix}.{key}"``, the prefix being the layer's name by default, so a PyTorch
module whose submodules carry the layers' names loads the dict as is:
``nn.Sequential(OrderedDict(dense=nn.Linear(20, 64), relu=nn.ReLU(), dense_1=nn.Linear(64, 1)))``.
For a plain ``nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 1))``, whose
submodules are numbered, give the prefixes: ``prefixes=["0", "2"]`` (one per layer that has
weights, in order) or ``prefixes={"dense": "0", "dense_1": "2"}``.

Only the weights move: the PyTorch module must compute the same function (the activations are
separate modules there, and ``BatchNormalization``'s default ``epsilon`` is 1e-3 where
``nn.BatchNorm1d``'s is 1e-5). PyTorch's convolutions are channels first: a ``channels_first``
ferrograd convnet matches layer for layer, while a channels-last one flattens its feature maps
in another order (the ``Dense`` after ``Flatten`` then reads permuted rows), and TensorFlow's
``"same"`` padding puts an odd padding element after where PyTorch's puts it before
(``docs/weight_layout.md``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np

from ferrograd import _core

__all__ = ["load_torch_state_dict", "to_torch_state_dict"]

_RECURRENT_KINDS = ("SimpleRNN", "LSTM", "GRU")


def to_torch_state_dict(model, *, prefixes=None, as_numpy=False) -> OrderedDict:
    """The model's weights as a PyTorch ``state_dict``.

    Args:
        model: a built ``fg.Sequential`` or ``fg.Model``.
        prefixes: the PyTorch submodule name of each layer that has weights: None (the layer
            names), a list (one per such layer, in the model's order) or a dict from layer
            name to prefix (layers left out keep their names).
        as_numpy: return numpy arrays even when PyTorch is installed.

    Returns:
        An ``OrderedDict`` from keys like ``"dense.weight"`` to ``torch.Tensor`` (CPU, the
        model's dtype) when ``torch`` can be imported, else to numpy arrays.

    Examples:
        >>> state = fg.interop.to_torch_state_dict(model, prefixes=["0", "2"])
        >>> torch_model.load_state_dict(state)
        <All keys matched successfully>
    """
    arrays = OrderedDict()
    for layer, prefix in _layers_with_prefixes(model, prefixes):
        for key, array in _torch_entries(layer, _layer_arrays(layer)).items():
            arrays[f"{prefix}.{key}"] = np.ascontiguousarray(array)
    if as_numpy:
        return arrays
    try:
        import torch
    except ImportError:
        return arrays
    return OrderedDict((key, torch.from_numpy(array)) for key, array in arrays.items())


def load_torch_state_dict(model, state_dict, *, prefixes=None) -> None:
    """Sets the model's weights from a PyTorch ``state_dict``.

    Every key, shape and dtype is checked before any weight changes: on a difference nothing is
    assigned and the error lists all the missing keys, unexpected keys and shape mismatches.

    Args:
        model: a built ``fg.Sequential`` or ``fg.Model``.
        state_dict: a mapping from keys to ``torch.Tensor`` or numpy arrays, as
            ``module.state_dict()`` returns (``num_batches_tracked`` entries are ignored).
        prefixes: as for ``to_torch_state_dict``.

    Raises:
        ValueError: the keys or shapes do not match the model.
        TypeError: ``state_dict`` is not a mapping, or a value is not floating point.

    Examples:
        >>> fg.interop.load_torch_state_dict(model, torch_model.state_dict(), prefixes=["0", "2"])
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"state_dict must be a mapping from keys to tensors, received {type(state_dict)}"
        )
    plan = _layers_with_prefixes(model, prefixes)
    expected = {}
    optional = set()
    keys_of_layer = []
    for layer, prefix in plan:
        keys = {}
        for key, array in _torch_entries(layer, _layer_arrays(layer)).items():
            full_key = f"{prefix}.{key}"
            if key == "num_batches_tracked":
                optional.add(full_key)
            else:
                expected[full_key] = array.shape
                keys[key] = full_key
        keys_of_layer.append((layer, keys))
    received = {key: _as_numpy(key, value) for key, value in state_dict.items()}
    problems = []
    missing = [key for key in expected if key not in received]
    unexpected = [key for key in received if key not in expected and key not in optional]
    if missing:
        problems.append(f"missing keys: {missing}")
    if unexpected:
        problems.append(f"unexpected keys: {unexpected}")
    for key, shape in expected.items():
        if key not in received:
            continue
        array = received[key]
        if array.dtype.kind != "f":
            problems.append(f"{key}: expected floating-point values, received dtype {array.dtype}")
        elif array.shape != shape:
            problems.append(f"{key}: expected shape {shape}, received {array.shape}")
    if problems:
        raise ValueError("the state_dict does not match the model: " + "; ".join(problems))
    updates = []
    for layer, keys in keys_of_layer:
        entries = {key: received[full_key] for key, full_key in keys.items()}
        weights = dict(_named_layer_weights(layer))
        for name, array in _ferrograd_arrays(layer, entries).items():
            updates.append((weights[name], array))
    for tensor, array in updates:
        _core.assign(tensor, array)


# --- the layers and their prefixes ---------------------------------------------------------------


def _named_layer_weights(layer) -> list:
    return [(name, tensor) for name, tensor, _ in layer._weight_entries()]


def _layer_arrays(layer) -> dict[str, np.ndarray]:
    return {name: tensor.numpy() for name, tensor in _named_layer_weights(layer)}


def _layers_with_prefixes(model, prefixes) -> list[tuple]:
    model._require_graph()
    weighted = [layer for layer in model.layers if _named_layer_weights(layer)]
    for layer in weighted:
        if layer.kind not in _CONVERTERS:
            raise TypeError(
                f"layer {layer.name!r} ({type(layer).__name__}) has no PyTorch equivalent here; "
                f"supported: {', '.join(sorted(_CONVERTERS))}"
            )
    if prefixes is None:
        chosen = [layer.name for layer in weighted]
    elif isinstance(prefixes, Mapping):
        names = {layer.name for layer in weighted}
        unknown = sorted(set(prefixes) - names)
        if unknown:
            raise ValueError(
                f"prefixes names layers the model has no weights for: {unknown}; layers with "
                f"weights: {[layer.name for layer in weighted]}"
            )
        chosen = [str(prefixes.get(layer.name, layer.name)) for layer in weighted]
    elif isinstance(prefixes, Sequence) and not isinstance(prefixes, str):
        if len(prefixes) != len(weighted):
            raise ValueError(
                f"prefixes needs one entry per layer with weights ({len(weighted)}: "
                f"{[layer.name for layer in weighted]}), received {len(prefixes)}: {list(prefixes)}"
            )
        chosen = [str(prefix) for prefix in prefixes]
    else:
        raise TypeError(f"prefixes must be None, a list or a dict, received {prefixes!r}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"prefixes must be distinct, received {chosen}")
    return list(zip(weighted, chosen, strict=True))


def _as_numpy(key: str, value) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "is_floating_point"):  # a torch.Tensor
        value = value.detach().cpu()
        # float16 and bfloat16 have no exact numpy equivalent here; float64 holds them exactly.
        return (value.double() if value.is_floating_point() else value).numpy()
    try:
        return np.asarray(value)
    except Exception as error:
        raise TypeError(f"{key}: expected a tensor or an array, received {type(value)}") from error


# --- the conversions, one pair per layer kind ----------------------------------------------------


def _dense_to_torch(layer, weights):
    entries = {"weight": weights["kernel"].T}
    if "bias" in weights:
        entries["bias"] = weights["bias"]
    return entries


def _dense_from_torch(layer, entries):
    weights = {"kernel": entries["weight"].T}
    if "bias" in entries:
        weights["bias"] = entries["bias"]
    return weights


_BATCH_NORM_KEYS = {
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}


def _batch_norm_to_torch(layer, weights):
    entries = {torch_key: weights[name] for name, torch_key in _BATCH_NORM_KEYS.items()
               if name in weights}  # fmt: skip
    entries["num_batches_tracked"] = np.array(0, dtype=np.int64)
    return entries


def _batch_norm_from_torch(layer, entries):
    return {name: entries[torch_key] for name, torch_key in _BATCH_NORM_KEYS.items()
            if torch_key in entries}  # fmt: skip


def _embedding_to_torch(layer, weights):
    return {"weight": weights["embeddings"]}


def _embedding_from_torch(layer, entries):
    return {"embeddings": entries["weight"]}


def _gru_to_torch_order(blocks: np.ndarray) -> np.ndarray:
    """Gate blocks along the first axis, from Keras's (z, r, h) to PyTorch's (r, z, n)."""
    z, r, h = np.split(blocks, 3, axis=0)
    return np.concatenate([r, z, h], axis=0)


def _gru_from_torch_order(blocks: np.ndarray) -> np.ndarray:
    r, z, n = np.split(blocks, 3, axis=0)
    return np.concatenate([z, r, n], axis=0)


def _recurrent_to_torch(kind, weights, prefix="", suffix=""):
    kernel = weights[prefix + "kernel"].T
    recurrent_kernel = weights[prefix + "recurrent_kernel"].T
    bias = weights.get(prefix + "bias")
    if kind == "GRU":
        kernel, recurrent_kernel = (
            _gru_to_torch_order(kernel),
            _gru_to_torch_order(recurrent_kernel),
        )
    entries = {f"weight_ih_l0{suffix}": kernel, f"weight_hh_l0{suffix}": recurrent_kernel}
    if bias is not None:
        if kind == "GRU":
            # The two GRU biases are not interchangeable: the reset gate scales bias_hh's block.
            input_bias, recurrent_bias = _gru_to_torch_order(bias[0]), _gru_to_torch_order(bias[1])
        else:
            # SimpleRNN and LSTM only ever add the two biases; ferrograd keeps their sum.
            input_bias, recurrent_bias = bias, np.zeros_like(bias)
        entries[f"bias_ih_l0{suffix}"] = input_bias
        entries[f"bias_hh_l0{suffix}"] = recurrent_bias
    return entries


def _recurrent_from_torch(kind, entries, prefix="", suffix=""):
    kernel = entries[f"weight_ih_l0{suffix}"]
    recurrent_kernel = entries[f"weight_hh_l0{suffix}"]
    if kind == "GRU":
        kernel, recurrent_kernel = (
            _gru_from_torch_order(kernel),
            _gru_from_torch_order(recurrent_kernel),
        )
    weights = {prefix + "kernel": kernel.T, prefix + "recurrent_kernel": recurrent_kernel.T}
    if f"bias_ih_l0{suffix}" in entries:
        input_bias, recurrent_bias = entries[f"bias_ih_l0{suffix}"], entries[f"bias_hh_l0{suffix}"]
        if kind == "GRU":
            weights[prefix + "bias"] = np.stack(
                [_gru_from_torch_order(input_bias), _gru_from_torch_order(recurrent_bias)]
            )
        else:
            weights[prefix + "bias"] = input_bias + recurrent_bias
    return weights


def _bidirectional_halves(layer):
    """The weight-name prefixes of the two copies and the keys' suffixes in PyTorch."""
    wrapped = _weight_name_of_kind(layer.layer.kind)
    return ((f"forward_{wrapped}/", ""), (f"backward_{wrapped}/", "_reverse"))


def _weight_name_of_kind(kind: str) -> str:
    return {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}[kind]


def _bidirectional_to_torch(layer, weights):
    entries = {}
    for prefix, suffix in _bidirectional_halves(layer):
        entries.update(_recurrent_to_torch(layer.layer.kind, weights, prefix, suffix))
    return entries


def _bidirectional_from_torch(layer, entries):
    weights = {}
    for prefix, suffix in _bidirectional_halves(layer):
        weights.update(_recurrent_from_torch(layer.layer.kind, entries, prefix, suffix))
    return weights


def _conv_weight_to_torch(kernel: np.ndarray) -> np.ndarray:
    """A Keras kernel ``(*k, a, b)`` as PyTorch's ``(b, a, *k)`` (a convolution's ``(out,
    in / groups, *k)``, a transposed convolution's ``(in, out, *k)``)."""
    rank = kernel.ndim - 2
    return kernel.transpose(rank + 1, rank, *range(rank))


def _conv_weight_from_torch(weight: np.ndarray) -> np.ndarray:
    rank = weight.ndim - 2
    return weight.transpose(*range(2, rank + 2), 1, 0)


def _conv_to_torch(layer, weights):
    entries = {"weight": _conv_weight_to_torch(weights["kernel"])}
    if "bias" in weights:
        entries["bias"] = weights["bias"]
    return entries


def _conv_from_torch(layer, entries):
    weights = {"kernel": _conv_weight_from_torch(entries["weight"])}
    if "bias" in entries:
        weights["bias"] = entries["bias"]
    return weights


def _depthwise_to_torch(kernel: np.ndarray) -> np.ndarray:
    """A depthwise kernel ``(kh, kw, c, m)`` as the grouped ``nn.Conv2d``'s ``(c * m, 1, kh,
    kw)``: output channel ``c * m + j`` in both."""
    kh, kw, c, m = kernel.shape
    return _conv_weight_to_torch(kernel.reshape(kh, kw, 1, c * m))


def _depthwise_from_torch(weight: np.ndarray, like: np.ndarray) -> np.ndarray:
    return _conv_weight_from_torch(weight).reshape(like.shape)


def _depthwise_conv_to_torch(layer, weights):
    entries = {"weight": _depthwise_to_torch(weights["kernel"])}
    if "bias" in weights:
        entries["bias"] = weights["bias"]
    return entries


def _depthwise_conv_from_torch(layer, entries):
    like = _layer_arrays(layer)["kernel"]
    weights = {"kernel": _depthwise_from_torch(entries["weight"], like)}
    if "bias" in entries:
        weights["bias"] = entries["bias"]
    return weights


def _separable_to_torch(layer, weights):
    entries = {
        "depthwise.weight": _depthwise_to_torch(weights["depthwise_kernel"]),
        "pointwise.weight": _conv_weight_to_torch(weights["pointwise_kernel"]),
    }
    if "bias" in weights:
        entries["pointwise.bias"] = weights["bias"]
    return entries


def _separable_from_torch(layer, entries):
    like = _layer_arrays(layer)["depthwise_kernel"]
    weights = {
        "depthwise_kernel": _depthwise_from_torch(entries["depthwise.weight"], like),
        "pointwise_kernel": _conv_weight_from_torch(entries["pointwise.weight"]),
    }
    if "pointwise.bias" in entries:
        weights["bias"] = entries["pointwise.bias"]
    return weights


_CONVERTERS = {
    "Dense": (_dense_to_torch, _dense_from_torch),
    **{
        kind: (_conv_to_torch, _conv_from_torch)
        for kind in ("Conv1D", "Conv2D", "Conv1DTranspose", "Conv2DTranspose")
    },
    "DepthwiseConv2D": (_depthwise_conv_to_torch, _depthwise_conv_from_torch),
    "SeparableConv2D": (_separable_to_torch, _separable_from_torch),
    "BatchNormalization": (_batch_norm_to_torch, _batch_norm_from_torch),
    "Embedding": (_embedding_to_torch, _embedding_from_torch),
    "Bidirectional": (_bidirectional_to_torch, _bidirectional_from_torch),
    **{
        kind: (
            lambda layer, weights: _recurrent_to_torch(layer.kind, weights),
            lambda layer, entries: _recurrent_from_torch(layer.kind, entries),
        )
        for kind in _RECURRENT_KINDS
    },
}


def _torch_entries(layer, weights: dict) -> dict[str, np.ndarray]:
    return _CONVERTERS[layer.kind][0](layer, weights)


def _ferrograd_arrays(layer, entries: dict) -> dict[str, np.ndarray]:
    return _CONVERTERS[layer.kind][1](layer, entries)
