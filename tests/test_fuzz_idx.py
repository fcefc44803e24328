"""A short run of fuzz/fuzz_idx.py, the IDX reader's fuzzer (longer runs are by hand)."""

import subprocess
import sys
from pathlib import Path

FUZZER = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_idx.py"


def test_the_idx_reader_survives_random_hostile_and_damaged_files():
    # A process of its own: the fuzzer caps its address space, so that a reservation of what a
    # hostile header declares fails loudly instead of passing unnoticed.
    result = subprocess.run(
        [sys.executable, str(FUZZER), "--examples", "300"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fuzzed the IDX reader with 300 inputs" in result.stdout
    assert "no failure" in result.stdout
    if sys.platform.startswith("linux"):
        assert "under an address-space limit" in result.stdout
