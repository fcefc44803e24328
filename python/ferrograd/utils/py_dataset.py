"""`PyDataset`: a dataset of batches that Python code computes, read by index."""

from __future__ import annotations

import operator
from concurrent.futures import ThreadPoolExecutor


class PyDataset:
    """Base class of datasets that hand out whole batches, as ``keras.utils.PyDataset``.

    A subclass defines ``__len__`` (the number of batches in an epoch) and
    ``__getitem__(index)`` (batch ``index``: ``(x, y)``, ``(x, y, sample_weight)`` or ``x``),
    and may define ``on_epoch_end`` (called after each pass). ``fit``, ``evaluate`` and
    ``predict`` take an instance as ``x``, with ``y`` left out.

    Args:
        workers: how many threads compute batches ahead of the training loop (default 1: each
            batch is computed when the loop needs it). Threads help when ``__getitem__`` waits
            on files or releases the GIL (numpy, image decoding).
        use_multiprocessing: Keras's option to compute batches in processes; not supported:
            ``True`` raises a ``ValueError`` (use ``workers`` for threads).
        max_queue_size: how many batches the threads may compute ahead (default 10).

    Examples:
        >>> import numpy as np
        >>> import ferrograd as fg
        >>> class Batches(fg.utils.PyDataset):
        ...     def __init__(self, x, y, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return -(-len(self.x) // self.batch_size)
        ...     def __getitem__(self, index):
        ...         rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        ...         return self.x[rows], self.y[rows]
        >>> dataset = Batches(np.zeros((10, 3)), np.zeros((10, 1)), batch_size=4)
        >>> len(dataset), dataset[2][0].shape
        (3, (2, 3))
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size=10):
        self.workers = _positive(workers, "workers")
        if use_multiprocessing:
            raise ValueError(
                "PyDataset(use_multiprocessing=True) is not supported: batches are computed in "
                "this process. Use workers=N to compute them in N threads."
            )
        self.use_multiprocessing = False
        self.max_queue_size = _positive(max_queue_size, "max_queue_size")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def on_epoch_end(self) -> None:
        """Called after each full pass over the batches (shuffle here, for instance)."""

    @property
    def num_batches(self) -> int:
        """The number of batches in an epoch (``len(self)``)."""
        return len(self)

    def __iter__(self):
        """One epoch: every batch in order, computed ``workers`` at a time, then
        ``on_epoch_end``."""
        count = len(self)
        if self.workers == 1:
            for index in range(count):
                yield self[index]
        else:
            yield from self._prefetched(count)
        self.on_epoch_end()

    def _prefetched(self, count: int):
        """The batches in order, with up to ``max_queue_size`` of them computed ahead by the
        threads."""
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            pending = []
            next_index = 0
            while next_index < count or pending:
                while next_index < count and len(pending) < self.max_queue_size:
                    pending.append(pool.submit(self.__getitem__, next_index))
                    next_index += 1
                yield pending.pop(0).result()


def _positive(value, name: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a positive integer, received {value!r}")
    try:
        count = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be a positive integer, received {value!r}") from None
    if count < 1:
        raise ValueError(f"{name} must be a positive integer, received {name}={count}")
    return count


#: Keras 2's name for ``PyDataset``.
Sequence = PyDataset
