"""What the Rust ``fit`` loop calls, through the GIL, to sum gradients and share the shuffling
generator across the job's processes (``src/python/collective.rs``)."""

from __future__ import annotations

import time


class MpiCollective:
    """The job's processes over an mpi4py communicator, as the Rust loop's ``Collective``.

    The buffers arrive as memoryviews over the loop's own memory, valid for the call only; the
    sums run in place (``MPI_IN_PLACE``), one non-blocking ``Iallreduce`` per buffer (the
    gradient bucket and the loss sums) completed together.

    Args:
        comm: the mpi4py communicator of the job.

    Examples:
        >>> MpiCollective  # made by Model.fit under DataParallel, with mpi4py's COMM_WORLD
        <class 'ferrograd.distribution._collective.MpiCollective'>
    """

    def __init__(self, comm):
        from mpi4py import MPI

        self._comm = comm
        self._mpi = MPI
        self._types = {"f": MPI.FLOAT, "d": MPI.DOUBLE}
        self.process_index = comm.Get_rank()
        self.process_count = comm.Get_size()
        #: Seconds spent in the sums (starting them and waiting for them) and the number of
        #: steps (``wait_sums`` or ``sum_in_place`` calls), for benchmarks; ``wait_seconds``:
        #: the part spent waiting after backward.
        self.sum_seconds = 0.0
        self.wait_seconds = 0.0
        self.start_seconds = 0.0
        self.sum_calls = 0
        #: The number of ``start_sum`` calls (buckets and the step's totals).
        self.start_calls = 0
        self._pending = []

    def sum_in_place(self, buffers) -> None:
        """Sums each ``(memoryview, "f" or "d")`` buffer over the processes, in place.

        Args:
            buffers: the buffers, the same lengths and types in the same order on every process.
        """
        start = time.perf_counter()
        mpi = self._mpi
        requests = [
            self._comm.Iallreduce(mpi.IN_PLACE, [view, self._types[code]], op=mpi.SUM)
            for view, code in buffers
        ]
        mpi.Request.Waitall(requests)
        self.sum_seconds += time.perf_counter() - start
        self.sum_calls += 1

    def start_sum(self, view, code) -> None:
        """Starts summing one buffer over the processes, in place (``Iallreduce``); the view
        is kept until ``wait_sums``.

        Args:
            view: a writable memoryview, valid until ``wait_sums`` returns.
            code: ``"f"`` (float32) or ``"d"`` (float64).
        """
        start = time.perf_counter()
        mpi = self._mpi
        request = self._comm.Iallreduce(mpi.IN_PLACE, [view, self._types[code]], op=mpi.SUM)
        self._pending.append((request, view))
        self.start_calls += 1
        self.start_seconds += time.perf_counter() - start

    def progress(self) -> None:
        """Lets MPI move the started sums on (``Testall``), without waiting for them."""
        start = time.perf_counter()
        if self._pending:
            self._mpi.Request.Testall([request for request, _ in self._pending])
        self.start_seconds += time.perf_counter() - start

    def wait_sums(self) -> None:
        """Waits for every sum ``start_sum`` started, then releases their views."""
        start = time.perf_counter()
        pending, self._pending = self._pending, []
        self._mpi.Request.Waitall([request for request, _ in pending])
        for request, view in pending:
            del request
            view.release()
        self.sum_seconds += time.perf_counter() - start + self.start_seconds
        self.wait_seconds += time.perf_counter() - start
        self.start_seconds = 0.0
        self.sum_calls += 1

    def broadcast_bytes(self, view) -> None:
        """Replaces the bytes of ``view`` with process 0's.

        Args:
            view: a writable memoryview of the same length on every process.
        """
        self._comm.Bcast([view, self._mpi.BYTE], root=0)
