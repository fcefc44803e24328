"""Masks that travel with eager tensors, as Keras attaches ``_keras_mask`` to a tensor.

When a layer that makes a mask (``Embedding(mask_zero=True)``, a recurrent layer returning
sequences) is called on tensors, its output remembers the mask, and the next mask-aware layer
called on that output uses it. Inside a model the Rust graph carries masks itself.
"""

from __future__ import annotations

import weakref

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import Layer, check_call_kwargs

# id(tensor) -> (weak reference to it, mask); entries leave when their tensor is freed.
_masks: dict[int, tuple[weakref.ref, np.ndarray]] = {}


def attach_mask(tensor: Tensor, mask) -> None:
    """Remembers ``mask`` (a (batch, time) boolean array, or None for no mask) for ``tensor``."""
    key = id(tensor)
    if mask is None:
        _masks.pop(key, None)
        return

    def forget(_reference, key=key):
        _masks.pop(key, None)

    _masks[key] = (weakref.ref(tensor, forget), np.asarray(mask, dtype=bool))


def mask_of(tensor):
    """The mask remembered for ``tensor``, or None."""
    entry = _masks.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]


def as_mask_array(mask, batch_time: tuple):
    """``mask`` (array-like or Tensor of booleans or 0/1) as a C-contiguous bool array of shape
    ``batch_time``, or None."""
    if mask is None:
        return None
    if isinstance(mask, Tensor):
        mask = mask.numpy()
    array = np.ascontiguousarray(np.asarray(mask), dtype=bool)
    if array.shape != tuple(batch_time):
        raise ValueError(
            f"the mask must have shape (batch, time) = {tuple(batch_time)}, received a mask of "
            f"shape {array.shape}"
        )
    return array


class MaskAwareLayer(Layer):
    """A layer that reads and makes (batch, time) masks when called on tensors, and may return
    several outputs there (a recurrent layer's final states)."""

    def __call__(self, inputs, training=None, mask=None, **kwargs):
        check_call_kwargs(self, kwargs)
        if isinstance(inputs, KerasTensor):
            if mask is not None:
                raise ValueError(
                    "mask= is for calls on tensors; in a model the mask comes from the layers "
                    "before (e.g. Embedding(mask_zero=True))"
                )
            return super().__call__(inputs, training)
        if not isinstance(inputs, Tensor):
            inputs = _core.tensor(np.asarray(inputs), dtype=self.dtype)
        explicit_mask = mask is not None
        if mask is None:
            mask = mask_of(inputs)
        self._ensure_built((None, *inputs.shape[1:]))
        mask = as_mask_array(mask, tuple(inputs.shape[:2]))
        from ferrograd.tracing import is_tracing, run_builtin

        if is_tracing() and explicit_mask:
            raise ValueError(
                f"layer {self.name!r}: mask= inside a traced call() cannot be traced; in a "
                "traced graph masks come from the layers before (Embedding(mask_zero=True))"
            )
        made = {}

        def run(mode):
            outputs, made["mask"] = self._core.call([inputs], mask, bool(mode))
            return list(outputs)

        # Through run_builtin, so that a traced call() records this layer as one node (whose
        # mask the graph then carries).
        outputs = run_builtin(self, [inputs], run, training)
        attach_mask(outputs[0], made.get("mask"))
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def _check_single_output(self) -> None:
        """Raises when the layer has several outputs, which a model cannot hold."""
