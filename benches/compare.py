"""ferrograd against PyTorch, JAX and Keras on the same data, models, batches and threads.

    python benches/compare.py [--cases 1,2,...] [--threads 2] [--repeats 5] [--out FILE]
    python benches/compare.py --smoke      # a tiny version of every case: checks, not timings

Each case runs every installed library in this one invocation: one warm-up run each, then
``--repeats`` runs alternating between the libraries (ferrograd, peer, ferrograd, peer, ...)
so that a slow spell of a noisy machine falls on all of them. It prints the median, the range
and ferrograd's median as a fraction of each peer's, checks the project's targets, and writes
a JSON result and a PNG chart (``benches/results/compare.json`` and ``.png``).

Cases:
  1. MNIST MLP 784-512-256-128-10, Adam, batch 64: one epoch of the 60,000 training images.
  2. The same at batch 32 and batch 256.
  3. The synthetic walkthrough: make_classification(1000, 20), Dense 64-64-1, 10 epochs at
     batch 32 with validation_split=0.1: the whole fit.
  4. predict on the 10,000 MNIST test images, batch 32.
  5. The compute floor: case 1's training GEMMs alone, at their exact shapes, through numpy's
     BLAS and PyTorch's.
  6. Scaling: case 3's model on 10k, 100k and 1M rows, time per epoch and peak memory, each
     library in a fresh process.
  7. import time, and the peak memory of case 1, each library in a fresh process.
  8. The LSTM text classifier: Embedding-LSTM-Dropout-LSTM-Dropout-Dense, batch 64, length 80;
     and its GEMM floor, as case 5 measures case 1's.
  9. The keras.io "Simple MNIST convnet" (Conv2D 32 - MaxPool - Conv2D 64 - MaxPool - Flatten -
     Dropout 0.5 - Dense 10, Adam, categorical cross-entropy), one epoch at batch 128, with the
     bound of its convolution GEMMs (im2col shapes).
 10. predict with case 9's model on the 10,000 MNIST test images, batch 32.
 11. The keras.io "Text classification with Transformer" (vocabulary 20,000, length 200,
     embed_dim 32, 2 heads, ff_dim 32): one epoch at batch 32 on random token ids (2,000 rows;
     the example's 25,000 with --transformer-rows 25000).

Threads: ferrograd and PyTorch get ``--threads`` through their own setters, numpy's BLAS
through threadpoolctl, and OpenMP/MKL through the environment. XLA (JAX, Keras) has no
setting for its thread count, so when ``--threads`` is below the number of cores the whole
process is pinned to that many cores (``sched_setaffinity``), which bounds every library.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = ("torch", "jax", "keras")
ALL_CASES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
# The smoke run's MNIST: a few batches, enough to exercise every path.
SMOKE_TRAIN, SMOKE_TEST = 512, 500


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=",".join(map(str, ALL_CASES)), help="e.g. 1,3,8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per library")
    parser.add_argument("--peers", default=",".join(PEERS), help="among torch,jax,keras")
    parser.add_argument(
        "--transformer-rows", type=int, default=2000, help="case 11's sequences (example: 25000)"
    )
    parser.add_argument("--out", type=Path, help="JSON path (default: results/compare.json)")
    parser.add_argument("--chart", type=Path, help="PNG path (default: --out with .png)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run, no warm-up")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        args.cases = sorted({int(case) for case in args.cases.split(",") if case.strip()})
    except ValueError:
        parser.error(f"--cases takes numbers separated by commas, received {args.cases!r}")
    unknown = set(args.cases) - set(ALL_CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; the cases are {list(ALL_CASES)}")
    args.peers = [peer.strip() for peer in args.peers.split(",") if peer.strip()]
    bad_peers = set(args.peers) - set(PEERS)
    if bad_peers:
        parser.error(f"unknown peers {sorted(bad_peers)}; the peers are {list(PEERS)}")
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, received {args.threads}")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, received {args.repeats}")
    if args.smoke:
        args.repeats = 1
    # A smoke run must never overwrite the committed results of a full one.
    default_name = "smoke.json" if args.smoke else "compare.json"
    args.out = args.out or HERE / "results" / default_name
    args.chart = args.chart or args.out.with_suffix(".png")
    return args


def limit_threads(threads: int) -> str:
    """Sets every thread count that must be set before the libraries load; says what XLA
    gets."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(threads)
    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if threads == 1:
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "")
            + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )
    cores = sorted(os.sched_getaffinity(0))
    if threads < len(cores):
        os.sched_setaffinity(0, cores[:threads])
        return f"process pinned to {threads} of {len(cores)} cores, which bounds XLA's pool"
    return f"XLA uses its default pool on the {len(cores)} cores this process may run on"


# --- measuring -----------------------------------------------------------------------------


def alternate(runners, repeats, label, *, warm_up=True):
    """One warm-up run per library, then ``repeats`` rounds that run each library once in
    turn. A runner returns a dict with at least ``seconds``; returns each library's runs."""
    for name, run in runners.items() if warm_up else ():
        print(f"  {label}: warm-up {name}", flush=True)
        run()
    runs = {name: [] for name in runners}
    for round_index in range(repeats):
        for name, run in runners.items():
            result = run()
            runs[name].append(result)
            print(f"  {label}: {name} run {round_index + 1}: {result['seconds']:.3f} s", flush=True)
    return runs


def summarise(values):
    import numpy as np

    return {
        "median": float(np.median(values)),
        "min": float(min(values)),
        "max": float(max(values)),
        "runs": [float(v) for v in values],
    }


