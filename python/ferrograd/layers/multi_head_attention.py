"""``MultiHeadAttention``: Keras's multi-head attention, with its weights, masks and call."""

from __future__ import annotations

import numpy as np

from ferrograd import _core, initializers, regularizers
from ferrograd._core import Tensor
from ferrograd.layers.keras_tensor import KerasTensor
from ferrograd.layers.layer import Layer, regularizer_settings
from ferrograd.layers.mask_tracking import as_mask_array, attach_mask, mask_of

#: The call arguments that, in a model, are fixed per layer (they are part of its settings).
_CALL_SETTINGS = ("use_causal_mask", "return_attention_scores")


def _positive(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        kind = "a positive integer or None" if allow_none else "a positive integer"
        raise ValueError(f"MultiHeadAttention: {name} must be {kind}. Received: {name}={value!r}")
    return value


def _unsupported(name, value, neutral=(None,)):
    if not any(value is n or value == n for n in neutral):
        raise ValueError(
            f"MultiHeadAttention: the Keras argument {name}={value!r} is not supported by ferrograd"
        )


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017) as in Keras 3: the query, key and value are
    projected to ``num_heads`` heads, each head attends with scaled dot products, and the heads'
    results are projected back. The attention runs as one fused Rust kernel.

    Called as ``mha(query, value, key=None, ...)`` on ``(batch, T, dim)`` and
    ``(batch, S, dim)`` inputs; gives ``(batch, T, output_shape or query dim)``. Masks are
    Keras's: the query's mask (from ``Embedding(mask_zero=True)``, or ``query_mask=``) removes
    query rows, the value's and key's remove keys, ``use_causal_mask=True`` removes later
    keys, ``attention_mask`` (``(batch, T, S)``, 1 = attend) removes what it says; a query row
    left with nothing to attend to averages all values, as Keras's usual path does. The output
    keeps the query's mask.

    Args:
        num_heads: the number of heads.
        key_dim: the size of each head for query and key.
        value_dim: the size of each head for value (default ``key_dim``).
        dropout: the dropout rate on the attention probabilities (training only).
        use_bias: whether the projections have biases.
        output_shape: the size of the output's last axis (an int or a 1-tuple); default the
            query's.
        attention_axes: None or the sequence axis (1 or -2); attention over other axes is not
            supported.
        kernel_initializer, bias_initializer: the projections' initializers.
        kernel_regularizer, bias_regularizer: penalties on every kernel, every bias.
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Call arguments:
        query: ``(batch, T, dim)``. value: ``(batch, S, dim)``. key: ``(batch, S, dim)``
        (default ``value``). query_mask, value_mask, key_mask: ``(batch, T)``/``(batch, S)``
        booleans (on tensors; in a model they come from the layers before).
        attention_mask: ``(batch, T, S)``. return_attention_scores: also return the
        probabilities ``(batch, heads, T, S)`` (they carry no gradient).
        training: dropout on or off. use_causal_mask: position t attends to keys 0..t only.
        In a model, ``use_causal_mask`` and ``return_attention_scores`` are fixed per layer by
        its first call there (a later call that leaves them out keeps them).

    Examples:
        >>> mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
        >>> x = np.ones((3, 5, 8), dtype="float32")
        >>> mha(x, x).shape
        (3, 5, 8)
        >>> out, scores = mha(x, x, return_attention_scores=True)
        >>> scores.shape
        (3, 2, 5, 5)
        >>> tokens = layers.Input(shape=(5,), dtype="int32")
        >>> h = layers.Embedding(10, 8, mask_zero=True)(tokens)
        >>> layers.MultiHeadAttention(2, 4)(h, h, use_causal_mask=True).shape
        (None, 5, 8)
    """

    kind = "MultiHeadAttention"

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed=None,
        flash_attention=None,
        use_gate=False,
        sliding_window=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = _positive("num_heads", num_heads)
        self.key_dim = _positive("key_dim", key_dim)
        self._value_dim_arg = _positive("value_dim", value_dim, allow_none=True)
        self.value_dim = self._value_dim_arg or self.key_dim
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise ValueError(f"MultiHeadAttention: dropout must be a number. Received: {dropout!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(
                f"MultiHeadAttention: dropout must be in [0, 1). Received: dropout={dropout!r}"
            )
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if output_shape is not None:
            if isinstance(output_shape, (list, tuple)):
                if len(output_shape) != 1:
                    raise ValueError(
                        "MultiHeadAttention: only a 1-D output_shape (an int or a 1-tuple) is "
                        f"supported. Received: output_shape={output_shape!r}"
                    )
                output_shape = output_shape[0]
            output_shape = _positive("output_shape", output_shape)
        self._output_shape = output_shape
        if attention_axes is not None:
            axes = attention_axes
            if not isinstance(axes, (list, tuple)):
                axes = (axes,)
            if len(axes) != 1 or axes[0] not in (1, -2):
                raise ValueError(
                    "MultiHeadAttention: only attention over the sequence axis is supported "
                    "(attention_axes=None, 1 or -2, for inputs (batch, time, features)). "
                    f"Received: attention_axes={attention_axes!r}"
                )
            attention_axes = (int(axes[0]),)
        self.attention_axes = attention_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        _unsupported("activity_regularizer", activity_regularizer)
        _unsupported("kernel_constraint", kernel_constraint)
        _unsupported("bias_constraint", bias_constraint)
        _unsupported("seed", seed)
        _unsupported("flash_attention", flash_attention, (None, False))
        _unsupported("use_gate", use_gate, (False,))
        _unsupported("sliding_window", sliding_window)
        self.use_causal_mask = False
        self.return_attention_scores = False

    def settings(self):
        """The settings the Rust layer is built from (with the call settings of its calls in a
        model)."""
        return {
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self._value_dim_arg,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self._output_shape,
            "kernel_initializer": self.kernel_initializer._settings(),
            "bias_initializer": self.bias_initializer._settings(),
            "kernel_regularizer": regularizer_settings(self.kernel_regularizer),
            "bias_regularizer": regularizer_settings(self.bias_regularizer),
            "use_causal_mask": self.use_causal_mask,
            "return_attention_scores": self.return_attention_scores,
        }

    def get_config(self):
        """Keras's config: the constructor's arguments (not the call settings)."""
        config = super().get_config()
        for key in _CALL_SETTINGS:
            config.pop(key)
        config["attention_axes"] = self.attention_axes
        return config

    @classmethod
    def from_settings(cls, settings, **options):
        """The layer ``settings()`` described, its call settings included.

        Args:
            settings: the dict ``settings()`` returned.
            **options: ``name``, ``trainable`` or ``dtype``.

        Examples:
            >>> mha = layers.MultiHeadAttention(2, 4)
            >>> layers.MultiHeadAttention.from_settings(mha.settings()).num_heads
            2
        """
        settings = dict(settings)
        call = {key: bool(settings.pop(key, False)) for key in _CALL_SETTINGS}
        layer = cls(**settings, **options)
        for key, value in call.items():
            setattr(layer, key, value)
        return layer

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        """The output shape for a query, value (and key) of these shapes.

        Args:
            query_shape: ``(batch, T, dim)``, or a list of the input shapes.
            value_shape: ``(batch, S, dim)``.
            key_shape: default ``value_shape``.

        Examples:
            >>> layers.MultiHeadAttention(2, 4).compute_output_shape((None, 5, 8), (None, 7, 6))
            (None, 5, 8)
        """
        if value_shape is None and isinstance(query_shape, list):
            shapes = list(query_shape)
            if len(shapes) == 2:
                shapes.append(shapes[1])
        else:
            shapes = [query_shape, value_shape, value_shape if key_shape is None else key_shape]
        return super().compute_output_shape(shapes)

    def _set_call_settings(self, use_causal_mask, return_attention_scores):
        """Fixes the call settings for the layer's calls in a model (a first call sets them)."""
        wanted = {
            "use_causal_mask": bool(use_causal_mask),
            "return_attention_scores": bool(return_attention_scores),
        }
        current = {key: getattr(self, key) for key in _CALL_SETTINGS}
        if wanted == current:
            return
        if self.__dict__.get("_calls"):
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: its calls in a model share "
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
        query,
        value=None,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=None,
        training=None,
        use_causal_mask=None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(
                f"layer {self.name!r} was called with unexpected arguments: {sorted(kwargs)}"
            )
        if value is None and isinstance(query, (list, tuple)) and len(query) in (3, 4):
            # The inputs of a call in a model, as a model file replays it: [query, value, key]
            # and the attention mask, with the layer's own call settings.
            query, value, key, *rest = query
            attention_mask = rest[0] if rest else None
        if value is None:
            raise TypeError(f"MultiHeadAttention {self.name!r} was called without a value")
        if key is None:
            key = value
        symbolic = [isinstance(t, KerasTensor) for t in (query, value, key)]
        if any(symbolic):
            return self._symbolic_call(
                query,
                value,
                key,
                (query_mask, value_mask, key_mask),
                attention_mask,
                return_attention_scores,
                training,
                use_causal_mask,
            )
        tensors = [
            t if isinstance(t, Tensor) else _core.tensor(np.asarray(t), dtype=self.dtype)
            for t in (query, value, key)
        ]
        for name, tensor in zip(("query", "value", "key"), tensors, strict=True):
            if len(tensor.shape) != 3:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r}: the {name} must be 3-D (batch, time, "
                    f"features), received shape {tuple(tensor.shape)}"
                )
        q, v, k = tensors
        masks = [
            query_mask if query_mask is not None else mask_of(query),
            value_mask if value_mask is not None else mask_of(value),
            key_mask if key_mask is not None else (mask_of(key) if key is not value else None),
        ]
        steps = [tuple(q.shape[:2]), tuple(v.shape[:2]), tuple(k.shape[:2])]
        masks = [as_mask_array(m, s) for m, s in zip(masks, steps, strict=True)]
        use_causal_mask = bool(use_causal_mask)
        if self.use_causal_mask and not use_causal_mask:
            raise ValueError(
                f"MultiHeadAttention {self.name!r} is used with use_causal_mask=True in a model; "
                "calling it with use_causal_mask=False is not supported"
            )
        combined = _combined_mask(
            masks, attention_mask, use_causal_mask, (q.shape[0], q.shape[1], k.shape[1])
        )
        inputs = [q, v, k]
        if combined is not None:
            inputs.append(_core.tensor(combined.astype(self.dtype), dtype=self.dtype))
        self._ensure_built([(None, *t.shape[1:]) for t in inputs[:3]])
        from ferrograd.tracing import run_builtin

        def run(mode):
            return list(self._core.call(inputs, None, bool(mode))[0])

        # Through run_builtin, so that a traced call() (a TransformerBlock written in Python)
        # records this layer as one node.
        output, scores = run_builtin(self, inputs, run, training)
        attach_mask(output, masks[0])
        return (output, scores) if return_attention_scores else output

    def _symbolic_call(
        self, query, value, key, masks, attention_mask, return_scores, training, causal
    ):
        for t in (query, value, key):
            if not isinstance(t, KerasTensor):
                raise TypeError(
                    f"layer {self.name!r} was called on a mix of symbolic tensors and values"
                )
        if any(m is not None for m in masks):
            raise ValueError(
                "query_mask=, value_mask= and key_mask= are for calls on tensors; in a model the "
                "masks come from the layers before (e.g. Embedding(mask_zero=True))"
            )
        inputs = [query, value, key]
        if attention_mask is not None:
            if not isinstance(attention_mask, KerasTensor):
                raise TypeError(
                    f"MultiHeadAttention {self.name!r}: in a model, attention_mask must be a "
                    "symbolic tensor (a model input or a layer's output)"
                )
            inputs.append(attention_mask)
        # Not given: the layer's own settings (those of its first call in a model).
        self._set_call_settings(
            self.use_causal_mask if causal is None else causal,
            self.return_attention_scores if return_scores is None else return_scores,
        )
        return Layer.__call__(self, inputs, training)


