"""Data-parallel training over MPI (``ferrograd.distribution``): jobs of 2 and 3 processes on the
loopback, launched with ``mpiexec`` from each test, against one process trained on the same
global batches; and the faults (a process that raises, one that is killed, processes that
disagree, a job killed and resumed). The program they run is tests/distributed_worker.py."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

WORKER = Path(__file__).resolve().parent / "distributed_worker.py"


def find_mpiexec():
    """The mpiexec next to this Python (the MPICH wheel's), else the one on the PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    return shutil.which("mpiexec")


MPIEXEC = find_mpiexec()
pytestmark = pytest.mark.skipif(
    MPIEXEC is None or importlib.util.find_spec("mpi4py") is None,
    reason="needs mpiexec and mpi4py: pip install 'ferrograd[distributed]' (mpi4py, mpich)",
)


def run(processes, *arguments, timeout=60, check=True, threads="1"):
    """Runs the worker alone (``processes`` None) or under ``mpiexec -n processes``; returns
    the completed process and its wall time. ``threads``: FERROGRAD_NUM_THREADS (None: unset)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("FERROGRAD_NUM_THREADS", None)
    if threads is not None:
        env["FERROGRAD_NUM_THREADS"] = threads
    command = [sys.executable, str(WORKER), *map(str, arguments)]
    if processes is not None:
        command = [MPIEXEC, "-n", str(processes), "-host", "127.0.0.1", *command]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    elapsed = time.monotonic() - start
    if check and done.returncode != 0:
        raise AssertionError(f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done, elapsed


def results(processes, mode, tmp_path, *options):
    out = tmp_path / f"{mode}-{processes}-{'-'.join(options)}.npz"
    if processes is None:
        run(None, mode, out, *options, "single")
    else:
        run(processes, mode, out, *options)
    return dict(np.load(out))


@pytest.mark.parametrize("processes", [2, 3])
def test_float64_weights_and_metrics_equal_one_process_on_the_global_batches(processes, tmp_path):
    # 70 rows in batches of 16: the last batch (6 rows) is split 3/3 or 2/2/2; with sample
    # weights, so that the loss's mean over the batch and the weights both matter.
    alone = results(None, "fit", tmp_path, "weighted")
    job = results(processes, "fit", tmp_path, "weighted")
    assert np.max(np.abs(job["weights"] - alone["weights"])) < 1e-10
    # The loss and the metrics in the logs are the global batch's.
    np.testing.assert_allclose(job["history_loss"], alone["history_loss"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        job["history_accuracy"], alone["history_accuracy"], rtol=0, atol=1e-12
    )
    assert abs(float(job["first_loss"]) - float(alone["first_loss"])) < 1e-10
    # So are every batch's logs (the metric states are summed with the gradients).
    np.testing.assert_allclose(job["batch_loss"], alone["batch_loss"], rtol=0, atol=1e-10)
    np.testing.assert_array_equal(job["batch_accuracy"], alone["batch_accuracy"])
    # Validation runs in full on every process: the same val_ logs.
    np.testing.assert_allclose(job["history_val_loss"], alone["history_val_loss"], atol=1e-10)
    # Training changed the weights (the comparison is not of two untrained models).
    fresh = results(None, "fit", tmp_path, "weighted")
    assert np.array_equal(fresh["weights"], alone["weights"])


def test_two_outputs_penalties_and_summed_metric_states_match_one_process(tmp_path):
    alone = results(None, "multi", tmp_path)
    job = results(3, "multi", tmp_path)
    assert np.max(np.abs(job["weights"] - alone["weights"])) < 1e-10
    keys = [key for key in alone if key.startswith("history_")]
    assert {"history_cls_auc", "history_cls_precision", "history_reg_loss"} <= set(keys)
    for key in keys:
        np.testing.assert_allclose(job[key], alone[key], rtol=0, atol=1e-10, err_msg=key)


def test_gradients_summed_in_several_buckets_during_backward_match_one_process(tmp_path):
    alone = results(None, "wide", tmp_path)
    job = results(2, "wide", tmp_path)
    # Per step: the last layer's bucket, the first kernel's, then the step's totals.
    assert float(job["starts_per_step"]) == 3
    assert np.max(np.abs(job["weights"] - alone["weights"])) < 1e-10
    np.testing.assert_allclose(job["history_loss"], alone["history_loss"], rtol=0, atol=1e-10)


def test_float32_loss_and_predictions_match_one_process(tmp_path):
    alone = results(None, "fit", tmp_path, "float32")
    job = results(2, "fit", tmp_path, "float32")
    assert abs(float(job["first_loss"]) - float(alone["first_loss"])) < 1e-6
    assert np.max(np.abs(job["predictions"] - alone["predictions"])) < 1e-3


def test_the_same_process_count_gives_the_same_bits(tmp_path):
    first = results(2, "fit", tmp_path, "float32")
    again = results(2, "fit", tmp_path, "float32", "again")
    assert first["weights"].tobytes() == again["weights"].tobytes()


def test_a_generator_sharded_by_process_trains_as_the_whole_batches(tmp_path):
    alone = results(None, "generator", tmp_path)
    job = results(2, "generator", tmp_path)
    assert np.max(np.abs(job["weights"] - alone["weights"])) < 1e-10
    np.testing.assert_allclose(job["history_loss"], alone["history_loss"], rtol=0, atol=1e-10)


def test_a_hand_written_loop_with_broadcast_and_all_reduce(tmp_path):
    alone = results(None, "loop", tmp_path)
    job = results(2, "loop", tmp_path)
    assert np.max(np.abs(job["weights"] - alone["weights"])) < 1e-10


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_failing_process_ends_the_job_quickly(how, tmp_path):
    done, elapsed = run(2, how, tmp_path / "never.npz", check=False, timeout=60)
    assert done.returncode != 0
    assert elapsed < 10, f"the job took {elapsed:.1f} s to end"
    if how == "raise":
        assert "bad data in the shard of process 1" in done.stderr
        assert "process 1 failed" in done.stderr
    assert not (tmp_path / "never.npz").exists()


def test_processes_that_disagree_are_told_which_setting_differs(tmp_path):
    done, elapsed = run(2, "mismatch", tmp_path / "never.npz", check=False, timeout=60)
    assert done.returncode != 0
    assert elapsed < 10
    assert "disagree on model" in done.stderr
    shapes = "weight shapes (process 0: '[(5, 8), (8,), (8, 3), (3,)]', process 1: '[(5, 9)"
    assert shapes in done.stderr


def test_a_killed_job_resumes_from_its_backup_to_the_uninterrupted_weights(tmp_path):
    whole = tmp_path / "whole.npz"
    run(2, "resume", whole, tmp_path / "backup-whole", "-")
    resumed = tmp_path / "resumed.npz"
    marker = tmp_path / "killed"
    killed, _ = run(2, "resume", resumed, tmp_path / "backup", marker, check=False)
    assert killed.returncode != 0 and marker.exists() and not resumed.exists()
    assert (tmp_path / "backup").exists()
    run(2, "resume", resumed, tmp_path / "backup", marker)
    assert np.array_equal(np.load(resumed)["weights"], np.load(whole)["weights"])
    # The backup is removed once training has finished.
    assert not (tmp_path / "backup").exists()


def test_initialize_gives_each_process_its_share_of_the_cores(tmp_path):
    out = tmp_path / "threads.npz"
    run(2, "threads", out, threads=None)
    cores = len(os.sched_getaffinity(0))
    assert int(np.load(out)["threads"]) == max(1, cores // 2)


def test_import_ferrograd_does_not_import_mpi4py():
    code = "import sys, ferrograd; assert 'mpi4py' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