def entry(case, key, title, unit, runs, *, value="seconds", notes=()):
    """A result: each library's summary of ``value`` over its runs, with the other numbers
    the runs recorded (as medians), and ferrograd's median over each peer's."""
    import numpy as np

    libraries = {}
    for name, results in runs.items():
        summary = summarise([r[value] for r in results])
        for extra in results[0]:
            if extra != value and isinstance(results[0][extra], (int, float)):
                summary[extra] = float(np.median([r[extra] for r in results]))
        libraries[name] = summary
    ratios = {}
    if "ferrograd" in libraries:
        ours = libraries["ferrograd"]["median"]
        ratios = {
            name: ours / summary["median"]
            for name, summary in libraries.items()
            if name != "ferrograd" and summary["median"] > 0
        }
    return {
        "case": case,
        "key": key,
        "title": title,
        "unit": unit,
        "libraries": libraries,
        "ratios": ratios,
        "notes": list(notes),
    }


def memory_status():
    """(current, peak) resident memory of this process in MB."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(rest.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


# --- data ----------------------------------------------------------------------------------


def mnist(smoke):
    """Float32 [0, 1] rows of 784 pixels and integer labels. The smoke run uses the real files
    only when they are on disk (it must never download) and else random images."""
    import numpy as np

    import ferrograd as fg

    folder = Path(os.environ.get("FERROGRAD_DATA", "~/.cache/ferrograd/datasets")).expanduser()
    on_disk = any((folder / "mnist").glob("train-images-idx3-ubyte*"))
    if smoke and not on_disk:
        rng = np.random.default_rng(0)
        x_train = rng.random((SMOKE_TRAIN, 784), dtype=np.float32)
        x_test = rng.random((SMOKE_TEST, 784), dtype=np.float32)
        y_train, y_test = rng.integers(0, 10, SMOKE_TRAIN), rng.integers(0, 10, SMOKE_TEST)
        return (x_train, y_train), (x_test, y_test), False
    (x_train, y_train), (x_test, y_test) = fg.datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype(np.float32) / 255
    x_test = x_test.reshape(-1, 784).astype(np.float32) / 255
    y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    if smoke:
        return (
            (x_train[:SMOKE_TRAIN], y_train[:SMOKE_TRAIN]),
            (x_test[:SMOKE_TEST], y_test[:SMOKE_TEST]),
            True,
        )
    return (x_train, y_train), (x_test, y_test), True


def synthetic(rows, seed=0):
    """The walkthrough's data: sklearn's make_classification with 20 features."""
    import numpy as np
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=rows, n_features=20, random_state=seed)
    return x.astype(np.float32), y.astype(np.float32)


# --- the cases -----------------------------------------------------------------------------


class Context:
    def __init__(self, args, peers):
        self.args = args
        self.peers = peers
        self.smoke = args.smoke
        self.repeats = args.repeats
        self.threads = args.threads
        self._mnist = None
        self._gemm_rates = None
        self.entries = []
        self.notes = []
        self.scratch = Path(tempfile.mkdtemp(prefix="ferrograd-bench-"))

    @property
    def mnist(self):
        if self._mnist is None:
            self._mnist = mnist(self.smoke)
            if not self._mnist[2]:
                self.notes.append("MNIST files not on disk: the smoke run used random images")
        return self._mnist

    @property
    def gemm_rates(self):
        """{library: GFLOP/s} of a large square float32 GEMM through numpy's BLAS and, when it
        is a peer, PyTorch's: the best of five calls each. BLAS runs its easiest shape at a few
        percent under the machine's multiply-add ceiling (``cargo bench --bench fma_peak``), so
        ``gflop / max(rates)`` is about the least time a case's GEMMs can take in this run."""
        if self._gemm_rates is None:
            self._gemm_rates = large_gemm_rates(self)
        return self._gemm_rates

    def mnist_file(self):
        """MNIST as an .npz for the worker processes, which must not load ferrograd to read
        it (its memory would count against PyTorch)."""
        import numpy as np

        path = self.scratch / "mnist.npz"
        if not path.exists():
            (x_train, y_train), (x_test, y_test), _ = self.mnist
            np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        return path


MNIST_MLP = (784, 512, 256, 128, 10)
LARGE_GEMM_SIZE = 2048


def large_gemm_rates(ctx):
    import numpy as np

    size = 128 if ctx.smoke else LARGE_GEMM_SIZE
    rng = np.random.default_rng(0)
    a, b = (rng.random((size, size), dtype=np.float32) for _ in range(2))
    out = np.empty((size, size), np.float32)
    products = {"numpy": lambda: np.matmul(a, b, out=out)}
    if "torch" in ctx.peers:
        import torch

        ta, tb, tout = (torch.from_numpy(array) for array in (a, b, out))
        products["torch"] = lambda: torch.matmul(ta, tb, out=tout)
    rates = {}
    for library, product in products.items():
        product()  # warm-up
        seconds = []
        for _ in range(1 if ctx.smoke else 5):
            start = time.perf_counter()
            product()
            seconds.append(time.perf_counter() - start)
        rates[library] = 2 * size**3 / min(seconds) / 1e9
        print(f"  large GEMM ({size}^3): {library} {rates[library]:.0f} GFLOP/s")
    return rates


