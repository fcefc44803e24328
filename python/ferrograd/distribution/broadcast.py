"""``broadcast``: one process's tensors copied to every process of the job."""

from __future__ import annotations

import numpy as np

from ferrograd.distribution._world import world
from ferrograd.distribution.all_reduce import _as_list, _values, _write_back


def broadcast(tensors, root=0):
    """Replaces each tensor, on every process, by process ``root``'s (MPI ``Bcast``): what
    makes the processes of a hand-written loop start from the same weights. Every process must
    call it with tensors of the same shapes, in the same order. Alone, nothing changes.

    Args:
        tensors: a ferrograd ``Tensor`` or float numpy array, or a list of them (such as
            ``model.weights``); changed in place.
        root: the index of the process whose values everyone gets (default 0).

    Returns:
        What was given, with process ``root``'s values.

    Examples:
        >>> model = fg.Sequential([fg.Input((3,)), fg.layers.Dense(2)])
        >>> weights = fg.distribution.broadcast(model.weights, root=0)
        >>> len(weights)
        2
    """
    items, single = _as_list(tensors)
    arrays = [_values(item, "broadcast") for item in items]
    comm = world()
    count = 1 if comm is None else comm.Get_size()
    if not 0 <= int(root) < count:
        raise ValueError(
            f"broadcast: root must be a process index from 0 to {count - 1}, received root={root}"
        )
    if count > 1:
        for item, values in zip(items, arrays, strict=True):
            if not values.flags.c_contiguous or not values.flags.writeable:
                values = np.ascontiguousarray(values).copy()
            comm.Bcast(values, root=int(root))
            if comm.Get_rank() != int(root):
                _write_back(item, values)
    return items[0] if single else tensors
