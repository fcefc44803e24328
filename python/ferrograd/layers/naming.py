"""Automatic layer and model names, as Keras makes them: ``dense``, ``dense_1``, ``dense_2``..."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict

_name_counters: dict[str, itertools.count] = defaultdict(itertools.count)


def unique_name(base: str) -> str:
    """The next free name made from ``base``: ``base`` itself the first time, then
    ``base_1``, ``base_2``...

    Args:
        base: the stem, usually the class name in snake_case.

    Examples:
        >>> clear_session()
        >>> unique_name("dense"), unique_name("dense")
        ('dense', 'dense_1')
    """
    index = next(_name_counters[base])
    return base if index == 0 else f"{base}_{index}"


def clear_session() -> None:
    """Restarts the automatic names (``dense``, ``dense_1``, ...), like
    ``keras.backend.clear_session``.

    Examples:
        >>> clear_session()
        >>> unique_name("dense")
        'dense'
    """
    _name_counters.clear()


def snake_case(name: str) -> str:
    """A class name in snake_case, as Keras turns class names into layer names.

    Args:
        name: a CamelCase class name.

    Examples:
        >>> snake_case("BatchNormalization"), snake_case("LSTM")
        ('batch_normalization', 'lstm')
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