def add_rate_bound(ctx, item, gflop):
    """Records on ``item`` the seconds its ``gflop`` of GEMMs take at the best rate a large
    GEMM reached in this run."""
    rates = ctx.gemm_rates
    library = max(rates, key=rates.get)
    item.update(gflop=gflop, large_gemm_gflops=rates, bound_seconds=gflop / rates[library])
    item["notes"].append(
        f"its GEMMs are {gflop:.1f} GFLOP: {item['bound_seconds']:.3f} s at the best rate a "
        f"{LARGE_GEMM_SIZE}^3 GEMM reached in this run ({rates[library]:.0f} GFLOP/s, {library})"
    )


def accuracy(outputs, labels):
    import numpy as np

    return float(np.mean(np.asarray(outputs).argmax(axis=1) == labels))


def mlp_runners(ctx, spec, x, y, *, batch_size, epochs, validation_split=0.0, test=None):
    """Runners that train ``spec`` from the same weights in every library and, given test
    data, record the test accuracy (outside the timing)."""
    import peers as p

    weights = p.initial_mlp_weights(spec)
    fits = {"ferrograd": p.ferrograd_mlp_fit}
    predicts = {"ferrograd": lambda model, xs: p.ferrograd_predict(model, xs, batch_size=256)}
    if "torch" in ctx.peers:
        fits["torch"] = p.torch_mlp_fit
        predicts["torch"] = lambda net, xs: p.torch_predict(net, spec, xs, batch_size=256)
    if "jax" in ctx.peers:
        fits["jax"] = p.jax_mlp_fit
        predicts["jax"] = lambda params, xs: p.jax_predict(params, spec, xs, batch_size=256)
    if "keras" in ctx.peers:
        fits["keras"] = p.keras_mlp_fit
        predicts["keras"] = lambda model, xs: p.keras_predict(model, xs, batch_size=256)

    def runner(name):
        def run():
            seconds, model = fits[name](
                spec, weights, x, y, batch_size=batch_size, epochs=epochs,
                validation_split=validation_split,
            )  # fmt: skip
            result = {"seconds": seconds}
            if test is not None:
                result["test_accuracy"] = accuracy(predicts[name](model, test[0])[1], test[1])
            return result

        return run

    return {name: runner(name) for name in fits}


def case_mnist_mlp(ctx, batch_size, case):
    import peers as p

    (x_train, y_train), test, _ = ctx.mnist
    spec = p.MlpSpec(MNIST_MLP, "softmax")
    runners = mlp_runners(ctx, spec, x_train, y_train, batch_size=batch_size, epochs=1, test=test)
    runs = alternate(
        runners, ctx.repeats, f"case {case} (batch {batch_size})", warm_up=not ctx.smoke
    )
    ctx.entries.append(
        entry(
            case,
            f"mnist_mlp_batch{batch_size}",
            f"MNIST MLP, batch {batch_size}: one epoch ({len(x_train)} images)",
            "s",
            runs,
            notes=["test_accuracy: on the test images after the epoch, median over the runs"],
        )
    )


def case_walkthrough(ctx):
    import peers as p

    x, y = synthetic(1000)
    epochs = 2 if ctx.smoke else 10
    spec = p.MlpSpec((20, 64, 64, 1), "sigmoid")
    runners = mlp_runners(ctx, spec, x, y, batch_size=32, epochs=epochs, validation_split=0.1)
    runs = alternate(runners, ctx.repeats, "case 3", warm_up=not ctx.smoke)
    ctx.entries.append(
        entry(
            3,
            "walkthrough_fit",
            f"make_classification(1000, 20), 64-64-1: fit, {epochs} epochs, batch 32, val 0.1",
            "s",
            runs,
        )
    )


def case_predict(ctx):
    import numpy as np
    import peers as p

    _, (x_test, _), _ = ctx.mnist
    spec = p.MlpSpec(MNIST_MLP, "softmax")
    weights = p.initial_mlp_weights(spec)
    batch_size = 32  # ferrograd's and Keras's default for predict
    model = p.ferrograd_mlp(spec)
    model.set_weights(weights)
    predictors = {"ferrograd": lambda: p.ferrograd_predict(model, x_test, batch_size=batch_size)}
    if "torch" in ctx.peers:
        net = p.torch_mlp(spec, weights)
        predictors["torch"] = lambda: p.torch_predict(net, spec, x_test, batch_size=batch_size)
    if "jax" in ctx.peers:
        params = p._jax_params(weights)
        predictors["jax"] = lambda: p.jax_predict(params, spec, x_test, batch_size=batch_size)
    if "keras" in ctx.peers:
        keras_model = p.keras_mlp(spec, weights)
        predictors["keras"] = lambda: p.keras_predict(keras_model, x_test, batch_size=batch_size)
    reference = predictors["ferrograd"]()[1]

    def runner(predict):
        def run():
            seconds, outputs = predict()
            return {"seconds": seconds, "max_abs_diff": float(np.abs(outputs - reference).max())}

        return run

    runs = alternate(
        {name: runner(f) for name, f in predictors.items()},
        ctx.repeats,
        "case 4",
        warm_up=not ctx.smoke,
    )
    item = entry(
        4,
        "mnist_predict",
        f"predict on {len(x_test)} MNIST test images, batch {batch_size}",
        "s",
        runs,
        notes=["max_abs_diff: largest difference from ferrograd's outputs (same weights)"],
    )
    macs_per_row = sum(a * b for a, b in zip(MNIST_MLP[:-1], MNIST_MLP[1:], strict=True))
    add_rate_bound(ctx, item, 2 * macs_per_row * len(x_test) / 1e9)
    ctx.entries.append(item)


