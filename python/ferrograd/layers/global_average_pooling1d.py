"""``GlobalAveragePooling1D`` (alias ``GlobalAvgPool1D``): the mean over time, skipping masked
steps."""

from __future__ import annotations

from ferrograd.layers.mask_tracking import MaskAwareLayer


class GlobalAveragePooling1D(MaskAwareLayer):
    """Averages a sequence over its time steps. With a mask (from ``Embedding(mask_zero=True)``
    or ``mask=``) only the kept steps count; a sample with no kept step gives zeros.

    Args:
        data_format: ``"channels_last"`` (default; inputs ``(batch, time, features)``) or
            ``"channels_first"`` (``(batch, features, time)``).
        keepdims: keep the time axis with length 1 (default False).

    Input shape: ``(batch, time, features)``. Output shape: ``(batch, features)``.

    Examples:
        >>> pool = layers.GlobalAveragePooling1D()
        >>> pool(np.ones((2, 5, 3), dtype="float32")).shape
        (2, 3)
    """

    kind = "GlobalAveragePooling1D"

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(**kwargs)
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "data_format must be 'channels_last' or 'channels_first'. Received: "
                f"data_format={data_format!r}"
            )
        self.data_format = data_format
        self.keepdims = bool(keepdims)

    def settings(self) -> dict:
        """The settings the Rust layer is built from."""
        return {"data_format": self.data_format, "keepdims": self.keepdims}


GlobalAvgPool1D = GlobalAveragePooling1D
