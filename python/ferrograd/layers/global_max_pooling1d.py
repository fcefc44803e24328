"""``GlobalMaxPooling1D`` (alias ``GlobalMaxPool1D``): the maximum over the steps."""

from __future__ import annotations

from ferrograd.layers.global_max_pooling2d import GlobalMaxPooling2D


class GlobalMaxPooling1D(GlobalMaxPooling2D):
    """The maximum over the steps of sequences (masks are not used).

    Args:
        data_format: ``"channels_last"`` (default; ``(batch, steps, c)``) or
            ``"channels_first"``.
        keepdims: keep the steps axis with size 1 (default False: ``(batch, c)``).

    Examples:
        >>> layers.GlobalMaxPooling1D()(np.ones((2, 5, 3), dtype="float32")).shape
        (2, 3)
    """

    kind = "GlobalMaxPooling1D"


GlobalMaxPool1D = GlobalMaxPooling1D
