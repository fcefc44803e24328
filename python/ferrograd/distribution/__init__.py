"""Training one model on several processes and machines, with Keras 3's
``keras.distribution`` names, over MPI (mpi4py).

Launch the same script on every process (``mpiexec -n 4 python train.py``, ``srun``)::

    fg.distribution.initialize()
    fg.distribution.set_distribution(fg.distribution.DataParallel())
    model.fit(x, y, batch_size=256)   # batch_size is the global batch

mpi4py is imported by ``initialize()`` only, never by ``import ferrograd``. See the guide
``docs/guides/distributed.md``.
"""

from ferrograd.distribution.all_reduce import all_reduce
from ferrograd.distribution.broadcast import broadcast
from ferrograd.distribution.data_parallel import DataParallel
from ferrograd.distribution.initialize import initialize
from ferrograd.distribution.process import process_count, process_index
from ferrograd.distribution.set_distribution import distribution, set_distribution

__all__ = [
    "DataParallel",
    "all_reduce",
    "broadcast",
    "distribution",
    "initialize",
    "process_count",
    "process_index",
    "set_distribution",
]
