"""MNIST and Fashion-MNIST: loading from FERROGRAD_DATA, a path or the cache, the rejection of
bad files, and downloads from a local HTTP server (never the network)."""

import gzip
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd._core import read_idx
from ferrograd.datasets import _files
from ferrograd.errors import FileFormatError

SHARED = Path(os.environ["FERROGRAD_DATA"])
MNIST_DIR = SHARED / "mnist"
FASHION_DIR = SHARED / "fashion-mnist"
NAMES = [known.name for known in _files.MNIST.files]
TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = NAMES
# Discard port: refused at once, so a test that would download by mistake fails fast.
UNREACHABLE = "http://127.0.0.1:9/"


@pytest.fixture(autouse=True)
def _offline(tmp_path, monkeypatch):
    """No test reads the user's cache or reaches a real mirror."""
    monkeypatch.setenv("FERROGRAD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FERROGRAD_MIRRORS", UNREACHABLE)


def load_offline(loader, cache):
    """Loads once for the module, as offline as `_offline` makes each test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FERROGRAD_CACHE", str(cache))
        patch.setenv("FERROGRAD_MIRRORS", UNREACHABLE)
        return loader()


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    return load_offline(fg.datasets.mnist.load_data, tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def fashion(tmp_path_factory):
    return load_offline(fg.datasets.fashion_mnist.load_data, tmp_path_factory.mktemp("cache"))


def cache_dir(tmp_path, dataset="mnist"):
    return tmp_path / "cache" / "datasets" / dataset


def link_files(folder, source=MNIST_DIR, names=NAMES, as_names=None):
    """Symbolic links in `folder` to the shared gzipped files, so nothing large is copied."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, as_name in zip(names, as_names or names, strict=True):
        (folder / f"{as_name}.gz").symlink_to(source / f"{name}.gz")
    return folder


def raw_bytes(name, source=MNIST_DIR):
    return gzip.decompress((source / f"{name}.gz").read_bytes())


def sha256_of_file(path):
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return hashlib.sha256(data).hexdigest()


def assert_same_dataset(loaded, expected):
    for got, want in zip((*loaded[0], *loaded[1]), (*expected[0], *expected[1]), strict=True):
        np.testing.assert_array_equal(got, want)


# ---- The real datasets -------------------------------------------------------------------------


def test_mnist_has_the_keras_shapes_dtypes_and_known_labels(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert [a.shape for a in (x_train, y_train, x_test, y_test)] == [
        (60000, 28, 28),
        (60000,),
        (10000, 28, 28),
        (10000,),
    ]
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    assert np.bincount(y_train).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949
    ]  # fmt: skip
    assert np.bincount(y_test, minlength=10).sum() == 10000 and y_test.max() == 9
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert x_train.min() == 0 and x_train.max() == 255
    assert x_train.mean() == pytest.approx(33.3184, abs=1e-4)  # 0.1307 of 255, as usual
    assert x_train.flags.c_contiguous and x_train.flags.writeable


def test_fashion_mnist_has_balanced_classes_and_known_labels(fashion, mnist):
    (x_train, y_train), (x_test, y_test) = fashion
    assert (x_train.shape, x_test.shape) == ((60000, 28, 28), (10000, 28, 28))
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert y_test[:5].tolist() == [9, 2, 1, 1, 6]
    assert x_train.mean() == pytest.approx(72.9404, abs=1e-4)
    assert not np.array_equal(x_test, mnist[1][0])


def test_loading_mnist_takes_well_under_a_second(mnist):
    start = time.perf_counter()
    fg.datasets.mnist.load_data()
    assert time.perf_counter() - start < 1.5  # about 0.2 s; slack for a busy machine


def test_the_reader_returns_the_hash_of_the_decompressed_content():
    array, sha256 = read_idx(MNIST_DIR / f"{TEST_LABELS}.gz")
    assert sha256 == _files.MNIST.files[3].sha256
    assert array.shape == (10000,) and array.dtype == np.uint8


# ---- Where the files are found -----------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_mnist_folder(tmp_path_factory):
    """Uncompressed copies of MNIST's files."""
    folder = tmp_path_factory.mktemp("raw-mnist")
    for name in NAMES:
        (folder / name).write_bytes(raw_bytes(name))
    return folder


