"""ferrograd against an earlier build of itself, case by case, in one run.

    python benches/against_baseline.py --baseline-python /path/to/venv/bin/python \
        [--cases 1,3,4,8] [--repeats 5] [--threads 2] [--out FILE]

A refactor must not slow any case. This runs ``benches/compare.py`` (ferrograd alone, no peers)
under two interpreters: the one running this script (the code under test) and
``--baseline-python`` (a virtual environment with the earlier build installed, e.g. a wheel of
main built with ``maturin build --release``). The two alternate, one ``compare.py`` run each per
round, so that a slow spell of the machine falls on both; each case's median over the rounds is
compared, and a case slower than the baseline by more than ``--tolerance`` (3% by default) is
reported as a regression.

Which statistic decides (``--statistic``): the median by default. On this project's 2-core VMs
a whole process sometimes runs in a slow mode (case 1 measured 1.2 s in some processes and
2.5 s in others, for both builds alike), which no code change explains; with few rounds that
one-sided noise can swing a median. ``--statistic min`` compares each build's best round
instead, which that noise cannot lower. Both are printed either way.

Example:
    python3 -m venv --system-site-packages /tmp/base
    /tmp/base/bin/pip install --no-deps dist/ferrograd-*.whl   # the earlier build
    python benches/against_baseline.py --baseline-python /tmp/base/bin/python --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-python", required=True, help="interpreter of the baseline")
    parser.add_argument("--cases", default="1,3,4,8")
    parser.add_argument("--repeats", type=int, default=5, help="rounds (one run each per round)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=0.03, help="allowed slowdown")
    parser.add_argument(
        "--statistic", choices=("median", "min"), default="median", help="what is compared"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "against_baseline.json")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, received {args.repeats}")
    return args


def ferrograd_location(python: str) -> str:
    """Where an interpreter imports ferrograd from (to show which build each side ran)."""
    completed = subprocess.run(
        [python, "-c", "import ferrograd; print(ferrograd.__file__)"],
        check=True,
        capture_output=True,
        text=True,
    )
    return completed.stdout.strip()


def one_run(python: str, args, folder: Path, label: str) -> dict[str, float]:
    """One ``compare.py`` run (one timed repeat after its warm-up): ferrograd's median seconds
    for every entry, by entry key."""
    out = folder / f"{label}.json"
    command = [
        python,
        str(HERE / "compare.py"),
        "--cases",
        args.cases,
        "--peers",
        "",
        "--repeats",
        "1",
        "--threads",
        str(args.threads),
        "--out",
        str(out),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=HERE.parent)
    result = json.loads(out.read_text())
    times = {}
    for entry in result["entries"]:
        ours = entry["libraries"].get("ferrograd")
        if ours is not None and entry["unit"] == "s":
            times[f"{entry['case']}:{entry['key']}"] = ours["median"]
    return times


def main(argv=None) -> int:
    args = parse_args(argv)
    sides = {"new": sys.executable, "baseline": args.baseline_python}
    locations = {name: ferrograd_location(python) for name, python in sides.items()}
    for name, location in locations.items():
        print(f"{name}: ferrograd from {location}")
    if locations["new"] == locations["baseline"]:
        print("both interpreters import the same ferrograd; nothing to compare")
        return 2
    runs: dict[str, dict[str, list[float]]] = {name: {} for name in sides}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        for round_index in range(args.repeats):
            for name, python in sides.items():
                times = one_run(python, args, Path(folder), f"{name}-{round_index}")
                for key, seconds in times.items():
                    runs[name].setdefault(key, []).append(seconds)
                print(f"round {round_index + 1} {name}: {times}", flush=True)
    rows, regressions = [], []
    for key in sorted(runs["new"]):
        row = {"entry": key}
        for name, summary in (("median", statistics.median), ("min", min)):
            new = summary(runs["new"][key])
            base = summary(runs["baseline"].get(key, [float("nan")]))
            row[name] = {"new": new, "baseline": base, "ratio": new / base if base > 0 else 0.0}
        rows.append(row)
        if row[args.statistic]["ratio"] > 1 + args.tolerance:
            regressions.append(key)
    columns = ("median: base s", "new s", "ratio", "min: base s", "new s", "ratio")
    widths = (15, 8, 6, 15, 8, 6)
    print("\n" + " " * 28 + " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        median, best = row["median"], row["min"]
        print(
            f"{row['entry']:<28} {median['baseline']:>15.4f} {median['new']:>8.4f} "
            f"{median['ratio']:>6.3f} {best['baseline']:>15.4f} {best['new']:>8.4f} "
            f"{best['ratio']:>6.3f}"
        )
    result = {
        "locations": locations,
        "settings": vars(args) | {"out": str(args.out)},
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "runs": runs,
        "rows": rows,
        "regressions": regressions,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    if regressions:
        print(
            f"slower than the baseline by more than {args.tolerance:.0%} "
            f"({args.statistic}): {regressions}"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
