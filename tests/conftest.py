"""Shared test setup: the datasets folder and a fixed seed for every test."""

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("FERROGRAD_DATA", ROOT.parent / "shared" / "datasets"))
os.environ.setdefault("FERROGRAD_DATA", str(DATASETS))
# Keras 3 (in the test extra) runs on PyTorch, also in the test extra; a backend is chosen once
# per process, at its first import, so it is set here before any test imports Keras.
os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same generator state, in numpy and in ferrograd."""
    import ferrograd as fg

    fg.set_seed(0)
    np.random.seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
