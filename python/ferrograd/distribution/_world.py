"""The job this process belongs to: the MPI communicator once ``initialize()`` joined one (mpi4py
is imported only then), or a job of one process."""

from __future__ import annotations

import os

# The environment variables MPI launchers and Slurm set, with the number of processes.
_SIZE_VARIABLES = (
    "PMI_SIZE",  # MPICH's Hydra (mpiexec), Intel MPI
    "OMPI_COMM_WORLD_SIZE",  # Open MPI
    "PMIX_SIZE",
    "MV2_COMM_WORLD_SIZE",  # MVAPICH
    "SLURM_NTASKS",  # srun
)

_world = None


def launched_processes() -> int:
    """The number of processes the launcher started (1 when no MPI launcher or ``srun`` ran
    this one).

    Examples:
        >>> launched_processes() >= 1
        True
    """
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 1:
            return int(value)
    return 1


def set_world(comm) -> None:
    """Makes ``comm`` (an mpi4py communicator) the job's; ``initialize`` calls it.

    Args:
        comm: the communicator, or None for a job of one process.

    Examples:
        >>> set_world(None)
    """
    global _world
    _world = comm


def world():
    """The job's mpi4py communicator, or None when this process runs alone.

    Examples:
        >>> world() is None
        True
    """
    return _world


def is_writer() -> bool:
    """Whether this process writes files (checkpoints, logs, backups, ``save``): process 0 of a
    job, or a process that runs alone.

    Examples:
        >>> is_writer()
        True
    """
    return _world is None or _world.Get_rank() == 0
