"""``GlobalAveragePooling2D`` (alias ``GlobalAvgPool2D``): the mean over height and width."""

from __future__ import annotations

from ferrograd.layers.global_max_pooling2d import GlobalMaxPooling2D


class GlobalAveragePooling2D(GlobalMaxPooling2D):
    """The mean over the spatial axes of images.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1 (default False: ``(batch, c)``).

    Examples:
        >>> layers.GlobalAveragePooling2D()(np.ones((2, 4, 4, 3), dtype="float32")).shape
        (2, 3)
    """

    kind = "GlobalAveragePooling2D"


GlobalAvgPool2D = GlobalAveragePooling2D
