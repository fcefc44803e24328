"""``TimeDistributed``: one layer applied to every time step, with shared weights."""

from __future__ import annotations

from ferrograd.layers.layer import Layer
from ferrograd.layers.mask_tracking import MaskAwareLayer
from ferrograd.layers.registry import registered_layers


def _layer_from_entry(entry) -> Layer:
    """The layer a ``{"class_name": ..., "config": ...}`` entry describes (a config from
    ``get_config`` or the settings a model file stores)."""
    if not isinstance(entry, dict) or set(entry) != {"class_name", "config"}:
        raise ValueError(
            "TimeDistributed: layer must be a layer or a {'class_name', 'config'} dict. "
            f"Received: layer={entry!r}"
        )
    cls = registered_layers().get(entry["class_name"])
    if cls is None:
        raise ValueError(
            f"TimeDistributed: unknown layer class {entry['class_name']!r} in layer={entry!r}"
        )
    return cls.from_config(dict(entry["config"]))


class TimeDistributed(MaskAwareLayer):
    """Applies ``layer`` to every time step of a ``(batch, time, ...)`` input, with the same
    weights at every step: the batch and time axes are folded into one, the layer runs once on
    ``(batch * time, ...)``, and the result is unfolded to ``(batch, time, ...)``. A mask on the
    input passes through.

    The weights are the TimeDistributed layer's (``td.weights``, ``td.get_weights()``, in the
    wrapped layer's order); the wrapped layer object only supplies the settings.

    Args:
        layer: a layer of one output (``Dense``, ``Conv2D``, ``Dropout``, ...).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Input shape: ``(batch, time, ...)`` with at least 3 axes. Output shape:
    ``(batch, time, ...)`` with the wrapped layer's output per step.

    Examples:
        >>> inputs = fg.Input(shape=(10, 8))
        >>> layers.TimeDistributed(layers.Dense(4))(inputs).shape
        (None, 10, 4)
    """

    kind = "TimeDistributed"

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            layer = _layer_from_entry(layer)
        if not isinstance(layer, Layer) or not layer.kind:
            raise ValueError(
                f"TimeDistributed wraps a built-in layer (Dense, Conv2D, ...). Received: "
                f"layer={layer!r}"
            )
        kwargs.setdefault("dtype", layer.dtype)
        super().__init__(**kwargs)
        self.layer = layer

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {"layer": {"class_name": self.layer.kind, "config": self.layer.settings()}}

    def get_config(self) -> dict:
        """Keras's form: the wrapped layer as ``{"class_name", "config"}`` with its own config."""
        config = super().get_config()
        config["layer"] = {"class_name": self.layer.kind, "config": self.layer.get_config()}
        return config
