"""Fuzzes the model-file and weights loaders with hypothesis for a fixed budget.

Inputs are random bytes, and valid files (a model archive and a safetensors weights file) with
random bytes flipped, cut or inserted. Every input must either load or raise one of the
documented errors (``FileFormatError``, a ``ValueError``; ``OSError``); anything else - another
exception, a crash, a hang - is a failure.

    python fuzz/fuzz_model_file.py --examples 2000      # a longer run
    pytest tests/test_fuzz_smoke.py                      # the short run CI does
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferrograd as fg
from ferrograd import layers


def reference_files() -> tuple[bytes, bytes]:
    """A small model file and a weights file to mutate."""
    model = fg.Sequential([layers.Dense(3, activation="relu", input_shape=(4,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    with tempfile.TemporaryDirectory() as folder:
        model.save(os.path.join(folder, "m.fgm"))
        model.save_weights(os.path.join(folder, "w.safetensors"))
        with (
            open(os.path.join(folder, "m.fgm"), "rb") as f,
            open(os.path.join(folder, "w.safetensors"), "rb") as g,
        ):
            return f.read(), g.read()


MODEL_FILE, WEIGHTS_FILE = reference_files()


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "overwrite"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[position : position + draw(st.integers(1, 64))]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=32))
        elif data:
            value = draw(st.sampled_from([b"\xff" * 8, b"\x00" * 8, b"\x7f\xff\xff\xff"]))
            data[position : position + len(value)] = value
    return bytes(data)


def inputs(original: bytes):
    return st.one_of(st.binary(max_size=4096), mutated(original))


def load_model_bytes(data: bytes) -> None:
    with tempfile.NamedTemporaryFile(suffix=".fgm", delete=False) as f:
        f.write(data)
    try:
        fg.models.load_model(f.name)
    except (ValueError, OSError):
        pass
    finally:
        os.unlink(f.name)


def load_weights_bytes(data: bytes) -> None:
    model = fg.Sequential([layers.Dense(3, activation="relu", input_shape=(4,)), layers.Dense(2)])
    with tempfile.NamedTemporaryFile(suffix=".safetensors", delete=False) as f:
        f.write(data)
    try:
        model.load_weights(f.name)
    except (ValueError, OSError):
        pass
    finally:
        os.unlink(f.name)


def run(examples: int) -> None:
    budget = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    budget(given(inputs(MODEL_FILE))(load_model_bytes))()
    budget(given(inputs(WEIGHTS_FILE))(load_weights_bytes))()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="inputs per loader")
    args = parser.parse_args(argv)
    run(args.examples)
    print(f"fuzzed the model-file and weights loaders with {args.examples} inputs each: no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
