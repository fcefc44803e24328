"""The base the recurrent layers ``SimpleRNN``, ``LSTM`` and ``GRU`` share: their common
arguments, settings, weights, states and masks.

Each call runs the whole sequence as one fused op in the Rust core (backpropagation through
time included). Equations, gate order and weight layout are Keras's; see
``docs/weight_layout.md`` for moving weights from Keras or PyTorch.
"""

from __future__ import annotations

import numpy as np

from ferrograd import _core, activations, initializers, regularizers
from ferrograd._core import Tensor
from ferrograd.layers.keras_tensor import KerasTensor, symbolic_call
from ferrograd.layers.layer import check_call_kwargs, regularizer_settings
from ferrograd.layers.mask_tracking import (
    MaskAwareLayer,
    as_mask_array,
    attach_mask,
    mask_of,
)


class _RNN(MaskAwareLayer):
    """What ``SimpleRNN``, ``LSTM`` and ``GRU`` share: settings, weights, states and masks."""

    _state_names: tuple = ("h",)

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        *,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"units must be a positive integer. Received: units={units!r}")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate < 1:
                raise ValueError(f"{name} must be a number in [0, 1). Received: {name}={rate!r}")
        if stateful:
            raise ValueError(
                "stateful=True is not supported: each call starts from zero states or its "
                "initial_state=[...]. Received: "
                "stateful=True"
            )
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        # The whole sequence is always one fused op; unrolling would change nothing.
        self.unroll = bool(unroll)
        self.stateful = False
        self.zero_output_for_mask = bool(zero_output_for_mask)

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer._settings(),
            "recurrent_initializer": self.recurrent_initializer._settings(),
            "bias_initializer": self.bias_initializer._settings(),
            "kernel_regularizer": regularizer_settings(self.kernel_regularizer),
            "recurrent_regularizer": regularizer_settings(self.recurrent_regularizer),
            "bias_regularizer": regularizer_settings(self.bias_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    def __call__(self, inputs, training=None, mask=None, initial_state=None, **kwargs):
        """Runs the layer over ``inputs`` (``(batch, time, features)``).

        Args:
            inputs: the sequence: a tensor, an array, or a symbolic tensor of a functional model
                (or the list ``[sequence, *initial_states]``).
            training: whether dropout applies.
            mask: a ``(batch, time)`` boolean mask (calls on tensors; in a model the mask comes
                from the layers before).
            initial_state: None (zero states) or the list of initial states, each
                ``(batch, units)``: ``[h]``, or ``[h, c]`` for an ``LSTM``; symbolic tensors in
                a functional model (an encoder's final states), tensors or arrays otherwise.
                Gradients flow back into them.
        """
        if isinstance(inputs, (list, tuple)) and initial_state is None:
            # [sequence, *states], as Keras 2 took them and as model files list a node's inputs.
            inputs, initial_state = (inputs[0], list(inputs[1:])) if inputs else (inputs, None)
        if initial_state is None or (isinstance(initial_state, list) and not initial_state):
            return super().__call__(inputs, training, mask, **kwargs)
        check_call_kwargs(self, kwargs)
        states = self._initial_state_list(initial_state)
        everything = [inputs, *states]
        symbolic = [isinstance(t, KerasTensor) for t in everything]
        if any(symbolic):
            if not all(symbolic):
                raise TypeError(
                    f"{type(self).__name__} {self.name!r} was called on a mix of symbolic "
                    "tensors and values (the inputs and initial_state must be both symbolic)"
                )
            if mask is not None:
                raise ValueError(
                    "mask= is for calls on tensors; in a model the mask comes from the layers "
                    "before (e.g. Embedding(mask_zero=True))"
                )
            shapes = [t.shape for t in everything]
            output_shape = self.compute_output_shape(shapes)
            return symbolic_call(self, everything, output_shape, self.dtype)
        tensors = [
            t if isinstance(t, Tensor) else _core.tensor(np.asarray(t), dtype=self.dtype)
            for t in everything
        ]
        x = tensors[0]
        explicit_mask = mask is not None
        if mask is None:
            mask = mask_of(x)
        shapes = [(None, *t.shape[1:]) for t in tensors]
        self._ensure_built(shapes)
        self._core.output_shapes([list(s) for s in shapes])  # checks the states' shapes
        mask = as_mask_array(mask, tuple(x.shape[:2]))
        from ferrograd.tracing import is_tracing, run_builtin

        if is_tracing() and explicit_mask:
            raise ValueError(
                f"layer {self.name!r}: mask= inside a traced call() cannot be traced; in a "
                "traced graph masks come from the layers before (Embedding(mask_zero=True))"
            )
        made = {}

        def run(mode):
            outputs, made["mask"] = self._core.call(tensors, mask, bool(mode))
            return list(outputs)

        # Through run_builtin, so that a traced call() records this layer as one node (whose
        # mask the graph then carries).
        outputs = run_builtin(self, tensors, run, training)
        attach_mask(outputs[0], made.get("mask"))
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def _initial_state_list(self, initial_state) -> list:
        """``initial_state`` as a list of as many states as the cell has, or a ValueError."""
        states = (
            list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        )
        if len(states) != len(self._state_names):
            names = ", ".join(self._state_names)
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: initial_state must be a list of "
                f"{len(self._state_names)} state(s) [{names}], received {len(states)}"
            )
        return states

    def _check_single_output(self) -> None:
        if self.return_state:
            states = ", ".join(self._state_names)
            raise ValueError(
                f"{type(self).__name__} with return_state=True returns [output, {states}], and a "
                "Sequential model chains layers of one output: use the functional API "
                "(output, *states = layer(x)), or return_state=False"
            )

    @property
    def kernel(self):
        """The input kernel, or None before the layer is built."""
        return self._weight("kernel")

    @property
    def recurrent_kernel(self):
        """The kernel applied to the state fed back, or None before the layer is built."""
        return self._weight("recurrent_kernel")

    @property
    def bias(self):
        """The bias, or None before the layer is built or without ``use_bias``."""
        return self._weight("bias")
