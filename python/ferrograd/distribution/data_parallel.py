"""``DataParallel``: every process holds the whole model and trains on its rows of each batch."""

from __future__ import annotations


class DataParallel:
    """Data parallelism across the processes of the job, as ``keras.distribution.DataParallel``.

    Set with ``fg.distribution.set_distribution(DataParallel())`` after
    ``fg.distribution.initialize()``, it makes ``fit`` run as one training on the global batch:
    each process holds the same model (process 0's weights at the start of ``fit``), takes its
    share of every global batch of ``batch_size`` rows (the same arrays on every process,
    shuffled alike) or reads its own shard from a generator or ``PyDataset``, and the gradients
    are summed across processes before each update, so that the update is the one a single
    process makes on the whole batch. The loss and metrics in the logs are the global batch's.

    Args:
        device_mesh: Keras's mesh of devices; only None (the processes of the job).
        devices: Keras's list of devices; only None.
        auto_shard_dataset: each process takes its rows of every batch of the arrays it passes
            (default True; False is not supported).

    Examples:
        >>> fg.distribution.DataParallel()
        DataParallel(processes=1)
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        for name, value in (("device_mesh", device_mesh), ("devices", devices)):
            if value is not None:
                raise ValueError(
                    f"DataParallel: {name} is not supported: the devices are the processes of "
                    f"the MPI job (one CPU process each); received {name}={value!r}"
                )
        if auto_shard_dataset is not True:
            raise ValueError(
                "DataParallel: auto_shard_dataset=False is not supported: with arrays, every "
                "process passes the same arrays and takes its rows of each batch; with a "
                "generator, each process passes its own shard; received "
                f"auto_shard_dataset={auto_shard_dataset!r}"
            )
        self.auto_shard_dataset = True

    def __repr__(self) -> str:
        from ferrograd.distribution.process import process_count

        return f"DataParallel(processes={process_count()})"