def test_uncompressed_files_given_as_path_take_precedence(
    raw_mnist_folder, mnist, tmp_path, monkeypatch
):
    # FERROGRAD_DATA holds Fashion-MNIST under MNIST's names: used, it would be rejected.
    link_files(tmp_path / "data" / "mnist", source=FASHION_DIR)
    monkeypatch.setenv("FERROGRAD_DATA", str(tmp_path / "data"))
    with pytest.raises(FileFormatError, match="it is Fashion-MNIST's t10k-labels-idx1-ubyte"):
        fg.datasets.mnist.load_data()
    assert_same_dataset(fg.datasets.mnist.load_data(path=raw_mnist_folder), mnist)
    assert_same_dataset(fg.datasets.mnist.load_data(path=str(raw_mnist_folder)), mnist)


def test_files_missing_from_path_are_taken_from_ferrograd_data(mnist, tmp_path):
    folder = tmp_path / "some"
    folder.mkdir()
    (folder / TEST_LABELS).write_bytes(raw_bytes(TEST_LABELS))
    assert_same_dataset(fg.datasets.mnist.load_data(path=folder), mnist)


def test_a_path_that_is_not_a_folder_is_refused(tmp_path):
    with pytest.raises(NotADirectoryError, match="where there is nothing"):
        fg.datasets.mnist.load_data(path=tmp_path / "absent")
    (tmp_path / "mnist.npz").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="holds the four files.*where there is a file"):
        fg.datasets.mnist.load_data(path=tmp_path / "mnist.npz")
    with pytest.raises(TypeError, match="received int 3"):
        fg.datasets.mnist.load_data(path=3)


def test_files_in_the_cache_are_used(mnist, tmp_path, monkeypatch):
    monkeypatch.delenv("FERROGRAD_DATA")
    link_files(cache_dir(tmp_path))
    assert_same_dataset(fg.datasets.mnist.load_data(), mnist)


