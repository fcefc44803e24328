"""This process's place in the job: ``process_index()`` and ``process_count()``."""

from __future__ import annotations

from ferrograd.distribution._world import world


def process_index() -> int:
    """The index of this process in the job, from 0 to ``process_count() - 1`` (0 when it runs
    alone); with a generator or ``PyDataset``, the shard of the data this process passes.

    Returns:
        The index (MPI rank in ``COMM_WORLD``).

    Examples:
        >>> fg.distribution.process_index()
        0
    """
    comm = world()
    return 0 if comm is None else comm.Get_rank()


def process_count() -> int:
    """The number of processes in the job (1 when this process runs alone or before
    ``initialize()``).

    Returns:
        The count (MPI size of ``COMM_WORLD``).

    Examples:
        >>> fg.distribution.process_count()
        1
    """
    comm = world()
    return 1 if comm is None else comm.Get_size()
