"""What compare.py writes: the machine it ran on, the targets, the table and the chart."""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata

# The instruction sets that decide how fast the kernels of each library can be.
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "amx_tile")


def machine(threads, peers):
    cpu = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                name, _, value = line.partition(":")
                name = name.strip()
                if name in ("model name", "flags") and name not in cpu:
                    cpu[name] = value.strip()
    except OSError:
        pass
    flags = cpu.get("flags", "").split()
    versions = {"python": platform.python_version()}
    for package in ("ferrograd", "numpy", "torch", "jax", "jaxlib", "keras", "threadpoolctl"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    blas = {}
    try:
        from threadpoolctl import threadpool_info

        blas["numpy"] = [
            f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')})"
            for info in threadpool_info()
            if info.get("user_api") == "blas"
        ]
    except ImportError:
        pass
    if "torch" in peers:
        import torch

        blas["torch"] = "MKL" if torch.backends.mkl.is_available() else "no MKL"
    return {
        "cpu": cpu.get("model name", platform.processor() or "unknown"),
        "simd_flags": [flag for flag in SIMD_FLAGS if flag in flags],
        "cpu_flags": flags,
        "cores": os.cpu_count(),
        "cores_allowed": len(os.sched_getaffinity(0)),
        "os": platform.platform(),
        "versions": versions,
        "blas": blas,
        "threads": threads,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _find(entries, key):
    return next((e for e in entries if e["key"] == key), None)


def targets(entries):
    """The project's targets, each with the measured value, the limit and whether it is met.
    A target whose measurement did not run (case not selected, peer missing) is left out."""
    checks = []

    def ratio(key, peer, limit, label):
        found = _find(entries, key)
        if found and peer in found["ratios"]:
            value = found["ratios"][peer]
            check = {"target": label, "value": value, "limit": limit, "met": value <= limit}
            if "bound_seconds" in found:
                # About the least ratio any implementation can reach: its GEMMs alone at the
                # best rate a large GEMM reached in the same run, over the peer's time.
                peer_seconds = found["libraries"][peer]["median"]
                check["at_large_gemm_rate"] = found["bound_seconds"] / peer_seconds
            checks.append(check)

    ratio("mnist_mlp_batch64", "torch", 0.6, "case 1: ferrograd / PyTorch <= 0.6")
    ratio("mnist_mlp_batch64", "jax", 1.0, "case 1: faster than JAX (ferrograd / JAX < 1)")
    floor = _find(entries, "gemm_floor")
    if floor and "ferrograd_over_floor" in floor:
        value = floor["ferrograd_over_floor"]
        checks.append(
            {"target": "case 1: epoch <= 1.5x the GEMM floor", "value": value, "limit": 1.5,
             "met": value <= 1.5}
        )  # fmt: skip
    ratio("walkthrough_fit", "torch", 0.1, "case 3: ferrograd / PyTorch <= 0.1")
    ratio("mnist_predict", "torch", 0.5, "case 4: ferrograd / PyTorch <= 0.5")
    ratio("mnist_peak_memory", "torch", 1.0, "case 7: peak memory of case 1 <= PyTorch's")
    imports = _find(entries, "import_time")
    if imports:
        value = imports["libraries"]["ferrograd"]["median"]
        checks.append(
            {"target": "case 7: import ferrograd < 0.2 s", "value": value, "limit": 0.2,
             "met": value < 0.2}
        )  # fmt: skip
    ratio("text_lstm", "torch", 0.5, "case 8: ferrograd / PyTorch <= 0.5")
    ratio("mnist_convnet", "torch", 0.7, "case 9: ferrograd / PyTorch <= 0.7")
    ratio("mnist_convnet", "keras", 1.0, "case 9: faster than Keras (ferrograd / Keras < 1)")
    ratio("mnist_convnet_predict", "torch", 0.5, "case 10: ferrograd / PyTorch <= 0.5")
    ratio("transformer_text", "torch", 0.7, "case 11: ferrograd / PyTorch <= 0.7")
    ratio("transformer_text", "keras", 1.0, "case 11: faster than Keras (ferrograd / Keras < 1)")
    ratio("subclassed_mlp", "sequential", 1.05, "case 12: subclassed (traced) / Sequential <= 1.05")
    ratio("subclassed_mlp_eager", "torch", 1.0, "case 12: run_eagerly / PyTorch's eager loop <= 1")
    return checks


def _format(value, unit):
    if unit == "MB":
        return f"{value:.0f}"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def print_table(result):
    machine_info = result["machine"]
    print(
        f"\n{machine_info['cpu']} ({', '.join(machine_info['simd_flags'])}), "
        f"{machine_info['threads']} threads, {machine_info['os']}"
    )
    print(
        f"{'case':<5}{'measure':<46}{'library':<11}{'median':>9}{'min-max':>17}"
        f"{'ferrograd/lib':>15}  other"
    )
    for item in result["entries"]:
        first = True
        for name, summary in item["libraries"].items():
            measure = f"{item['key']} ({item['unit']})" if first else ""
            first = False
            span = (
                f"{_format(summary['min'], item['unit'])}-{_format(summary['max'], item['unit'])}"
            )
            ratio = item["ratios"].get(name)
            ratio_text = f"{ratio:.2f}x" if ratio is not None else ""
            extras = ", ".join(
                f"{key} {value:.4g}"
                for key, value in summary.items()
                if key not in ("median", "min", "max", "runs")
            )
            print(
                f"{item['case']:<5}{measure:<46}{name:<11}"
                f"{_format(summary['median'], item['unit']):>9}{span:>17}{ratio_text:>15}  {extras}"
            )
        if "bound_seconds" in item:
            rate = max(item["large_gemm_gflops"].values())
            print(
                f"{'':<5}{'':<46}{'bound':<11}{_format(item['bound_seconds'], 's'):>9}"
                f"{'':>17}{'':>15}  {item['gflop']:.1f} GFLOP at {rate:.0f} GFLOP/s"
            )
        if "ferrograd_over_floor" in item:
            print(
                f"{'':<5}{'':<46}{'ferrograd':<11}"
                f"{_format(item['ferrograd_epoch_seconds'], 's'):>9}"
                f"{'(case ' + str(item.get('epoch_case', 1)) + ')':>17}"
                f"{item['ferrograd_over_floor']:>14.2f}x of the floor"
            )
    if result["targets"]:
        print("\ntargets (medians):")
        for check in result["targets"]:
            verdict = "met" if check["met"] else "MISSED"
            bound = check.get("at_large_gemm_rate")
            bound_text = (
                f" (its GEMMs alone at the large-GEMM rate: {bound:.3f})"
                if bound is not None
                else ""
            )
            print(f"  {verdict:<7}{check['target']}: {check['value']:.3f}{bound_text}")
    for note in result["notes"]:
        print(f"note: {note}")


COLOURS = {"ferrograd": "#c0392b", "torch": "#34495e", "jax": "#2980b9", "keras": "#8e44ad"}


def chart(result, path):
    """Small multiples: one panel per measurement, a bar per library (median, with the range
    as an error bar), ferrograd's fraction of each peer written over the peer's bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = result["entries"]
    columns = 4
    rows = max(1, -(-len(entries) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    for axis in axes.flat[len(entries) :]:
        axis.axis("off")
    for axis, item in zip(axes.flat[: len(entries)], entries, strict=True):
        names = list(item["libraries"])
        summaries = [item["libraries"][name] for name in names]
        if "ferrograd_epoch_seconds" in item:
            names.append("ferrograd\nepoch")
            epoch = item["ferrograd_epoch_seconds"]
            summaries.append({"median": epoch, "min": epoch, "max": epoch})
        medians = [s["median"] for s in summaries]
        errors = [
            [s["median"] - s["min"] for s in summaries],
            [s["max"] - s["median"] for s in summaries],
        ]
        colours = [COLOURS.get(name.split("\n")[0], "#7f8c8d") for name in names]
        axis.bar(names, medians, yerr=errors, color=colours, capsize=3)
        for position, name in enumerate(names):
            ratio = item["ratios"].get(name)
            if name == "ferrograd\nepoch" and "ferrograd_over_floor" in item:
                ratio = item["ferrograd_over_floor"]
            if ratio is not None:
                axis.annotate(
                    f"{ratio:.2f}x",
                    (position, medians[position]),
                    ha="center",
                    va="bottom",
                    xytext=(0, 4),
                    textcoords="offset points",
                    fontsize=8,
                )
        axis.set_title(f"{item['case']}. {item['key']}", fontsize=9)
        axis.set_ylabel(item["unit"])
        axis.set_ylim(0, max(medians + [s["max"] for s in summaries]) * 1.25)
        axis.tick_params(axis="x", labelsize=8)
    machine_info = result["machine"]
    smoke = " SMOKE RUN: tiny sizes, the times mean nothing." if result["settings"]["smoke"] else ""
    figure.suptitle(
        f"ferrograd / peer (annotated; lower is better): {machine_info['cpu']}, "
        f"{machine_info['threads']} threads, {machine_info['date'][:10]}.{smoke}",
        fontsize=10,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
