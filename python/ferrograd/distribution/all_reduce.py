"""``all_reduce``: the sum or mean of tensors over every process of the job, for hand-written
training loops."""

from __future__ import annotations

import numpy as np

from ferrograd.distribution._world import world

_OPS = ("mean", "sum")


def _as_list(tensors):
    """``(items, single)``: a list of what was given, and whether one tensor was."""
    if isinstance(tensors, (list, tuple)):
        return list(tensors), False
    return [tensors], True


def _values(item, caller):
    """The values of ``item`` (a ferrograd Tensor or numpy array) as a C-contiguous float array."""
    import ferrograd as fg

    if isinstance(item, fg.Tensor):
        return np.ascontiguousarray(item.numpy())
    if isinstance(item, np.ndarray) and item.dtype.kind == "f":
        return item
    raise TypeError(
        f"{caller}: expected ferrograd Tensors or float numpy arrays, received "
        f"{type(item).__name__}"
        + (f" of dtype {item.dtype}" if isinstance(item, np.ndarray) else "")
    )


def _write_back(item, values) -> None:
    """Puts ``values`` into ``item``: in place for a Tensor (no gradient recorded) and for a
    numpy array that was not reduced in place."""
    import ferrograd as fg

    if isinstance(item, fg.Tensor):
        with fg.no_grad():
            item.copy_(values)
    elif values is not item:
        item[...] = values


def all_reduce(tensors, op="mean"):
    """Replaces each tensor, on every process, by its sum or mean over all the job's processes
    (MPI ``Allreduce``); what a hand-written data-parallel loop does to its gradients before
    the update. Every process must call it with tensors of the same shapes, in the same order.
    Alone (one process), the values are unchanged.

    Args:
        tensors: a ferrograd ``Tensor`` or float numpy array, or a list of them (such as
            ``[w.grad for w in model.trainable_weights]``); changed in place.
        op: ``"mean"`` (default) or ``"sum"``.

    Returns:
        What was given, with the reduced values.

    Examples:
        >>> grad = fg.tensor([1.0, 2.0])
        >>> fg.distribution.all_reduce(grad, op="sum").tolist()  # alone: unchanged
        [1.0, 2.0]
    """
    if op not in _OPS:
        raise ValueError(f"all_reduce: op must be 'mean' or 'sum', received op={op!r}")
    items, single = _as_list(tensors)
    arrays = [_values(item, "all_reduce") for item in items]
    comm = world()
    if comm is not None and comm.Get_size() > 1:
        from mpi4py import MPI

        requests = []
        for index, values in enumerate(arrays):
            if not values.flags.c_contiguous or not values.flags.writeable:
                values = arrays[index] = np.ascontiguousarray(values).copy()
            requests.append(comm.Iallreduce(MPI.IN_PLACE, values, op=MPI.SUM))
        MPI.Request.Waitall(requests)
        if op == "mean":
            for values in arrays:
                values /= comm.Get_size()
        for item, values in zip(items, arrays, strict=True):
            _write_back(item, values)
    return items[0] if single else tensors