def test_the_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    assert _files.cache_folder(_files.MNIST) == tmp_path / "cache" / "datasets" / "mnist"
    monkeypatch.delenv("FERROGRAD_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "ferrograd" / "datasets" / "fashion-mnist"
    assert _files.cache_folder(_files.FASHION_MNIST) == expected
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".cache" / "ferrograd" / "datasets" / "mnist"
    assert _files.cache_folder(_files.MNIST) == expected


def test_the_mirror_list_can_be_overridden(monkeypatch):
    monkeypatch.setenv("FERROGRAD_MIRRORS", " http://a/x/ , ,http://b/ ")
    assert _files.mirrors(_files.MNIST) == ("http://a/x/", "http://b/")
    monkeypatch.delenv("FERROGRAD_MIRRORS")
    assert _files.mirrors(_files.MNIST) == _files.MNIST.mirrors
    assert _files.mirrors(_files.FASHION_MNIST)[0].startswith("http://fashion-mnist.s3")


# ---- Bad files ---------------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A FERROGRAD_DATA whose mnist/ folder holds links to the good files but the test labels,
    which each test writes itself."""
    folder = link_files(tmp_path / "data" / "mnist", names=NAMES[:3])
    monkeypatch.setenv("FERROGRAD_DATA", str(tmp_path / "data"))
    return folder


def test_a_truncated_file_is_rejected_and_left_in_place(data_dir):
    bad = data_dir / TEST_LABELS
    bad.write_bytes(raw_bytes(TEST_LABELS)[:5000])
    with pytest.raises(FileFormatError) as caught:
        fg.datasets.mnist.load_data()
    message = str(caught.value)
    assert f"{bad} is truncated: expected 10008 bytes, found 5000" in message
    assert "It should be MNIST's t10k-labels-idx1-ubyte, 10008 bytes" in message
    assert "was not used and was left in place" in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz" in message
    assert bad.stat().st_size == 5000


def test_a_truncated_gzip_file_is_rejected(data_dir):
    bad = data_dir / f"{TEST_LABELS}.gz"
    whole = (MNIST_DIR / f"{TEST_LABELS}.gz").read_bytes()
    bad.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(FileFormatError, match=r"t10k-labels-idx1-ubyte.gz is truncated: expected "):
        fg.datasets.mnist.load_data()


def test_a_flipped_byte_is_caught_by_the_checksum(data_dir):
    content = bytearray(raw_bytes(TEST_LABELS))
    content[5000] = (content[5000] + 1) % 10
    (data_dir / TEST_LABELS).write_bytes(bytes(content))
    with pytest.raises(FileFormatError) as caught:
        fg.datasets.mnist.load_data()
    message = str(caught.value)
    assert (
        "is not MNIST's t10k-labels-idx1-ubyte: the SHA-256 of its decompressed content" in message
    )
    assert f"expected {_files.MNIST.files[3].sha256}" in message
    assert "changed or damaged" in message


def test_a_flipped_byte_in_a_gzip_file_is_caught(data_dir):
    content = bytearray((MNIST_DIR / f"{TEST_LABELS}.gz").read_bytes())
    content[len(content) // 2] ^= 0x10
    (data_dir / f"{TEST_LABELS}.gz").write_bytes(bytes(content))
    with pytest.raises(FileFormatError, match="t10k-labels-idx1-ubyte.gz"):
        fg.datasets.mnist.load_data()


def test_another_datasets_file_is_named(data_dir):
    (data_dir / f"{TEST_LABELS}.gz").symlink_to(FASHION_DIR / f"{TEST_LABELS}.gz")
    with pytest.raises(FileFormatError, match="it is Fashion-MNIST's t10k-labels-idx1-ubyte"):
        fg.datasets.mnist.load_data()


def test_a_known_file_under_another_name_is_named(tmp_path, monkeypatch):
    folder = link_files(tmp_path / "data" / "mnist", names=NAMES[1:])
    (folder / f"{TRAIN_IMAGES}.gz").symlink_to(MNIST_DIR / f"{TEST_LABELS}.gz")
    monkeypatch.setenv("FERROGRAD_DATA", str(tmp_path / "data"))
    with pytest.raises(FileFormatError) as caught:
        fg.datasets.mnist.load_data()
    message = str(caught.value)
    assert f"{folder / TRAIN_IMAGES}.gz is not MNIST's train-images-idx3-ubyte" in message
    assert "it is MNIST's t10k-labels-idx1-ubyte" in message


def test_an_unknown_file_of_another_shape_is_described(data_dir):
    (data_dir / TEST_LABELS).write_bytes(
        idx_header(10, 28, 28) + bytes(range(256)) * 30 + b"1" * 160
    )
    with pytest.raises(
        FileFormatError, match=r"holds an array of shape \(10, 28, 28\), expected \(10000,\)"
    ):
        fg.datasets.mnist.load_data()


def idx_header(*dims):
    return bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def test_a_hostile_header_is_rejected_at_once(data_dir):
    bad = data_dir / TEST_LABELS
    bad.write_bytes(idx_header(4_000_000_000) + b"\x01" * 100)
    start = time.perf_counter()
    with pytest.raises(FileFormatError) as caught:
        fg.datasets.mnist.load_data()
    assert time.perf_counter() - start < 2
    assert "declares an array of shape [4000000000], 4000000008 bytes with its header" in str(
        caught.value
    )
    assert "more than the 10008 bytes expected" in str(caught.value)


def test_other_idx_types_and_non_idx_files_are_rejected(tmp_path):
    floats = tmp_path / "floats"
    floats.write_bytes(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 128, 63]))
    with pytest.raises(FileFormatError, match=r"float \(32-bit\) \(type code 0x0d\)"):
        read_idx(floats)
    text = tmp_path / "notes.txt"
    text.write_bytes(b"hello")
    with pytest.raises(FileFormatError, match="is not an IDX file: it starts with the bytes 68"):
        read_idx(text)
    with pytest.raises(FileNotFoundError, match="absent"):
        read_idx(tmp_path / "absent")


HOSTILE_UNDER_MEMORY_LIMIT = r"""
import gzip, resource, sys
from ferrograd._core import read_idx
from ferrograd.errors import FileFormatError

# Room for the interpreter, not for the gigabyte the headers claim.
with open("/proc/self/status") as status:
    vm_kib = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
limit = vm_kib * 1024 + (256 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
header = bytes([0, 0, 8, 2]) + (16384).to_bytes(4, "big") + (65535).to_bytes(4, "big")
folder = sys.argv[1]
content = header + b"\x07" * 1000
for name, content in [("raw", content), ("gz", gzip.compress(content))]:
    path = f"{folder}/{name}"
    with open(path, "wb") as f:
        f.write(content)
    try:
        read_idx(path)
    except FileFormatError as e:
        print(name, "rejected:", e)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
def test_a_header_claiming_a_gigabyte_allocates_nothing_like_it(tmp_path):
    # Under an address-space limit, reserving the declared size would raise MemoryError.
    result = subprocess.run(
        [sys.executable, "-c", HOSTILE_UNDER_MEMORY_LIMIT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout + result.stderr
    assert "raw rejected:" in lines[0] and "expected 1073725452 bytes, found 1012" in lines[0]
    assert "gz rejected:" in lines[1]
    assert "expected 1073725452 bytes after decompression, found 1012" in lines[1]


# ---- Downloads from a local server -------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the server's folder, and under /cut/ announces a file's full length but sends
    half of it, like a connection that drops."""

    requests: list[str]

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path.startswith("/cut/"):
            content = (Path(self.directory) / "good" / self.path[len("/cut/") :]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content[: len(content) // 2])
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A threaded HTTP server on 127.0.0.1 with the folders good/ (MNIST's files), truncated/
    (each cut in half), wrong/ (Fashion-MNIST's under MNIST's names); missing/ gives 404."""
    root = tmp_path_factory.mktemp("mirror")
    link_files(root / "good")
    link_files(root / "wrong", source=FASHION_DIR)
    (root / "truncated").mkdir()
    for name in NAMES:
        whole = (MNIST_DIR / f"{name}.gz").read_bytes()
        (root / "truncated" / f"{name}.gz").write_bytes(whole[: len(whole) // 2])

    def handler(*args, **kwargs):
        return _Handler(*args, directory=str(root), **kwargs)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def mirror(server, monkeypatch):
    """Sets FERROGRAD_MIRRORS to the server's folders named, and forgets earlier requests."""
    monkeypatch.delenv("FERROGRAD_DATA")
    server.requests.clear()

    def use(*folders):
        monkeypatch.setenv("FERROGRAD_MIRRORS", ",".join(f"{server.base}/{f}/" for f in folders))
        return server.requests

    return use


def files_in(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_downloads_into_the_cache_then_reuses_it(mirror, mnist, tmp_path):
    requests = mirror("good")
    assert_same_dataset(fg.datasets.mnist.load_data(), mnist)
    assert sorted(requests) == sorted(f"/good/{name}.gz" for name in NAMES)
    cache = cache_dir(tmp_path)
    assert files_in(cache) == sorted(f"{name}.gz" for name in NAMES)
    for known in _files.MNIST.files:
        assert sha256_of_file(cache / f"{known.name}.gz") == known.sha256
    requests.clear()
    assert_same_dataset(fg.datasets.mnist.load_data(), mnist)
    assert requests == []


def test_a_failing_mirror_is_followed_by_the_next(mirror, mnist, tmp_path):
    link_files(cache_dir(tmp_path), names=[TRAIN_IMAGES, TEST_IMAGES])
    requests = mirror("missing", "truncated", "good")
    assert_same_dataset(fg.datasets.mnist.load_data(), mnist)
    for name in [TRAIN_LABELS, TEST_LABELS]:
        tried = [r for r in requests if r.endswith(f"/{name}.gz")]
        assert tried == [f"/{folder}/{name}.gz" for folder in ("missing", "truncated", "good")]
    assert files_in(cache_dir(tmp_path)) == sorted(f"{name}.gz" for name in NAMES)


@pytest.mark.parametrize(
    ("folder", "reason"),
    [
        ("truncated", "the file downloaded from {url} is truncated: expected 10008 bytes"),
        ("wrong", "the file downloaded from {url} is not MNIST's t10k-labels-idx1-ubyte"),
        ("cut", "{url}: the transfer ended after 2271 of the 4542 bytes announced"),
        ("missing", "{url}: HTTP error 404 (File not found)"),
    ],
)
def test_a_bad_download_is_reported_and_leaves_nothing_behind(
    mirror, server, tmp_path, folder, reason
):
    link_files(cache_dir(tmp_path), names=NAMES[:3])
    mirror(folder)
    with pytest.raises(FileNotFoundError) as caught:
        fg.datasets.mnist.load_data()
    message = str(caught.value)
    url = f"{server.base}/{folder}/{TEST_LABELS}.gz"
    assert reason.format(url=url) in message
    assert "Cannot find MNIST's t10k-labels-idx1-ubyte, and downloading it failed." in message
    assert f"{cache_dir(tmp_path)} (the cache)" in message
    assert "(FERROGRAD_DATA is not set)" in message
    # How to provide the files by hand: names, places, variables, URLs.
    for name in NAMES:
        assert f"{name}.gz" in message
    assert "a folder named mnist/" in message and "set FERROGRAD_DATA" in message
    assert "ferrograd.datasets.mnist.load_data(path=...)" in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in message
    assert "FERROGRAD_MIRRORS" in message
    assert files_in(cache_dir(tmp_path)) == sorted(f"{name}.gz" for name in NAMES[:3])


def test_nothing_anywhere_and_no_mirror_says_how_to_provide_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("FERROGRAD_DATA")
    with pytest.raises(FileNotFoundError) as caught:
        fg.datasets.fashion_mnist.load_data()
    message = str(caught.value)
    assert message.startswith("Cannot find Fashion-MNIST's t10k-labels-idx1-ubyte")
    assert f"{UNREACHABLE}t10k-labels-idx1-ubyte.gz: cannot connect" in message
    assert "a folder named fashion-mnist/" in message
    assert "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/" in message
    assert files_in(cache_dir(tmp_path, "fashion-mnist")) == []


def test_a_failed_download_never_replaces_an_existing_file(server, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    good = folder / f"{TEST_LABELS}.gz"
    shutil.copyfile(MNIST_DIR / f"{TEST_LABELS}.gz", good)
    before = good.read_bytes()
    known = _files.MNIST.files[3]
    for bad in ("truncated", "wrong", "cut"):
        with pytest.raises((FileFormatError, ConnectionError)):
            _files.download(f"{server.base}/{bad}/{TEST_LABELS}.gz", folder, _files.MNIST, known)
        assert good.read_bytes() == before
        assert files_in(folder) == [good.name]
    # A good download replaces the file by renaming a new one over it.
    inode = good.stat().st_ino
    url = f"{server.base}/good/{TEST_LABELS}.gz"
    array, saved = _files.download(url, folder, _files.MNIST, known)
    assert saved == good and good.stat().st_ino != inode
    assert good.read_bytes() == before and array.shape == (10000,)
    assert good.stat().st_mode & 0o777 == 0o644
    assert files_in(folder) == [good.name]


def test_a_damaged_cached_file_is_downloaded_again(mirror, mnist, tmp_path):
    cache = link_files(cache_dir(tmp_path), names=NAMES[:3])
    content = bytearray(raw_bytes(TEST_LABELS))
    content[100] ^= 1
    # Uncompressed, so the gzipped download takes another name and the damaged one must go.
    (cache / TEST_LABELS).write_bytes(bytes(content))
    requests = mirror("good")
    assert_same_dataset(fg.datasets.mnist.load_data(), mnist)
    assert requests == [f"/good/{TEST_LABELS}.gz"]
    assert files_in(cache) == sorted(f"{name}.gz" for name in NAMES)


def test_a_damaged_cached_file_stays_when_no_download_replaces_it(mirror, tmp_path):
    cache = link_files(cache_dir(tmp_path), names=NAMES[:3])
    damaged = cache / f"{TEST_LABELS}.gz"
    damaged.write_bytes(b"\x1f\x8b garbage")
    mirror("missing")
    with pytest.raises(FileNotFoundError) as caught:
        fg.datasets.mnist.load_data()
    message = str(caught.value)
    assert f"The copy in the cache, {damaged}, is damaged and was not used" in message
    assert damaged.read_bytes() == b"\x1f\x8b garbage"
