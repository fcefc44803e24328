"""``AveragePooling1D`` (alias ``AvgPool1D``): the mean over windows of sequences."""

from __future__ import annotations

from ferrograd.layers.max_pooling1d import MaxPooling1D


class AveragePooling1D(MaxPooling1D):
    """Average pooling over windows of steps; with ``"same"`` padding a border window averages
    only the input steps it covers.

    Args:
        pool_size: an int (default 2).
        strides: an int or None (default: ``pool_size``).
        padding: ``"valid"`` (default) or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Examples:
        >>> layers.AveragePooling1D()(np.ones((1, 6, 3), dtype="float32")).shape
        (1, 3, 3)
    """

    kind = "AveragePooling1D"


AvgPool1D = AveragePooling1D