def training_gemms(sizes, batch):
    """(m, k, n, a transposed, b transposed) of one training step's GEMMs: the forward x @ W,
    the weight gradient x^T @ dz, and the input gradient dz @ W^T (not for the first layer,
    whose input needs none)."""
    shapes = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        shapes.append((batch, fan_in, fan_out, False, False))
        shapes.append((fan_in, batch, fan_out, True, False))
        if i > 0:
            shapes.append((batch, fan_out, fan_in, False, True))
    return shapes


def lstm_training_gemms(input_dim, units, batch, length):
    """(m, k, n, a transposed, b transposed) of the GEMMs of one LSTM layer over one batch, in
    the order training runs them: the input projection of every step at once, the product of
    each step's state with the recurrent kernel, then backward the product of each step's gate
    gradients with its transpose (not at the first step), and the kernel, recurrent kernel and
    input gradients."""
    rows, width = batch * length, 4 * units
    return (
        [(rows, input_dim, width, False, False)]
        + [(batch, units, width, False, False)] * length
        + [(batch, width, units, False, True)] * (length - 1)
        + [
            (input_dim, rows, width, True, False),
            (units, rows, width, True, False),
            (rows, width, input_dim, False, True),
        ]
    )


def gemm_floor_runs(ctx, groups, label):
    """Times the GEMMs of an epoch at their exact shapes through numpy's BLAS and, when it is a
    peer, PyTorch's. ``groups`` is a list of (shapes, repeats): each list of shapes runs in
    order, ``repeats`` times."""
    import numpy as np

    rng = np.random.default_rng(0)
    cache = {}

    def operand_pair(m, k, n, a_transposed, b_transposed):
        # The operands are stored as training stores them; a transposed one is a view. Shapes
        # that repeat (a recurrent layer's steps) share their operands, as the steps share
        # the recurrent kernel.
        key = (m, k, n, a_transposed, b_transposed)
        if key not in cache:
            a = rng.random((k, m) if a_transposed else (m, k), dtype=np.float32)
            b = rng.random((n, k) if b_transposed else (k, n), dtype=np.float32)
            a, b = (a.T if a_transposed else a), (b.T if b_transposed else b)
            cache[key] = (a, b, np.empty((m, n), np.float32))
        return cache[key]

    numpy_groups = [
        ([operand_pair(*shape) for shape in shapes], repeats) for shapes, repeats in groups
    ]

    def numpy_epoch():
        start = time.perf_counter()
        for operands, repeats in numpy_groups:
            for _ in range(repeats):
                for a, b, out in operands:
                    np.matmul(a, b, out=out)
        return {"seconds": time.perf_counter() - start}

    runners = {"numpy": numpy_epoch}
    if "torch" in ctx.peers:
        import torch

        as_torch = {
            key: (torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(out))
            for key, (a, b, out) in cache.items()
        }
        torch_groups = [
            ([as_torch[shape] for shape in shapes], repeats) for shapes, repeats in groups
        ]

        def torch_epoch():
            start = time.perf_counter()
            for operands, repeats in torch_groups:
                for _ in range(repeats):
                    for a, b, out in operands:
                        torch.matmul(a, b, out=out)
            return {"seconds": time.perf_counter() - start}

        runners["torch"] = torch_epoch
    return alternate(runners, ctx.repeats, label, warm_up=not ctx.smoke)


