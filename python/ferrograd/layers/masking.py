"""``Masking``: marks padded time steps (all features equal to ``mask_value``) so that the
recurrent layers after it skip them.

(The machinery that carries masks with eager tensors is in ``mask_tracking``; its names are
re-exported here for code written against the earlier module.)
"""

from __future__ import annotations

import math

from ferrograd.layers.mask_tracking import (  # noqa: F401  (re-exported, see above)
    MaskAwareLayer,
    as_mask_array,
    attach_mask,
    mask_of,
)


class Masking(MaskAwareLayer):
    """Masks the time steps of a ``(batch, time, features)`` input whose features all equal
    ``mask_value``: the layers downstream that use masks (``LSTM``, ``GRU``, ``SimpleRNN``,
    ``GlobalAveragePooling1D``...) skip those steps, and the output has them zeroed, as Keras's
    ``inputs * any(inputs != mask_value, axis=-1)``.

    Args:
        mask_value: the padding value (default 0.0).
        **kwargs: ``name``, ``trainable``, ``dtype`` (as every layer).

    Input shape: ``(batch, time, features)``. Output shape: the same.

    Examples:
        >>> x = np.array([[[1.0], [0.0], [2.0]]], dtype="float32")
        >>> layers.Masking()(x).numpy().ravel()
        array([1., 0., 2.], dtype=float32)
        >>> model = fg.Sequential([fg.Input((3, 1)), layers.Masking(), layers.LSTM(4)])
    """

    kind = "Masking"

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if (
            not isinstance(mask_value, (int, float))
            or isinstance(mask_value, bool)
            or math.isnan(mask_value)
        ):
            raise ValueError(f"Masking: mask_value must be a number. Received: {mask_value!r}")
        self.mask_value = float(mask_value)

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {"mask_value": self.mask_value}
