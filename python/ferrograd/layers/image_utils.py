"""Argument checks shared by the image preprocessing layers (``RandomFlip``,
``RandomTranslation``, ``RandomRotation``, ``RandomZoom``, ``RandomCrop``, ``RandomContrast``,
``Resizing``, ``CenterCrop``), with Keras 3's rules."""

from __future__ import annotations

import math

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def normalize_factor(factor, name, layer, bound=None):
    """``factor`` as a sorted ``[lower, upper]`` pair: a single number ``f`` is ``(-|f|, |f|)``.

    Args:
        factor: a number or a pair of numbers.
        name: the argument's name, for messages.
        layer: the layer's class name, for messages.
        bound: every value must lie in ``[-bound, bound]`` (None: no bound).

    Examples:
        >>> normalize_factor(0.2, "height_factor", "RandomTranslation", 1.0)
        [-0.2, 0.2]
    """
    if isinstance(factor, (list, tuple)):
        if len(factor) != 2 or not all(_number(v) for v in factor):
            raise ValueError(
                f"{layer}: {name} must be a number or a pair of numbers. "
                f"Received: {name}={factor!r}"
            )
        values = sorted(float(v) for v in factor)
    elif _number(factor):
        values = [-abs(float(factor)), abs(float(factor))]
    else:
        raise ValueError(
            f"{layer}: {name} must be a number or a pair of numbers. Received: {name}={factor!r}"
        )
    if bound is not None and any(abs(v) > bound for v in values):
        raise ValueError(
            f"{layer}: {name} must be in [-{bound}, {bound}]. Received: {name}={factor!r}"
        )
    return values


def check_choice(value, name, allowed, layer):
    """``value`` if it is one of ``allowed``, else a ValueError naming the layer.

    Examples:
        >>> check_choice("wrap", "fill_mode", FILL_MODES, "RandomZoom")
        'wrap'
    """
    if value not in allowed:
        raise ValueError(
            f"{layer}: {name} must be one of {', '.join(map(repr, allowed))} (others are not "
            f"supported by ferrograd). Received: {name}={value!r}"
        )
    return value


def check_seed(seed, layer):
    """``seed`` if it is None or a non-negative integer.

    Examples:
        >>> check_seed(7, "RandomFlip")
        7
    """
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise ValueError(
            f"{layer}: seed must be None or a non-negative integer. Received: seed={seed!r}"
        )
    return seed


def check_size(height, width, layer):
    """``(height, width)`` if both are positive integers.

    Examples:
        >>> check_size(24, 32, "Resizing")
        (24, 32)
    """
    for name, value in (("height", height), ("width", width)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(
                f"{layer}: {name} must be a positive integer. Received: {name}={value!r}"
            )
    return height, width


def check_fill_value(fill_value, layer):
    """``fill_value`` as a float if it is a finite number.

    Examples:
        >>> check_fill_value(0, "RandomRotation")
        0.0
    """
    if not _number(fill_value):
        raise ValueError(
            f"{layer}: fill_value must be a finite number. Received: fill_value={fill_value!r}"
        )
    return float(fill_value)
