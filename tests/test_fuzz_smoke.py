"""A short run of the fuzzers in fuzz/ (the full runs take a larger budget by hand)."""

import importlib.util
from pathlib import Path

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"


def load(name):
    spec = importlib.util.spec_from_file_location(name, FUZZ / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_file_loaders_survive_random_and_mutated_inputs():
    load("fuzz_model_file").run(examples=300)
