"""Keras's ``thresholds`` argument of `Precision` and `Recall`, of which one value is
supported."""

from __future__ import annotations

from typing import Any


def single_threshold(thresholds: Any, metric: str) -> float:
    """The one threshold of ``thresholds`` (``None`` for 0.5, a float, or a one-element list).

    Args:
        thresholds: What the user passed.
        metric: The metric's name, for errors.

    Examples:

    >>> single_threshold([0.3], "precision")
    0.3
    """
    if thresholds is None:
        return 0.5
    if isinstance(thresholds, (list, tuple)):
        if len(thresholds) != 1:
            raise ValueError(
                f"{metric}: only a single threshold is supported. Received: "
                f"thresholds={thresholds!r}"
            )
        (thresholds,) = thresholds
    return float(thresholds)
