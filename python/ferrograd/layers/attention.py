"""``Attention``: Keras's dot-product (Luong-style) attention layer."""

from __future__ import annotations

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import Layer
from ferrograd.layers.mask_tracking import as_mask_array, attach_mask, mask_of

#: The call arguments that, in a model, are fixed per layer (they are part of its settings).
_CALL_SETTINGS = ("use_causal_mask", "return_attention_scores")


class Attention(Layer):
    """Dot-product attention (Luong-style) as Keras 3's ``Attention``: scores
    ``query @ keyᵀ`` (times a trainable ``scale`` with ``use_scale``), a softmax over the keys,
    then the weighted sum of ``value``; one fused Rust kernel.

    Called on ``[query, value]`` or ``[query, value, key]`` (``(batch, T, dim)``,
    ``(batch, S, dv)``, ``(batch, S, dim)``); gives ``(batch, T, dv)``. ``mask=[query_mask,
    value_mask]`` (on tensors; in a model the masks come from the layers before): the value's
    mask removes keys, the query's zeroes its output rows and is the output's mask.

    Args:
        use_scale: learn a scalar ``scale`` for the scores (initialised to 1).
        score_mode: ``"dot"`` or ``"concat"`` (scores
            ``concat_score_weight * sum(tanh(scale * (query + key)))``).
        dropout: the dropout rate on the attention probabilities (training only).
        seed: not supported (ferrograd draws from ``fg.set_seed``'s generator); must be None.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``. mask: ``[query_mask,
        value_mask]``. training: dropout on or off. return_attention_scores: also return the
        probabilities ``(batch, T, S)`` (they carry no gradient). use_causal_mask: position t
        attends to keys 0..t only. In a model, ``use_causal_mask`` and
        ``return_attention_scores`` are fixed per layer by its first call there (a later call
        that leaves them out keeps them).

    Examples:
        >>> q, v = np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32")
        >>> layers.Attention()([q, v]).shape
        (2, 3, 4)
        >>> out, scores = layers.Attention()([q, v], return_attention_scores=True)
        >>> scores.shape
        (2, 3, 5)
    """

    kind = "Attention"

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"{name}: score_mode must be 'dot' or 'concat'. Received: score_mode={score_mode!r}"
            )
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise ValueError(f"{name}: dropout must be a number. Received: dropout={dropout!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1). Received: dropout={dropout!r}")
        if seed is not None:
            raise ValueError(
                f"{name}: the Keras argument seed={seed!r} is not supported by ferrograd "
                "(use fg.set_seed)"
            )
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = None
        self.use_causal_mask = False
        self.return_attention_scores = False

    def settings(self):
        """The settings the Rust layer is built from (with the call settings of its calls in a
        model)."""
        return {
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "use_causal_mask": self.use_causal_mask,
            "return_attention_scores": self.return_attention_scores,
        }

    def get_config(self):
        """Keras's config: the constructor's arguments (not the call settings)."""
        config = super().get_config()
        for key in _CALL_SETTINGS:
            config.pop(key)
        config["seed"] = None
        return config

    @classmethod
    def from_settings(cls, settings, **options):
        """The layer ``settings()`` described, its call settings included.

        Args:
            settings: the dict ``settings()`` returned.
            **options: ``name``, ``trainable`` or ``dtype``.

        Examples:
            >>> settings = layers.Attention(use_scale=True).settings()
            >>> layers.Attention.from_settings(settings).use_scale
            True
        """
        settings = dict(settings)
        call = {key: bool(settings.pop(key, False)) for key in _CALL_SETTINGS}
        layer = cls(**settings, **options)
        for key, value in call.items():
            setattr(layer, key, value)
        return layer

    def _set_call_settings(self, use_causal_mask, return_attention_scores):
        wanted = {
            "use_causal_mask": bool(use_causal_mask),
            "return_attention_scores": bool(return_attention_scores),
        }
        current = {key: getattr(self, key) for key in _CALL_SETTINGS}
        if wanted == current:
            return
        if self.__dict__.get("_calls"):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: its calls in a model share "
                f"use_causal_mask and return_attention_scores; it was called with {current} and "
                f"now with {wanted}. Use a second layer for the other setting."
            )
        weights = self.get_weights() if self.built else None
        for key, value in wanted.items():
            setattr(self, key, value)
        if weights is not None:
            self.build(self._input_shape)
            self.set_weights(weights)

    def __call__(
        self,
        inputs,
        mask=None,
        training=None,
        return_attention_scores=None,
        use_causal_mask=None,
        **kwargs,
    ):
        name = type(self).__name__
        if kwargs:
            raise TypeError(
                f"layer {self.name!r} was called with unexpected arguments: {sorted(kwargs)}"
            )
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: {type(inputs).__name__}"
                + (f" of length {len(inputs)}" if isinstance(inputs, (list, tuple)) else "")
            )
        if mask is not None and (not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3)):
            raise ValueError(
                f"{name} layer mask must be a list, namely [query_mask, value_mask]. "
                f"Received: mask={mask!r:.80}"
            )
        inputs = list(inputs)
        if any(isinstance(t, KerasTensor) for t in inputs):
            if mask is not None:
                raise ValueError(
                    "mask= is for calls on tensors; in a model the masks come from the layers "
                    "before (e.g. Embedding(mask_zero=True))"
                )
            # Not given: the layer's own settings (those of its first call in a model, or
            # those a model file restored).
            self._set_call_settings(
                self.use_causal_mask if use_causal_mask is None else use_causal_mask,
                self.return_attention_scores
                if return_attention_scores is None
                else return_attention_scores,
            )
            return Layer.__call__(self, inputs, training)
        use_causal_mask = bool(use_causal_mask)
        if self.use_causal_mask != use_causal_mask:
            # On tensors the outputs are computed with the layer's settings: change them.
            self._set_call_settings(use_causal_mask, self.return_attention_scores)
        tensors = [
            t if isinstance(t, Tensor) else _core.tensor(np.asarray(t), dtype=self.dtype)
            for t in inputs
        ]
        for label, tensor in zip(("query", "value", "key"), tensors, strict=False):
            if len(tensor.shape) != 3:
                raise ValueError(
                    f"{name} {self.name!r}: the {label} must be 3-D (batch, time, features), "
                    f"received shape {tuple(tensor.shape)}"
                )
        masks = list(mask) if mask is not None else [mask_of(t) for t in inputs[:2]]
        masks = [
            as_mask_array(m, tuple(t.shape[:2]))
            for m, t in zip(masks[:2], tensors[:2], strict=True)
        ]
        self._ensure_built([(None, *t.shape[1:]) for t in tensors])
        from ferrograd.tracing import is_tracing, run_builtin

        if is_tracing() and any(m is not None for m in masks):
            raise ValueError(
                f"layer {self.name!r}: masks given to a call inside a traced call() cannot be "
                "traced; build the model with the functional API for masked attention"
            )

        def run(mode):
            return list(self._core.call_masked(tensors, masks, bool(mode)))

        output, scores = run_builtin(self, tensors, run, training)
        attach_mask(output, masks[0])
        return (output, scores) if return_attention_scores else output
