"""``Bidirectional``: a recurrent layer run forwards and backwards, outputs merged."""

from __future__ import annotations

from ferrograd.layers.mask_tracking import MaskAwareLayer
from ferrograd.layers.rnn import _RNN


class Bidirectional(MaskAwareLayer):
    """Runs a recurrent layer forwards and a copy of it backwards over the same sequence, and
    merges their outputs.

    The backward copy's output sequence is flipped back to the input's time order before the
    merge, and with ``return_sequences`` both halves output zeros at masked steps (as in Keras).
    The wrapped layer only supplies settings: both halves get fresh weights, named
    ``forward_lstm/kernel``, ``backward_lstm/kernel``, ... after the wrapped kind.

    Args:
        layer: a ``SimpleRNN``, ``LSTM`` or ``GRU``.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"ave"``, ``"mul"``, or None for the two
            outputs as a list (on calls on tensors only).
        backward_layer: an optional layer of the same kind for the backward half, with the
            opposite ``go_backwards``.

    Input shape: as the wrapped layer's. Output shape: the wrapped layer's, with twice the
    units for ``"concat"``; with ``return_state``, the output then the forward and backward
    states.

    Examples:
        >>> model = fg.Sequential([
        ...     layers.Embedding(10000, 64, mask_zero=True),
        ...     layers.Bidirectional(layers.LSTM(32)),
        ...     layers.Dense(1, activation="sigmoid"),
        ... ])
    """

    kind = "Bidirectional"

    def __init__(self, layer, merge_mode="concat", *, backward_layer=None, **kwargs):
        layer = _wrapped_layer(layer)
        backward_layer = None if backward_layer is None else _wrapped_layer(backward_layer)
        if not isinstance(layer, _RNN):
            raise ValueError(
                f"Bidirectional wraps a SimpleRNN, LSTM or GRU layer. Received: layer={layer!r}"
            )
        if backward_layer is not None and not isinstance(backward_layer, type(layer)):
            raise ValueError(
                f"backward_layer must be a {type(layer).__name__} like layer. Received: "
                f"backward_layer={backward_layer!r}"
            )
        if merge_mode not in ("concat", "sum", "ave", "mul", None):
            raise ValueError(
                "merge_mode must be one of 'concat', 'sum', 'ave', 'mul' or None. Received: "
                f"merge_mode={merge_mode!r}"
            )
        kwargs.setdefault("dtype", layer.dtype)
        super().__init__(**kwargs)
        self.layer = layer
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""

        def wrapped(layer):
            return {"class_name": layer.kind, "config": layer.settings()}

        return {
            "layer": wrapped(self.layer),
            "merge_mode": self.merge_mode,
            "backward_layer": None if self.backward_layer is None else wrapped(self.backward_layer),
        }

    def _check_single_output(self) -> None:
        if self.return_state or self.merge_mode is None:
            raise ValueError(
                "Bidirectional with return_state=True or merge_mode=None has several outputs, "
                "and a Sequential model chains layers of one: use the functional API"
            )


def _wrapped_layer(layer):
    """The wrapped layer, built from its ``{"class_name", "config"}`` description (what
    ``get_config`` and model files hold) when it is one; only a registered recurrent layer."""
    if not isinstance(layer, dict):
        return layer
    from ferrograd.layers.registry import registered_layers

    cls = registered_layers().get(layer.get("class_name"))
    if cls is None or not issubclass(cls, _RNN) or not isinstance(layer.get("config"), dict):
        raise ValueError(
            "Bidirectional wraps a SimpleRNN, LSTM or GRU layer; the description "
            f"{layer!r:.100} names none"
        )
    return cls(**layer["config"])
