"""Argument checks shared by the convolution and pooling layers (Keras's normalisation of
``kernel_size``, ``strides``, ``padding`` and ``data_format``)."""

from __future__ import annotations


def normalize_tuple(value, n, name, layer, allow_zero=False):
    """``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` ints, each positive
    (or non-negative with ``allow_zero``).

    Args:
        value: the argument as given.
        n: how many spatial axes.
        name: the argument's name, for messages.
        layer: the layer's class name, for messages.
        allow_zero: accept 0.

    Examples:
        >>> normalize_tuple(3, 2, "kernel_size", "Conv2D")
        (3, 3)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = None
        if values is None or len(values) != n:
            raise ValueError(
                f"{layer}: {name} must be an integer or a tuple of {n} integers. "
                f"Received: {name}={value!r}"
            )
    low = 0 if allow_zero else 1
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            kind = "non-negative" if allow_zero else "positive"
            raise ValueError(f"{layer}: {name} must be {kind} integers. Received: {name}={value!r}")
    return values


def normalize_padding(padding, layer, allowed=("valid", "same")):
    """``padding`` in lower case, checked against ``allowed``.

    Args:
        padding: the argument as given.
        layer: the layer's class name, for messages.
        allowed: the accepted names.

    Examples:
        >>> normalize_padding("SAME", "Conv2D")
        'same'
    """
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(
            f"{layer}: padding must be one of {', '.join(map(repr, allowed))}. "
            f"Received: padding={padding!r}"
        )
    return value


def normalize_data_format(data_format, layer):
    """``data_format`` checked (None means ``"channels_last"``).

    Args:
        data_format: ``"channels_last"``, ``"channels_first"`` or None.
        layer: the layer's class name, for messages.

    Examples:
        >>> normalize_data_format(None, "Conv2D")
        'channels_last'
    """
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{layer}: data_format must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    return data_format


def refuse_unsupported(layer, **arguments):
    """Raises ValueError for a Keras argument given a value we do not support.

    Args:
        layer: the layer's class name, for messages.
        **arguments: the unsupported arguments as given (None means not given).

    Examples:
        >>> refuse_unsupported("Conv2D", kernel_constraint=None)
    """
    for name, value in arguments.items():
        if value is not None:
            raise ValueError(
                f"{layer}: {name} is not supported by ferrograd. Received: {name}={value!r}"
            )


def normalize_pairs(value, n, name, layer):
    """``value`` as ``n`` ``(before, after)`` pairs of non-negative ints, with Keras's forms
    for ``ZeroPadding``/``Cropping``: an int (the same on every side), ``n`` ints (symmetric
    per axis), or ``n`` pairs; for ``n == 1``, a single pair ``(before, after)``.

    Args:
        value: the argument as given.
        n: how many spatial axes.
        name: the argument's name, for messages.
        layer: the layer's class name, for messages.

    Examples:
        >>> normalize_pairs(((1, 0), 2), 2, "padding", "ZeroPadding2D")
        ((1, 0), (2, 2))
    """

    def bad():
        return ValueError(
            f"{layer}: {name} must be a non-negative integer, a tuple of {n} of them or "
            f"{n} (before, after) tuples of non-negative integers. Received: {name}={value!r}"
        )

    def count(v):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise bad()
        return v

    if isinstance(value, int) and not isinstance(value, bool):
        return ((count(value), count(value)),) * n
    try:
        items = tuple(value)
    except TypeError:
        raise bad() from None
    if n == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
        return ((count(items[0]), count(items[1])),)
    if len(items) != n:
        raise bad()
    pairs = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            pairs.append((count(item), count(item)))
            continue
        try:
            pair = tuple(item)
        except TypeError:
            raise bad() from None
        if len(pair) != 2:
            raise bad()
        pairs.append((count(pair[0]), count(pair[1])))
    return tuple(pairs)
