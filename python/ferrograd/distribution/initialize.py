"""``initialize()``: joins the MPI job this process was launched in."""

from __future__ import annotations

import os
import sys
import time
import traceback

from ferrograd.distribution._world import launched_processes, set_world, world


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Joins the job of processes this one was started in (by ``mpiexec``, ``mpirun`` or Slurm's
    ``srun``), as ``keras.distribution.initialize``; a no-op in a process started alone.

    In a job of several processes it also:

    - gives each process its share of the machine's cores: ``fg.set_num_threads(max(1, cores //
      processes on this machine))``, unless the thread count was set (``FERROGRAD_NUM_THREADS``
      or ``fg.set_num_threads`` before this call);
    - installs an exception hook that ends the whole job (``MPI_Abort``) when an exception
      escapes one process, after printing it with the process's index, so that the others do
      not wait for it forever. (``python -m mpi4py train.py`` does the same for any script.)

    MPI comes from ``mpi4py`` (``pip install 'ferrograd[distributed]'`` also brings the MPICH
    wheel and its ``mpiexec``); it is imported here, not by ``import ferrograd``.

    Args:
        job_addresses: Keras's addresses of the job's hosts; MPI's launcher knows them, so only
            None is accepted.
        num_processes: the expected number of processes, checked against the launcher's when
            given (default None).
        process_id: the expected index of this process, checked when given (default None).

    Raises:
        ImportError: launched by MPI but mpi4py is not installed.
        ValueError: an argument that is not supported or does not match the job.

    Examples:
        >>> fg.distribution.initialize()  # started alone: nothing to join
        >>> fg.distribution.process_count()
        1
    """
    if job_addresses is not None:
        raise ValueError(
            "initialize: job_addresses is not supported: the MPI launcher (mpiexec -f hosts, "
            f"srun) places the processes; received job_addresses={job_addresses!r}"
        )
    if world() is None and launched_processes() > 1:
        try:
            from mpi4py import MPI
        except ImportError as error:
            raise ImportError(
                "initialize: this process was started by an MPI launcher but mpi4py is not "
                "installed; pip install 'ferrograd[distributed]'"
            ) from error
        comm = MPI.COMM_WORLD
        set_world(comm)
        _install_abort_hook(comm)
        _share_cores(comm, MPI)
    count = 1 if world() is None else world().Get_size()
    index = 0 if world() is None else world().Get_rank()
    if num_processes is not None and int(num_processes) != count:
        raise ValueError(
            f"initialize: num_processes={num_processes} but the job has {count} processes"
        )
    if process_id is not None and int(process_id) != index:
        raise ValueError(f"initialize: process_id={process_id} but this process is {index}")


def _install_abort_hook(comm) -> None:
    """Ends the whole job when an exception escapes this process (MPI would otherwise leave
    the other processes waiting in their next collective call)."""

    def abort_job(kind, value, trace):
        sys.stderr.write(f"ferrograd.distribution: process {comm.Get_rank()} failed:\n")
        sys.stderr.write("".join(traceback.format_exception(kind, value, trace)))
        sys.stderr.flush()
        sys.stdout.flush()
        # The launcher forwards the output through its own processes, which the abort tears
        # down: a moment first, so that the error reaches the terminal.
        time.sleep(0.5)
        comm.Abort(1)

    sys.excepthook = abort_job


def _share_cores(comm, mpi) -> None:
    """``set_num_threads(cores // processes on this machine)`` unless the count was set."""
    import ferrograd as fg
    from ferrograd._environment import NUM_THREADS_VARIABLE

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    # Set by the variable, or by set_num_threads (the count then differs from the default).
    if os.environ.get(NUM_THREADS_VARIABLE) or fg.get_num_threads() != cores:
        return
    local = comm.Split_type(mpi.COMM_TYPE_SHARED)
    try:
        fg.set_num_threads(max(1, cores // local.Get_size()))
    finally:
        local.Free()