def _combined_mask(masks, attention_mask, causal, shape):
    """The AND of the masks of a call on tensors, ``(batch, T, S)`` booleans, or None."""
    query_mask, value_mask, key_mask = masks
    combined = None

    def merge(mask):
        nonlocal combined
        combined = mask if combined is None else combined & mask

    if query_mask is not None:
        merge(query_mask[:, :, None])
    if value_mask is not None:
        merge(value_mask[:, None, :])
    if key_mask is not None:
        merge(key_mask[:, None, :])
    if causal:
        merge(np.tril(np.ones(shape[1:], dtype=bool))[None])
    if attention_mask is not None:
        if isinstance(attention_mask, Tensor):
            attention_mask = attention_mask.numpy()
        attention_mask = np.asarray(attention_mask)
        if attention_mask.dtype != bool:
            attention_mask = attention_mask > 0.5
        if attention_mask.ndim == 2:
            attention_mask = attention_mask[None]
        try:
            attention_mask = np.broadcast_to(attention_mask, shape)
        except ValueError:
            raise ValueError(
                f"MultiHeadAttention: attention_mask must have shape (batch, T, S) = {shape}, "
                f"received shape {attention_mask.shape}"
            ) from None
        merge(attention_mask)
    if combined is None:
        return None
    return np.ascontiguousarray(np.broadcast_to(combined, shape))
