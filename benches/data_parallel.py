"""Data-parallel scaling: the MNIST MLP (784-128-10, Adam, global batch 256) on 2 processes with
1 thread each against 1 process with 1 thread, for ferrograd (``fg.distribution.DataParallel``
over MPI) and PyTorch (``DistributedDataParallel``, gloo backend), in the same run.

    python benches/data_parallel.py [--rows 30720] [--epochs 2] [--repeats 1] [--hidden 128]

Scaling efficiency = (throughput on 2 processes / throughput on 1) / 2. For ferrograd it also
reports the time per step spent in the gradient reduction (the Rust loop's calls into mpi4py:
starting each bucket's ``Iallreduce`` during backward, then waiting after it, waiting for the
other process included), the part spent waiting after backward, and, measured apart, a bare
``Allreduce`` of the model's gradient size and of all but the first layer's (what starting the
last layers' buckets during backward could hide at most). Writes
``benches/results/distributed.json``. Each configuration is launched as its own job
(``mpiexec -n 2`` on 127.0.0.1 for two processes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GLOBAL_BATCH = 256
# The hidden layers: 784-128-10 by default; --hidden 512,256,128 is compare.py's case 1 MLP.
HIDDEN = (128,)


def load_mnist(rows):
    import ferrograd as fg

    (x, y), _ = fg.datasets.mnist.load_data()
    x = x.reshape(-1, 784)[:rows].astype(np.float32) / 255
    return x, y[:rows].astype(np.int64)


def rank_and_size():
    """This process's index and count from the MPI launcher's variables (1 process alone)."""
    return int(os.environ.get("PMI_RANK", 0)), int(os.environ.get("PMI_SIZE", 1))


def worker_ferrograd(rows, epochs, hidden):
    import ferrograd as fg

    fg.distribution.initialize()
    fg.set_num_threads(1)
    fg.distribution.set_distribution(fg.distribution.DataParallel())
    comm = fg.distribution._world.world()
    barrier = comm.Barrier if comm is not None else (lambda: None)
    x, y = load_mnist(rows)
    fg.set_seed(0)
    model = fg.Sequential(
        [
            fg.Input((784,)),
            *[fg.layers.Dense(width, activation="relu") for width in hidden],
            fg.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer=fg.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x[: GLOBAL_BATCH * 8], y[: GLOBAL_BATCH * 8], batch_size=GLOBAL_BATCH, verbose=0)
    barrier()
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=epochs, verbose=0)
    barrier()
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "loss": history.history["loss"][-1]}
    collective = getattr(model, "_collective", None)
    if collective is not None:
        result["reduce_seconds_per_step"] = collective.sum_seconds / collective.sum_calls
        result["wait_after_backward_seconds_per_step"] = (
            collective.wait_seconds / collective.sum_calls
        )
        result["steps"] = collective.sum_calls
        sizes = [int(np.prod(w.shape)) for w in model.trainable_weights]
        result["bare_allreduce_seconds"] = bare_allreduce(comm, sum(sizes))
        # What overlapping the reduction with backward could hide at most: the gradients of
        # every layer but the first, which backward finishes last (its kernel gradient, the
        # largest GEMM of the backward pass, is the window the other reductions could run in).
        result["bare_allreduce_all_but_first_layer_seconds"] = bare_allreduce(comm, sum(sizes[2:]))
    return result


def bare_allreduce(comm, size):
    """The mean time of one in-place Allreduce of ``size`` float32 values, with the processes
    in step (a barrier before each)."""
    from mpi4py import MPI

    buffer = np.ones(size, dtype=np.float32)
    total = 0.0
    for _ in range(200):
        comm.Barrier()
        start = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        total += time.perf_counter() - start
    return total / 200


def worker_torch(rows, epochs, hidden):
    import torch
    import torch.distributed as dist
    from torch import nn

    torch.set_num_threads(1)
    rank, size = rank_and_size()
    if size > 1:
        dist.init_process_group(
            "gloo", init_method="tcp://127.0.0.1:29517", rank=rank, world_size=size
        )
    x, y = load_mnist(rows)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    torch.manual_seed(0)
    widths = [784, *hidden]
    layers = []
    for fan_in, fan_out in zip(widths, widths[1:], strict=False):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(widths[-1], 10))
    if size > 1:
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    local = GLOBAL_BATCH // size

    def epoch(limit):
        generator = torch.Generator().manual_seed(0)
        order = torch.randperm(limit, generator=generator)
        loss = None
        for start in range(0, limit, GLOBAL_BATCH):
            rows_of_batch = order[start : start + GLOBAL_BATCH]
            mine = rows_of_batch[rank * local : (rank + 1) * local]
            optimizer.zero_grad()
            loss = loss_fn(model(x[mine]), y[mine])
            loss.backward()
            optimizer.step()
        return float(loss.detach())

    epoch(GLOBAL_BATCH * 8)
    if size > 1:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(epochs):
        loss = epoch(len(x))
    if size > 1:
        dist.barrier()
    seconds = time.perf_counter() - start
    if size > 1:
        dist.destroy_process_group()
    return {"seconds": seconds, "loss": loss}


def worker(args):
    run = worker_ferrograd if args.worker == "ferrograd" else worker_torch
    result = run(args.rows, args.epochs, parse_hidden(args.hidden))
    if rank_and_size()[0] == 0:
        Path(args.out).write_text(json.dumps(result))


def launch(library, processes, args, out):
    env = {**os.environ, "FERROGRAD_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        __file__,
        "--worker",
        library,
        "--out",
        str(out),
        "--rows",
        str(args.rows),
        "--epochs",
        str(args.epochs),
        "--hidden",
        args.hidden,
    ]
    if processes > 1:
        mpiexec = Path(sys.executable).parent / "mpiexec"
        mpiexec = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
        command = [mpiexec, "-n", str(processes), "-host", "127.0.0.1", *command]
    subprocess.run(command, check=True, env=env, timeout=1800)
    return json.loads(Path(out).read_text())


def parse_hidden(text):
    return tuple(int(width) for width in text.split(","))


def load_average():
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30720)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--hidden", default=",".join(map(str, HIDDEN)))
    parser.add_argument("--worker", choices=["ferrograd", "torch"])
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    scratch = HERE / "results"
    scratch.mkdir(exist_ok=True)
    samples = args.rows * args.epochs
    runs = []
    for repeat in range(args.repeats):
        for library in ("ferrograd", "torch"):
            for processes in (1, 2):
                before = load_average()
                result = launch(library, processes, args, scratch / "distributed-run.json")
                result.update(
                    library=library,
                    processes=processes,
                    repeat=repeat,
                    samples_per_second=samples / result["seconds"],
                    load_before=before,
                    load_after=load_average(),
                )
                runs.append(result)
                print(json.dumps(result))
    (scratch / "distributed-run.json").unlink(missing_ok=True)
    summary = {}
    for library in ("ferrograd", "torch"):
        best = {
            p: max(
                r["samples_per_second"]
                for r in runs
                if r["library"] == library and r["processes"] == p
            )
            for p in (1, 2)
        }
        summary[library] = {
            "samples_per_second_1_process": best[1],
            "samples_per_second_2_processes": best[2],
            "scaling_efficiency": best[2] / best[1] / 2,
        }
    fg_two = [r for r in runs if r["library"] == "ferrograd" and r["processes"] == 2]
    if fg_two:
        one = min(fg_two, key=lambda r: r["seconds"])
        step = one["seconds"] / one["steps"]
        summary["ferrograd"].update(
            step_ms=1e3 * step,
            reduce_ms_per_step=1e3 * one["reduce_seconds_per_step"],
            wait_after_backward_ms_per_step=1e3 * one["wait_after_backward_seconds_per_step"],
            bare_allreduce_ms=1e3 * one["bare_allreduce_seconds"],
            overlap_could_hide_at_most_ms=1e3 * one["bare_allreduce_all_but_first_layer_seconds"],
        )
    report = {
        "case": f"MNIST MLP 784-{args.hidden.replace(',', '-')}-10, Adam, global batch "
        f"{GLOBAL_BATCH}, "
        f"{args.rows} rows x {args.epochs} epochs, 1 thread per process",
        "cpu_count": os.cpu_count(),
        "summary": summary,
        "runs": runs,
    }
    name = "distributed.json" if args.hidden == "128" else f"distributed-{args.hidden}.json"
    (scratch / name.replace(",", "-")).write_text(json.dumps(report, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
