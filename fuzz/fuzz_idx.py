"""Fuzzes the IDX reader (``ferrograd._core.read_idx``) with hypothesis for a fixed budget.

Inputs are random bytes (some behind a gzip magic number), IDX files built with random type
codes, dimension counts, dimensions (small or huge), data lengths and limits, raw or gzipped,
and such files with bytes flipped, cut or inserted. Each input is written to a file and read.

The reader must agree with a reference parser written here in Python: a raw file, or a gzip
file that was not mutated, loads exactly when the reference accepts it, with the same shape,
values and SHA-256; anything the reader loads must be a valid file. Every other input must
raise ``FileFormatError``; any other exception (a ``RuntimeError`` is a Rust panic, a
``MemoryError`` a reservation the header asked for), a crash or a hang is a failure. As a
script, the process runs under an address-space limit a little above what it needs, so a
reader that reserved what a hostile header declares fails with ``MemoryError``.

    python fuzz/fuzz_idx.py --seconds 60          # a longer run
    python fuzz/fuzz_idx.py --examples 300        # the short run the tests do
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import math
import os
import sys
import tempfile
import time
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferrograd._core import read_idx
from ferrograd.errors import FileFormatError

DEFAULT_MAX_BYTES = 1 << 30
# Above what the interpreter and the inputs need, far below the gigabyte a header can claim.
ADDRESS_SPACE_HEADROOM = 256 << 20

# ---- The reference ------------------------------------------------------------------------------


def reference_parse(content: bytes, max_bytes: int):
    """``(shape, values)`` of a valid decompressed IDX file of unsigned bytes, else None."""
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] != 0x08:
        return None
    ndim = content[3]
    header_len = 4 + 4 * ndim
    if not 1 <= ndim <= 4 or len(content) < header_len:
        return None
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    total = header_len + math.prod(shape)
    if total > max_bytes or len(content) != total:
        return None
    # Numpy refuses a shape whose non-zero dimensions multiply past the largest array size.
    if math.prod(d for d in shape if d) > sys.maxsize:
        return None
    return shape, content[header_len:]


def python_gunzip(data: bytes) -> bytes | None:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return None


# ---- The inputs ---------------------------------------------------------------------------------


@st.composite
def idx_content(draw) -> bytes:
    """Decompressed IDX bytes, mostly valid, with every header field sometimes wrong."""
    zeros = draw(st.sampled_from([b"\x00\x00"] * 8 + [b"\x00\x01", b"\x1f\x8b", b"PK"]))
    type_code = draw(st.sampled_from([0x08] * 8 + [0x00, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0xFF]))
    ndim = draw(st.sampled_from([1, 2, 3] * 4 + [0, 4, 5, 255]))
    small = st.integers(0, 6)
    huge = st.sampled_from([2**16, 2**31 - 1, 2**31, 2**32 - 1]) | st.integers(0, 2**32 - 1)
    # A header that declares many dimensions is given a few: it is rejected before they count.
    count = min(ndim, 6)
    dim = small | huge if draw(st.booleans()) else small
    dims = draw(st.lists(dim, min_size=count, max_size=count))
    header = zeros + bytes([type_code, ndim]) + b"".join(d.to_bytes(4, "big") for d in dims)
    numel = math.prod(dims)
    data_len = numel if numel <= 2048 else draw(st.integers(0, 64))
    data_len = max(0, data_len + draw(st.sampled_from([0] * 6 + [-1, 1, -7, 100])))
    return header + draw(st.binary(min_size=data_len, max_size=data_len))


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[position : position + draw(st.integers(1, 16))]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[position:]
    return bytes(data)


@st.composite
def cases(draw):
    """``(file bytes, max_bytes or None, decompressed content the file is known to hold)``."""
    max_bytes = draw(st.none() | st.integers(0, 4096) | st.just(DEFAULT_MAX_BYTES))
    kind = draw(st.sampled_from(["random", "gzip-random", "raw", "gzip", "mutated"]))
    if kind == "random":
        return draw(st.binary(max_size=512)), max_bytes, None
    if kind == "gzip-random":
        return b"\x1f\x8b" + draw(st.binary(max_size=512)), max_bytes, None
    content = draw(idx_content())
    if kind == "raw":
        return content, max_bytes, content
    compressed = gzip.compress(content, compresslevel=draw(st.integers(0, 9)))
    if kind == "gzip":
        return compressed, max_bytes, content
    return draw(mutated(draw(st.sampled_from([content, compressed])))), max_bytes, None


# ---- The property -------------------------------------------------------------------------------


def check(path: str, data: bytes, max_bytes: int | None, known_content: bytes | None) -> None:
    with open(path, "wb") as f:
        f.write(data)
    limit = DEFAULT_MAX_BYTES if max_bytes is None else min(max_bytes, DEFAULT_MAX_BYTES)
    gzipped = data[:2] == b"\x1f\x8b"
    content = known_content if known_content is not None else data
    if gzipped and known_content is None:
        content = python_gunzip(data)
    expected = None if content is None else reference_parse(content, limit)
    try:
        array, sha256 = read_idx(path, max_bytes=max_bytes)
    except FileFormatError:
        # Where the content is certain, the reference must reject it too. (flate2 and Python's
        # gzip differ on damaged streams: Python accepts zero padding after the last member.)
        certain = not gzipped or known_content is not None
        assert expected is None or not certain, f"rejected a valid file of shape {expected[0]}"
        return
    assert expected is not None, "loaded a file that the reference rejects"
    shape, values = expected
    assert array.shape == shape, (array.shape, shape)
    assert array.tobytes() == values
    assert sha256 == hashlib.sha256(content).hexdigest()


def run(examples: int | None = None, seconds: float | None = None) -> int:
    """Fuzzes for `examples` inputs (deterministic) or for `seconds`; returns the inputs run."""
    folder = tempfile.mkdtemp(prefix="fuzz-idx-")
    path = os.path.join(folder, "input")
    count = 0

    def one(case):
        nonlocal count
        count += 1
        check(path, *case)

    try:
        if examples is not None:
            budget = settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            budget(given(cases())(one))()
        else:
            end = time.monotonic() + (seconds or 0)
            batch = settings(
                max_examples=500,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            while time.monotonic() < end:
                batch(given(cases())(one))()
    finally:
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(folder)
    return count


def limit_address_space() -> bool:
    """Caps the process's address space near its current size (Linux only)."""
    try:
        import resource

        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmSize:"))
    except (ImportError, OSError, StopIteration):
        return False
    limit = int(line.split()[1]) * 1024 + ADDRESS_SPACE_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=float, help="fuzz for this long (default 60)")
    budget.add_argument("--examples", type=int, help="fuzz this many inputs, deterministically")
    args = parser.parse_args(argv)
    limited = limit_address_space()
    seconds = None if args.examples is not None else (args.seconds or 60.0)
    start = time.monotonic()
    count = run(examples=args.examples, seconds=seconds)
    memory = "under an address-space limit" if limited else "without a memory limit"
    print(
        f"fuzzed the IDX reader with {count} inputs in {time.monotonic() - start:.1f} s "
        f"{memory}: no failure"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