def case_floor(ctx):
    from threadpoolctl import threadpool_info

    (x_train, _), _, _ = ctx.mnist
    batch = 64
    steps = math.ceil(len(x_train) / batch)
    shapes = training_gemms(MNIST_MLP, batch)
    gflop = 2 * sum(m * k * n for m, k, n, _, _ in shapes) * steps / 1e9
    runs = gemm_floor_runs(ctx, [(shapes, steps)], "case 5")
    blas = [
        f"{info.get('internal_api')} {info.get('version')}"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    result = entry(
        5,
        "gemm_floor",
        f"case 1's training GEMMs alone: {steps} steps, {gflop:.0f} GFLOP",
        "s",
        runs,
        notes=[f"numpy's BLAS: {', '.join(blas) or 'unknown'}"],
    )
    floor = min(summary["median"] for summary in result["libraries"].values())
    result["floor_seconds"] = floor
    result["gflop"] = gflop
    case1 = next((e for e in ctx.entries if e["key"] == "mnist_mlp_batch64"), None)
    if case1 is not None:
        epoch = case1["libraries"]["ferrograd"]["median"]
        result["ferrograd_epoch_seconds"] = epoch
        result["ferrograd_over_floor"] = epoch / floor
        result["epoch_case"] = 1
        result["ratios"] = {"floor": epoch / floor}
    else:
        result["notes"].append("run case 1 too to get ferrograd's epoch as a multiple of this")
    ctx.entries.append(result)


# --- cases in fresh processes --------------------------------------------------------------


WORKER_TIMEOUT = 900  # seconds; a loaded machine can slow a thread pool a hundredfold


def run_worker(ctx, job):
    """Runs ``job`` in a fresh Python process with the same thread settings; returns its dict,
    or None (with a note) when it ran past WORKER_TIMEOUT."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        json.dumps(job),
        "--threads",
        str(ctx.threads),
    ]
    # Compiled bytecode is cached as after a normal install (pip compiles it); with
    # PYTHONDONTWRITEBYTECODE set, every import of an editable install would compile afresh.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=WORKER_TIMEOUT,
            env=environment,
        )
    except subprocess.TimeoutExpired:
        note = f"{job['library']} {job['kind']} stopped after {WORKER_TIMEOUT} s: {job}"
        print(f"note: {note}", flush=True)
        ctx.notes.append(note)
        return None
    if completed.returncode != 0:
        raise RuntimeError(f"worker {job} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def worker(job, threads):
    """The body of a fresh process: imports only the library it measures."""
    kind, library = job["kind"], job["library"]
    if kind == "import":
        start = time.perf_counter()
        if library == "ferrograd":
            import ferrograd  # noqa: F401
        else:
            import torch  # noqa: F401
        return {"seconds": time.perf_counter() - start}

    import numpy as np

    data = np.load(job["data"])
    baseline, _ = memory_status()
    if kind == "convnet_memory":
        return convnet_memory_worker(library, data, threads, baseline)
    if kind == "mnist_memory":
        x, y = data["x_train"], data["y_train"]
        spec_args = ((784, 512, 256, 128, 10), "softmax")
        batch_size = 64
    else:
        x, y = data["x"], data["y"]
        spec_args = ((20, 64, 64, 1), "sigmoid")
        batch_size = 32
    sys.path.insert(0, str(HERE))
    import peers as p

    if library == "ferrograd":
        import ferrograd as fg

        fg.set_num_threads(threads)
        fit = p.ferrograd_mlp_fit
    else:
        import torch

        torch.set_num_threads(threads)
        fit = p.torch_mlp_fit
    spec = p.MlpSpec(*spec_args)
    weights = p.initial_mlp_weights(spec) if library == "ferrograd" else _torch_initial(spec)
    after_data, _ = memory_status()
    if kind == "scaling":
        warm_up = min(1000, len(x) // 2)
        fit(spec, weights, x[:warm_up], y[:warm_up], batch_size=batch_size, epochs=1)
    seconds, _ = fit(spec, weights, x, y, batch_size=batch_size, epochs=1)
    _, peak = memory_status()
    return {
        "seconds": seconds,
        "peak_mb": peak,
        "after_import_and_data_mb": after_data,
        "before_import_mb": baseline,
        "data_mb": sum(data[name].nbytes for name in data.files) / 2**20,
    }


def convnet_memory_worker(library, data, threads, baseline):
    """One epoch of case 9 in this fresh process; its peak memory, and the part of it above
    the process just before ``fit`` (imports, data and model already made)."""
    x, y = data["x"], data["y"]
    weights = [data[f"w{i}"] for i in range(len(data.files) - 2)]
    sys.path.insert(0, str(HERE))
    import peers as p

    if library == "ferrograd":
        import ferrograd as fg

        fg.set_num_threads(threads)
        targets = p.one_hot(y)

        def fit():
            return p.ferrograd_convnet_fit(weights, x, targets, batch_size=128)
    else:
        import torch

        torch.set_num_threads(threads)

        def fit():
            return p.torch_convnet_fit(weights, x, y, batch_size=128)

    before_fit, _ = memory_status()
    seconds, _ = fit()
    _, peak = memory_status()
    return {
        "seconds": seconds,
        "peak_mb": peak,
        "fit_growth_mb": peak - before_fit,
        "before_fit_mb": before_fit,
        "before_import_mb": baseline,
        "data_mb": sum(data[name].nbytes for name in data.files) / 2**20,
    }


def _torch_initial(spec):
    """Initial weights made by PyTorch, so that its process never loads ferrograd."""
    import torch

    torch.manual_seed(0)
    weights = []
    for fan_in, fan_out in zip(spec.sizes[:-1], spec.sizes[1:], strict=True):
        linear = torch.nn.Linear(fan_in, fan_out)
        weights += [linear.weight.detach().numpy().T.copy(), linear.bias.detach().numpy()]
    return weights


def fresh_process_libraries(ctx):
    return ["ferrograd"] + (["torch"] if "torch" in ctx.peers else [])


def case_scaling(ctx):
    import numpy as np

    sizes = (1_000,) if ctx.smoke else (10_000, 100_000, 1_000_000)
    for rows in sizes:
        # A million rows take PyTorch minutes per epoch on a busy machine: one run each there.
        repeats = min(ctx.repeats, 3) if rows <= 100_000 else 1
        x, y = synthetic(rows)
        path = ctx.scratch / f"synthetic{rows}.npz"
        np.savez(path, x=x, y=y)
        data_mb = (x.nbytes + y.nbytes) / 2**20
        runs = {name: [] for name in fresh_process_libraries(ctx)}
        for round_index in range(repeats):
            for library in runs:
                result = run_worker(ctx, {"kind": "scaling", "library": library, "data": str(path)})
                if result is None:
                    continue
                runs[library].append(result)
                print(
                    f"  case 6 ({rows} rows): {library} run {round_index + 1}: "
                    f"{result['seconds']:.3f} s, peak {result['peak_mb']:.0f} MB",
                    flush=True,
                )
        runs = {library: results for library, results in runs.items() if results}
        title = f"{rows:,} rows x 20 features ({data_mb:.1f} MB of data), batch 32"
        ctx.entries.append(entry(6, f"scaling_{rows}_time", f"{title}: one epoch", "s", runs))
        ctx.entries.append(
            entry(
                6,
                f"scaling_{rows}_memory",
                f"{title}: peak resident memory",
                "MB",
                runs,
                value="peak_mb",
                notes=["each run in a fresh process after a warm-up epoch on 1,000 rows"],
            )
        )
        path.unlink()


def case_startup(ctx):
    libraries = fresh_process_libraries(ctx)
    runs = {name: [] for name in libraries}
    if not ctx.smoke:
        for library in libraries:  # warm-up: brings the files into the page cache
            run_worker(ctx, {"kind": "import", "library": library})
    for round_index in range(ctx.repeats):
        for library in libraries:
            result = run_worker(ctx, {"kind": "import", "library": library})
            runs[library].append(result)
            print(f"  case 7 import: {library} run {round_index + 1}: {result['seconds']:.3f} s")
    ctx.entries.append(entry(7, "import_time", "import time, fresh process", "s", runs))

    data = str(ctx.mnist_file())
    memory_runs = {name: [] for name in libraries}
    for library in libraries:
        result = run_worker(ctx, {"kind": "mnist_memory", "library": library, "data": data})
        if result is None:
            continue
        memory_runs[library].append(result)
        print(f"  case 7 memory: {library}: peak {result['peak_mb']:.0f} MB")
    memory_runs = {library: results for library, results in memory_runs.items() if results}
    ctx.entries.append(
        entry(
            7,
            "mnist_peak_memory",
            "peak resident memory of case 1 (one epoch), fresh process",
            "MB",
            memory_runs,
            value="peak_mb",
            notes=["one run each; data_mb: the MNIST arrays both processes load"],
        )
    )


def case_text(ctx):
    import numpy as np
    import peers as p

    spec = p.TextSpec()
    sequences, length, batch_size = (64 if ctx.smoke else 2000), 80, 64
    rng = np.random.default_rng(0)
    x = rng.integers(1, spec.vocabulary, (sequences, length)).astype(np.int32)
    y = rng.integers(0, 2, sequences).astype(np.float32)
    fits = {"ferrograd": p.ferrograd_text_fit}
    if "torch" in ctx.peers:
        fits["torch"] = p.torch_text_fit
    if "keras" in ctx.peers:
        fits["keras"] = p.keras_text_fit
    runners = {
        name: (lambda fit=fit: {"seconds": fit(spec, x, y, batch_size=batch_size)})
        for name, fit in fits.items()
    }
    runs = alternate(runners, ctx.repeats, "case 8", warm_up=not ctx.smoke)
    notes = ["random token ids and labels"]
    if "jax" in ctx.peers:
        notes.append("no hand-written JAX LSTM: Keras on the JAX backend stands for it")
    text = entry(
        8,
        "text_lstm",
        f"Embedding-LSTM-LSTM text classifier: one epoch, {sequences} sequences of "
        f"{length}, batch {batch_size}",
        "s",
        runs,
        notes=notes,
    )
    ctx.entries.append(text)
    floor = case_text_floor(ctx, text, spec, sequences, length, batch_size)
    add_rate_bound(ctx, text, floor["gflop"])


def case_text_floor(ctx, text, spec, sequences, length, batch_size):
    """The GEMMs of case 8's epoch alone (both LSTM layers, forward and backward), at their
    exact shapes, through numpy's BLAS and PyTorch's: what these libraries need for the
    multiply-adds alone. Returns the entry it adds."""
    full, last = divmod(sequences, batch_size)
    groups = []
    for batch, count in [(batch_size, full), (last, 1)]:
        if count and batch:
            shapes = lstm_training_gemms(spec.embedding, spec.units, batch, length)
            shapes += lstm_training_gemms(spec.units, spec.units, batch, length)
            groups.append((shapes, count))
    gflop = 2 * sum(m * k * n * count for shapes, count in groups for m, k, n, _, _ in shapes) / 1e9
    runs = gemm_floor_runs(ctx, groups, "case 8 floor")
    result = entry(
        8,
        "text_lstm_gemm_floor",
        f"case 8's GEMMs alone: two LSTM layers, forward and backward, {gflop:.0f} GFLOP",
        "s",
        runs,
    )
    floor = min(summary["median"] for summary in result["libraries"].values())
    epoch = text["libraries"]["ferrograd"]["median"]
    result.update(
        floor_seconds=floor,
        gflop=gflop,
        ferrograd_epoch_seconds=epoch,
        ferrograd_over_floor=epoch / floor,
        epoch_case=8,
        ratios={"floor": epoch / floor},
    )
    if "torch" in text["libraries"]:
        torch_epoch = text["libraries"]["torch"]["median"]
        result["notes"].append(
            f"PyTorch's epoch is {torch_epoch / floor:.2f}x this floor, so 0.5x PyTorch's time "
            f"is {0.5 * torch_epoch / floor:.2f}x it"
        )
    ctx.entries.append(result)
    return result


# The keras.io MNIST convnet as im2col GEMMs, per image: (output positions, patch length,
# filters) of each convolution, and the Dense layer's (1, fan_in, units).
CONVNET_GEMMS = ((26 * 26, 3 * 3 * 1, 32), (11 * 11, 3 * 3 * 32, 64), (1, 1600, 10))


def convnet_gflop(images, training):
    """The multiply-adds (x2) of the convnet's GEMMs over ``images``: the forward products;
    in training also the weight gradients and the input gradients (none for the first
    convolution, whose input needs none)."""
    per_image = 0
    for i, (m, k, n) in enumerate(CONVNET_GEMMS):
        products = 1 if not training else (2 if i == 0 else 3)
        per_image += products * m * k * n
    return 2 * per_image * images / 1e9


def convnet_images(x):
    """MNIST rows of 784 as (N, 28, 28, 1) images."""
    return x.reshape(-1, 28, 28, 1)


def case_convnet(ctx):
    import peers as p

    (x_train, y_train), _, _ = ctx.mnist
    images, batch_size = convnet_images(x_train), 128
    one_hot = p.one_hot(y_train)
    weights = p.initial_convnet_weights()
    fits = {
        "ferrograd": lambda: p.ferrograd_convnet_fit(
            weights, images, one_hot, batch_size=batch_size
        )
    }
    if "torch" in ctx.peers:
        fits["torch"] = lambda: p.torch_convnet_fit(weights, images, y_train, batch_size=batch_size)
    if "keras" in ctx.peers:
        fits["keras"] = lambda: p.keras_convnet_fit(weights, images, one_hot, batch_size=batch_size)
    runners = {name: (lambda fit=fit: {"seconds": fit()[0]}) for name, fit in fits.items()}
    runs = alternate(runners, ctx.repeats, "case 9", warm_up=not ctx.smoke)
    notes = ["same initial weights in every library; PyTorch on (N, 1, 28, 28) images"]
    if "jax" in ctx.peers:
        notes.append("no hand-written JAX convnet: Keras on the JAX backend stands for it")
    item = entry(
        9,
        "mnist_convnet",
        f"keras.io MNIST convnet: one epoch ({len(images)} images), batch {batch_size}",
        "s",
        runs,
        notes=notes,
    )
    add_rate_bound(ctx, item, convnet_gflop(len(images), training=True))
    ctx.entries.append(item)
    case_convnet_memory(ctx, images, y_train, weights)


def case_convnet_memory(ctx, images, labels, weights):
    """Peak resident memory of case 9's epoch, each library in a fresh process given the same
    arrays (the images, the labels and the initial weights, so that PyTorch's process never
    loads ferrograd). PyTorch's (N, 1, 28, 28) view of the images is the same memory."""
    import numpy as np

    path = ctx.scratch / "convnet_memory.npz"
    arrays = {f"w{i}": w for i, w in enumerate(weights)}
    np.savez(path, x=images, y=labels, **arrays)
    runs = {name: [] for name in fresh_process_libraries(ctx)}
    for library in runs:
        result = run_worker(ctx, {"kind": "convnet_memory", "library": library, "data": str(path)})
        if result is None:
            continue
        runs[library].append(result)
        print(
            f"  case 9 memory: {library}: peak {result['peak_mb']:.0f} MB, "
            f"{result['fit_growth_mb']:.0f} MB above the process before fit",
            flush=True,
        )
    path.unlink()
    runs = {library: results for library, results in runs.items() if results}
    notes = ["one run each in a fresh process; data_mb: the arrays both processes load"]
    ctx.entries.append(
        entry(9, "mnist_convnet_peak_memory", "peak resident memory of case 9's epoch", "MB",
              runs, value="peak_mb", notes=notes)
    )  # fmt: skip
    ctx.entries.append(
        entry(
            9,
            "mnist_convnet_fit_memory",
            "case 9's epoch: peak resident memory above the process before fit (imports, data "
            "and model made)",
            "MB",
            runs,
            value="fit_growth_mb",
            notes=notes,
        )
    )


def case_convnet_predict(ctx):
    import numpy as np
    import peers as p

    _, (x_test, _), _ = ctx.mnist
    images, batch_size = convnet_images(x_test), 32
    weights = p.initial_convnet_weights()
    model = p.ferrograd_convnet()
    model.set_weights(weights)
    predictors = {"ferrograd": lambda: p.ferrograd_predict(model, images, batch_size=batch_size)}
    if "torch" in ctx.peers:
        net = p.torch_convnet(weights)
        predictors["torch"] = lambda: p.torch_convnet_predict(net, images, batch_size=batch_size)
    if "keras" in ctx.peers:
        keras_model = p.keras_convnet(weights)
        predictors["keras"] = lambda: p.keras_predict(keras_model, images, batch_size=batch_size)
    reference = predictors["ferrograd"]()[1]

    def runner(predict):
        def run():
            seconds, outputs = predict()
            return {"seconds": seconds, "max_abs_diff": float(np.abs(outputs - reference).max())}

        return run

    runs = alternate(
        {name: runner(f) for name, f in predictors.items()},
        ctx.repeats,
        "case 10",
        warm_up=not ctx.smoke,
    )
    item = entry(
        10,
        "mnist_convnet_predict",
        f"predict with case 9's convnet on {len(images)} MNIST test images, batch {batch_size}",
        "s",
        runs,
        notes=["max_abs_diff: largest difference from ferrograd's outputs (same weights)"],
    )
    add_rate_bound(ctx, item, convnet_gflop(len(images), training=False))
    ctx.entries.append(item)


def case_transformer(ctx):
    import numpy as np
    import peers as p

    spec = p.TransformerSpec()
    rows, batch_size = (64 if ctx.smoke else ctx.args.transformer_rows), 32
    rng = np.random.default_rng(0)
    x = rng.integers(1, spec.vocabulary, (rows, spec.length)).astype(np.int32)
    y = rng.integers(0, 2, rows).astype(np.int64)
    fits = {"ferrograd": p.ferrograd_transformer_fit}
    if "torch" in ctx.peers:
        fits["torch"] = p.torch_transformer_fit
    if "keras" in ctx.peers:
        fits["keras"] = p.keras_transformer_fit
    runners = {
        name: (lambda fit=fit: {"seconds": fit(spec, x, y, batch_size=batch_size)})
        for name, fit in fits.items()
    }
    runs = alternate(runners, ctx.repeats, "case 11", warm_up=not ctx.smoke)
    notes = [
        "random token ids and labels; ferrograd and Keras feed the positions as a second input",
        "PyTorch's nn.MultiheadAttention splits embed_dim over the heads (head size 16); "
        "Keras's key_dim=embed_dim gives each head 32",
    ]
    if "jax" in ctx.peers:
        notes.append("no hand-written JAX Transformer: Keras on the JAX backend stands for it")
    ctx.entries.append(
        entry(
            11,
            "transformer_text",
            f"keras.io Transformer text classifier: one epoch, {rows} sequences of "
            f"{spec.length}, batch {batch_size}",
            "s",
            runs,
            notes=notes,
        )
    )


def case_subclassed(ctx):
    """The MNIST MLP of case 1 written as a subclassed Model: traced (against the same model
    as Sequential), and with run_eagerly=True (against PyTorch's eager loop)."""
    import peers as p

    (x_train, y_train), test, _ = ctx.mnist
    spec = p.MlpSpec(MNIST_MLP, "softmax")
    weights = p.initial_mlp_weights(spec)

    def runner(fit, **options):
        def run():
            seconds, model = fit(
                spec, weights, x_train, y_train, batch_size=64, epochs=1, **options
            )
            return {"seconds": seconds}

        return run

    traced = {
        "ferrograd": runner(p.ferrograd_subclassed_mlp_fit),
        "sequential": runner(p.ferrograd_mlp_fit),
    }
    runs = alternate(traced, ctx.repeats, "case 12 (traced)", warm_up=not ctx.smoke)
    ctx.entries.append(
        entry(
            12,
            "subclassed_mlp",
            f"MNIST MLP as a subclassed Model (traced) against Sequential: one epoch "
            f"({len(x_train)} images, batch 64)",
            "s",
            runs,
            notes=["'sequential' is ferrograd's Sequential model from the same weights"],
        )
    )
    eager = {"ferrograd": runner(p.ferrograd_subclassed_mlp_fit, run_eagerly=True)}
    if "torch" in ctx.peers:
        eager["torch"] = runner(p.torch_mlp_fit)
    runs = alternate(eager, ctx.repeats, "case 12 (eager)", warm_up=not ctx.smoke)
    ctx.entries.append(
        entry(
            12,
            "subclassed_mlp_eager",
            f"MNIST MLP as a subclassed Model with run_eagerly=True: one epoch "
            f"({len(x_train)} images, batch 64)",
            "s",
            runs,
            notes=["ferrograd runs call() in Python per batch on its autograd, as PyTorch does"],
        )
    )


CASES = {
    1: lambda ctx: case_mnist_mlp(ctx, 64, 1),
    2: lambda ctx: (case_mnist_mlp(ctx, 32, 2), case_mnist_mlp(ctx, 256, 2)),
    3: case_walkthrough,
    4: case_predict,
    5: case_floor,
    6: case_scaling,
    7: case_startup,
    8: case_text,
    9: case_convnet,
    10: case_convnet_predict,
    11: case_transformer,
    12: case_subclassed,
}


# --- main ----------------------------------------------------------------------------------


def load_peers(requested, threads):
    """The peers that import, each set to ``threads``; a note for each that does not."""
    available, notes = [], []
    for peer in requested:
        try:
            if peer == "torch":
                import torch

                torch.set_num_threads(threads)
            elif peer == "jax":
                import jax  # noqa: F401
            elif peer == "keras":
                import keras

                if keras.backend.backend() != "jax":
                    raise ImportError(f"Keras runs on {keras.backend.backend()}, not JAX")
        except ImportError as error:
            notes.append(f"{peer} skipped: not installed ({error})")
            print(f"note: {peer} skipped: not installed ({error})")
            continue
        available.append(peer)
    return available, notes


def main(argv=None):
    args = parse_args(argv)
    xla_threads = limit_threads(args.threads)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker), args.threads)))
        return 0
    sys.path.insert(0, str(HERE))
    import report
    from threadpoolctl import threadpool_limits

    import ferrograd as fg

    fg.set_num_threads(args.threads)
    peers, notes = load_peers(args.peers, args.threads)
    ctx = Context(args, peers)
    ctx.notes += notes + [xla_threads]
    started = time.time()
    load_before = os.getloadavg()
    case_seconds = {}
    with threadpool_limits(args.threads):
        for case in args.cases:
            print(f"case {case}", flush=True)
            case_started = time.perf_counter()
            CASES[case](ctx)
            case_seconds[case] = time.perf_counter() - case_started
            print(f"case {case} took {case_seconds[case]:.1f} s", flush=True)
    result = {
        "machine": report.machine(args.threads, peers),
        "settings": {
            "threads": args.threads,
            "repeats": args.repeats,
            "smoke": args.smoke,
            "cases": args.cases,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "wall_seconds": time.time() - started,
            "case_seconds": case_seconds,
        },
        "notes": ctx.notes,
        "entries": ctx.entries,
    }
    result["targets"] = report.targets(ctx.entries)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    report.print_table(result)
    report.chart(result, args.chart)
    print(f"\nwrote {args.out} and {args.chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
