"""The distribution ``fit`` uses: ``set_distribution()`` and ``distribution()``."""

from __future__ import annotations

from ferrograd.distribution.data_parallel import DataParallel

_current = None


def set_distribution(value):
    """Sets how ``fit`` spreads training over the job's processes, as
    ``keras.distribution.set_distribution``.

    Args:
        value: a ``DataParallel``, or None for every process training on its own.

    Raises:
        TypeError: ``value`` is neither.

    Examples:
        >>> fg.distribution.set_distribution(fg.distribution.DataParallel())
        >>> fg.distribution.distribution()
        DataParallel(processes=1)
        >>> fg.distribution.set_distribution(None)
    """
    global _current
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(
            f"set_distribution: expected a DataParallel or None, received {type(value).__name__}"
        )
    _current = value


def distribution():
    """The distribution set by ``set_distribution`` (None when none is).

    Returns:
        The ``DataParallel``, or None.

    Examples:
        >>> fg.distribution.distribution() is None
        True
    """
    return _current
