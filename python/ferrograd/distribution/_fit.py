"""What ``Model.fit`` does before its loop when ``DataParallel`` is set in a job of several
processes: check that the processes agree, give them process 0's weights, and hand the loop
the collective it sums gradients with."""

from __future__ import annotations

import hashlib

from ferrograd.distribution._world import world
from ferrograd.distribution.set_distribution import distribution


def data_parallel_job():
    """The job's communicator when ``fit`` must train data-parallel (``DataParallel`` set and
    more than one process), else None.

    Examples:
        >>> data_parallel_job() is None
        True
    """
    comm = world()
    if distribution() is None or comm is None or comm.Get_size() < 2:
        return None
    return comm


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _samples(data):
    """The number of training samples of prepared data (None for a stream: each process passes
    its own shard)."""
    if data.is_stream:
        return None
    first = data.x[0] if data.columns else data.x
    return int(first.shape[0])


def check_processes_agree(comm, model, data, settings: dict) -> None:
    """Raises ValueError on every process when the processes differ in what must be the same
    for one training (ferrograd's version, the model, the optimizer, the data's length, the
    ``fit`` arguments), naming each difference and every process's value. One ``allgather``:
    a disagreement ends the job here, at its first step, rather than hanging it later.

    Args:
        comm: the job's communicator.
        model: the compiled model.
        data: the prepared training data.
        settings: the ``fit`` arguments every process must give alike.
    """
    import ferrograd as fg

    shapes = repr([tuple(w.shape) for w in model.weights])
    mine = {
        "ferrograd version": fg.__version__,
        "model (sha256 of its JSON config)": _digest(model.to_json()),
        # The shapes themselves when they are short enough to read in a message.
        "weight shapes": shapes if len(shapes) <= 160 else _digest(shapes),
        "optimizer": _digest(repr(sorted(model.optimizer.get_config().items()))),
        "number of training samples": _samples(data),
        **settings,
    }
    everyone = comm.allgather(mine)
    differences = []
    for key in mine:
        values = [other.get(key) for other in everyone]
        if any(value != values[0] for value in values):
            per_process = ", ".join(f"process {i}: {value!r}" for i, value in enumerate(values))
            differences.append(f"{key} ({per_process})")
    if differences:
        raise ValueError(
            "fit: the processes of the data-parallel job disagree on "
            + "; ".join(differences)
            + ". Every process must run the same program on the same data."
        )
