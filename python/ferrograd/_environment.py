"""Checks of the environment variables ferrograd reads, so that a typo is said, not ignored."""

from __future__ import annotations

import os
import sys
import warnings

NUM_THREADS_VARIABLE = "FERROGRAD_NUM_THREADS"
MAX_THREADS = 256


def check_num_threads_variable(threads_in_use: int) -> None:
    """Warns when ``FERROGRAD_NUM_THREADS`` is set to something the core ignores.

    Args:
        threads_in_use: the thread count the core chose instead (said in the warning).

    Examples:
        >>> check_num_threads_variable(2)  # silent when the variable is unset or valid
    """
    value = os.environ.get(NUM_THREADS_VARIABLE)
    if value is None:
        return
    try:
        count = int(value.strip())
    except ValueError:
        count = None
    if count is None or not 1 <= count <= MAX_THREADS:
        warnings.warn(
            f"{NUM_THREADS_VARIABLE}={value!r} is not a whole number from 1 to {MAX_THREADS}; "
            f"it is ignored and ferrograd uses {threads_in_use} threads",
            RuntimeWarning,
            stacklevel=3,
        )


def worker_thread_count(cores: int) -> int | None:
    """The thread count this process should take when it is one worker among several on the
    machine, or None to keep the default (every core).

    Several processes that each start a thread per core oversubscribe the machine, so a worker
    takes its share: ``FERROGRAD_NUM_THREADS`` when set wins (the core has read it already);
    else ``OMP_NUM_THREADS``, which joblib's process backend (loky) sets to cores // n_jobs in
    its workers and Dask's nanny to 1 in its worker processes; else, in a process that
    ``multiprocessing`` started (spawn or forkserver), cores // the worker processes its
    parent runs.

    Args:
        cores: the default thread count (the cores this process may use).

    Returns:
        A count from 1 to 256, or None.

    Examples:
        >>> worker_thread_count(8) is None  # a plain process with neither variable set
        True
    """
    if os.environ.get(NUM_THREADS_VARIABLE) is not None:
        return None
    share = _positive_count(os.environ.get("OMP_NUM_THREADS"))
    if share is not None:
        return min(share, MAX_THREADS)
    # multiprocessing is imported already in any process it started; not importing it here
    # keeps `import ferrograd` from paying for it elsewhere.
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.parent_process() is not None:
        siblings = _sibling_processes()
        if siblings > 1:
            return max(1, cores // siblings)
    return None


def _positive_count(value: str | None) -> int | None:
    try:
        count = int(value.strip()) if value is not None else 0
    except ValueError:
        return None
    return count if count >= 1 else None


def _sibling_processes() -> int:
    """How many child processes this process's parent has (this one included); 1 where the
    system does not say (Linux's /proc does)."""
    parent = os.getppid()
    count = 0
    try:
        for task in os.listdir(f"/proc/{parent}/task"):
            with open(f"/proc/{parent}/task/{task}/children") as file:
                count += len(file.read().split())
    except OSError:
        return 1
    return max(count, 1)
