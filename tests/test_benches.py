"""The benchmark harness runs end to end (``compare.py --smoke``) and writes every case."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ROOT / "benches"
sys.path.insert(0, str(BENCHES))

import compare  # noqa: E402

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")
pytest.importorskip("threadpoolctl")


def test_training_gemms_of_the_mnist_mlp_are_156_gflop_per_epoch():
    shapes = compare.training_gemms(compare.MNIST_MLP, 64)
    # Four forward and four weight-gradient GEMMs; no input gradient for the first layer.
    assert len(shapes) == 11
    assert shapes[0] == (64, 784, 512, False, False)
    assert shapes[1] == (784, 64, 512, True, False)
    assert shapes[2] == (64, 512, 256, False, False)
    assert shapes[4] == (64, 256, 512, False, True)  # dz @ W^T into the first layer's output
    flops = 2 * sum(m * k * n for m, k, n, _, _ in shapes) * 938
    assert flops / 1e9 == pytest.approx(155.9, abs=0.1)


def test_the_mnist_convnet_gemms_are_14_mflop_per_training_image():
    # conv1 (26*26 x 9 x 32) forward and kernel gradient; conv2 (11*11 x 288 x 64) and the
    # Dense layer (1600 x 10) forward, kernel and input gradients.
    per_image = 2 * (2 * 676 * 9 * 32 + 3 * 121 * 288 * 64 + 3 * 1600 * 10)
    assert compare.convnet_gflop(1, training=True) == pytest.approx(per_image / 1e9)
    assert compare.convnet_gflop(60_000, training=True) == pytest.approx(855.4, abs=0.1)
    forward = 2 * (676 * 9 * 32 + 121 * 288 * 64 + 1600 * 10)
    assert compare.convnet_gflop(10_000, training=False) == pytest.approx(forward * 1e4 / 1e9)


def test_a_bad_case_number_is_refused_by_name():
    with pytest.raises(SystemExit):
        compare.parse_args(["--cases", "1,13"])


@pytest.fixture(scope="module")
def smoke_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "compare.json"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    completed = subprocess.run(
        # PyTorch is the one peer here, when installed: JAX and Keras add minutes of tracing
        # and compiling on a small machine (the full run and a local --smoke cover them).
        [
            sys.executable,
            str(BENCHES / "compare.py"),
            "--smoke",
            "--peers",
            "torch",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return json.loads(out.read_text()), out, completed.stdout


def test_smoke_run_writes_every_case_with_positive_times(smoke_result):
    result, out, _ = smoke_result
    cases = {entry["case"] for entry in result["entries"]}
    assert cases == set(compare.ALL_CASES)
    for entry in result["entries"]:
        floors = ("gemm_floor", "text_lstm_gemm_floor")
        assert "ferrograd" in entry["libraries"] or entry["key"] in floors, entry["key"]
        for name, summary in entry["libraries"].items():
            assert summary["median"] > 0, (entry["key"], name)
            assert summary["min"] <= summary["median"] <= summary["max"], (entry["key"], name)
    keys = {entry["key"] for entry in result["entries"]}
    assert {"mnist_mlp_batch64", "mnist_mlp_batch32", "mnist_mlp_batch256"} <= keys
    assert {"scaling_1000_memory", "scaling_1000_time", "import_time", "text_lstm"} <= keys
    assert "text_lstm_gemm_floor" in keys
    assert {"mnist_convnet", "mnist_convnet_predict"} <= keys
    assert "transformer_text" in keys
    assert {"subclassed_mlp", "subclassed_mlp_eager"} <= keys
    text_floor = next(e for e in result["entries"] if e["key"] == "text_lstm_gemm_floor")
    assert text_floor["gflop"] > 0 and text_floor["ferrograd_over_floor"] > 0
    assert out.with_suffix(".png").stat().st_size > 10_000
    assert result["machine"]["threads"] == 2
    assert result["settings"]["smoke"] is True


def test_smoke_run_trains_and_predicts_for_real(smoke_result):
    result, _, stdout = smoke_result
    entries = {entry["key"]: entry for entry in result["entries"]}
    real_mnist = not any(note.startswith("MNIST files not on disk") for note in result["notes"])
    for name, summary in entries["mnist_mlp_batch32"]["libraries"].items():
        # 16 steps on 512 real images already put most test digits in the right class.
        assert summary["test_accuracy"] > (0.6 if real_mnist else 0.0), name
    for name, summary in entries["mnist_predict"]["libraries"].items():
        assert summary["max_abs_diff"] < 1e-4, name  # every peer from ferrograd's weights
    for name, summary in entries["mnist_convnet_predict"]["libraries"].items():
        assert summary["max_abs_diff"] < 1e-4, name  # the convnet's weights convert exactly
    memory = entries["mnist_peak_memory"]["libraries"]["ferrograd"]
    assert memory["median"] >= memory["after_import_and_data_mb"] > memory["data_mb"]
    assert "targets (medians)" in stdout or not result["targets"]


def test_predict_and_lstm_carry_the_bound_of_their_gemms(smoke_result):
    result, _, _ = smoke_result
    entries = {entry["key"]: entry for entry in result["entries"]}
    predict = entries["mnist_predict"]
    rows = compare.SMOKE_TEST
    assert predict["gflop"] == pytest.approx(2 * 566_528 * rows / 1e9)  # 784-512-256-128-10
    text = entries["text_lstm"]
    assert text["gflop"] == entries["text_lstm_gemm_floor"]["gflop"]
    convnet, convnet_predict = entries["mnist_convnet"], entries["mnist_convnet_predict"]
    assert convnet["gflop"] == pytest.approx(compare.convnet_gflop(compare.SMOKE_TRAIN, True))
    assert convnet_predict["gflop"] == pytest.approx(compare.convnet_gflop(rows, False))
    for item in (predict, text, convnet, convnet_predict):
        rate = max(item["large_gemm_gflops"].values())
        assert rate > 0
        assert item["bound_seconds"] == pytest.approx(item["gflop"] / rate)
    for check in result["targets"]:
        case = check["target"].split(":")[0]
        item = {"case 4": predict, "case 8": text, "case 9": convnet}.get(case)
        item = item or {"case 10": convnet_predict}.get(case)
        if item is not None and "PyTorch" in check["target"]:
            torch_seconds = item["libraries"]["torch"]["median"]
            assert check["at_large_gemm_rate"] == pytest.approx(
                item["bound_seconds"] / torch_seconds
            )


def test_missing_peers_are_skipped_with_a_note(smoke_result):
    result, _, _ = smoke_result
    for peer in ("torch",):
        skipped = any(note.startswith(f"{peer} skipped") for note in result["notes"])
        if importlib.util.find_spec(peer) is None:
            assert skipped, peer
        elif not skipped:
            assert any(peer in entry["libraries"] for entry in result["entries"]), peer
