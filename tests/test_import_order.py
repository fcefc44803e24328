"""ferrograd loaded beside the libraries users load with it: its thread-locals must leave room
in glibc's static TLS surplus for the OpenMP runtimes that scikit-learn and PyTorch dlopen later
(each needs initial-exec TLS). A thread-local grown by a few dozen bytes once made
``import ferrograd, sklearn; import torch`` fail with "cannot allocate memory in static TLS
block"."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "imports",
    [
        "import ferrograd, sklearn; import torch",
        "import ferrograd, sklearn.model_selection; import torch",
    ],
)
def test_torch_loads_after_ferrograd_and_scikit_learn(imports):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    done = subprocess.run(
        [sys.executable, "-c", imports + "; print('loaded')"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr[-2000:]
