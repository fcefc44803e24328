"""Finding, downloading and verifying the IDX files of a dataset; shared by its loaders.

Each of a dataset's four files is looked for, gzipped (``name.gz``) or not (``name``), in order:

1. the folder passed as ``load_data(path=...)``;
2. ``$FERROGRAD_DATA/<dataset>/``, where ``<dataset>`` is ``mnist`` or ``fashion-mnist``;
3. the cache, ``$FERROGRAD_CACHE/datasets/<dataset>/``; without ``FERROGRAD_CACHE`` it is
   ``$XDG_CACHE_HOME/ferrograd/datasets/<dataset>/``, else
   ``~/.cache/ferrograd/datasets/<dataset>/``;
4. else it is downloaded into the cache from the dataset's public mirrors, or from the base URLs
   in ``FERROGRAD_MIRRORS`` (separated by commas, tried in order) when that is set.

Every file is checked against the SHA-256 of its decompressed content before it is used. A file
that fails is never used: one in the ``path`` folder or under ``FERROGRAD_DATA`` raises an error
(and is left in place), one in the cache is downloaded again. A download goes to a temporary
file in the cache folder, is verified, flushed to disk and only then renamed over its final name,
so that an interrupted or failed download never leaves a partial file behind nor replaces a
good one.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferrograd import _core
from ferrograd.errors import FileFormatError

DATA_ENV = "FERROGRAD_DATA"
CACHE_ENV = "FERROGRAD_CACHE"
MIRRORS_ENV = "FERROGRAD_MIRRORS"

# Seconds to wait for a mirror to connect or to send the next piece of data (not the whole
# transfer), so that a dead mirror is left quickly for the next one.
DOWNLOAD_TIMEOUT_S = 30.0
_CHUNK_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class KnownFile:
    """One file of a dataset as its authors published it."""

    name: str
    """The name without ``.gz``, e.g. ``train-images-idx3-ubyte``."""
    shape: tuple[int, ...]
    size: int
    """Bytes of the decompressed file, header included."""
    sha256: str
    """SHA-256 of the decompressed file, as ``sha256sum`` prints it."""


@dataclass(frozen=True)
class Dataset:
    title: str
    folder: str
    """The folder's name under ``FERROGRAD_DATA`` and in the cache."""
    loader: str
    """The public function that loads it, for messages."""
    files: tuple[KnownFile, KnownFile, KnownFile, KnownFile]
    """Training images, training labels, test images, test labels."""
    mirrors: tuple[str, ...]
    """Base URLs; a file's URL is the base followed by ``name.gz``."""


def _idx_files(sha256s: tuple[str, str, str, str]) -> tuple[KnownFile, ...]:
    """MNIST's four files, or those of a drop-in replacement, with their checksums."""
    layout = (
        ("train-images-idx3-ubyte", (60000, 28, 28)),
        ("train-labels-idx1-ubyte", (60000,)),
        ("t10k-images-idx3-ubyte", (10000, 28, 28)),
        ("t10k-labels-idx1-ubyte", (10000,)),
    )
    return tuple(
        KnownFile(name, shape, 4 + 4 * len(shape) + int(np.prod(shape)), sha256)
        for (name, shape), sha256 in zip(layout, sha256s, strict=True)
    )


MNIST = Dataset(
    title="MNIST",
    folder="mnist",
    loader="ferrograd.datasets.mnist.load_data",
    files=_idx_files(
        (
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        )
    ),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
)

FASHION_MNIST = Dataset(
    title="Fashion-MNIST",
    folder="fashion-mnist",
    loader="ferrograd.datasets.fashion_mnist.load_data",
    files=_idx_files(
        (
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        )
    ),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
)

# Which known file a checksum belongs to, so that a file put in the wrong place is named.
_KNOWN_BY_SHA256 = {
    known.sha256: (dataset.title, known.name)
    for dataset in (MNIST, FASHION_MNIST)
    for known in dataset.files
}


@dataclass(frozen=True)
class _Place:
    folder: Path
    label: str
    is_cache: bool


def load(dataset: Dataset, path: str | os.PathLike[str] | None = None):
    """The dataset as ``(x_train, y_train), (x_test, y_test)``: see the module docstring."""
    places = _places(dataset, path)
    # Smallest first, so that a damaged or missing file is reported before the large ones are
    # decompressed (reading them side by side in threads saves little: the largest dominates).
    arrays = {}
    for known in sorted(dataset.files, key=lambda known: known.size):
        arrays[known.name] = _obtain(dataset, known, places)
    x_train, y_train, x_test, y_test = (arrays[known.name] for known in dataset.files)
    return (x_train, y_train), (x_test, y_test)


def cache_folder(dataset: Dataset) -> Path:
    """Where downloads of ``dataset`` go."""
    root = os.environ.get(CACHE_ENV)
    if root:
        base = Path(root).expanduser()
    elif os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "ferrograd"
    else:
        base = Path.home() / ".cache" / "ferrograd"
    return base / "datasets" / dataset.folder


def mirrors(dataset: Dataset) -> tuple[str, ...]:
    """The base URLs to download from, in order: ``FERROGRAD_MIRRORS`` or the dataset's own."""
    override = [url.strip() for url in os.environ.get(MIRRORS_ENV, "").split(",")]
    override = [url for url in override if url]
    return tuple(override) if override else dataset.mirrors


def _places(dataset: Dataset, path: str | os.PathLike[str] | None) -> list[_Place]:
    places = []
    if path is not None:
        if not isinstance(path, str | os.PathLike):
            raise TypeError(
                f"{dataset.loader}: path must be the folder that holds the four files, as a str "
                f"or a pathlib.Path; received {type(path).__name__} {path!r}"
            )
        folder = Path(path).expanduser()
        if not folder.is_dir():
            kind = "a file" if folder.exists() else "nothing"
            raise NotADirectoryError(
                f"{dataset.loader}: path must be the folder that holds the four files "
                f"({_file_list(dataset)}); received {str(path)!r}, where there is {kind}"
            )
        places.append(_Place(folder, "the path argument", is_cache=False))
    data_root = os.environ.get(DATA_ENV)
    if data_root:
        folder = Path(data_root).expanduser() / dataset.folder
        places.append(_Place(folder, DATA_ENV, is_cache=False))
    places.append(_Place(cache_folder(dataset), "the cache", is_cache=True))
    return places


def _obtain(dataset: Dataset, known: KnownFile, places: list[_Place]) -> np.ndarray:
    """The verified array of one file, from the first place that has it, else downloaded."""
    damaged_cache_file = None
    for place in places:
        found = _find(place.folder, known)
        if found is None:
            continue
        try:
            return verified(found, dataset, known)
        except FileFormatError as error:
            if not place.is_cache:
                advice = _replace_advice(dataset, known, place)
                raise FileFormatError(f"{error}\n{advice}") from None
            damaged_cache_file = (found, error)
            break
    return _download(dataset, known, places, damaged_cache_file)


def _find(folder: Path, known: KnownFile) -> Path | None:
    for name in (known.name + ".gz", known.name):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def verified(
    file: Path, dataset: Dataset, known: KnownFile, shown_as: str | None = None
) -> np.ndarray:
    """The array in ``file`` if its decompressed content is exactly ``known``'s, else raises
    ``FileFormatError`` naming the file (or ``shown_as``) and what is wrong with it."""
    try:
        array, sha256 = _core.read_idx(file, max_bytes=known.size)
    except FileFormatError as error:
        message = str(error)
        if shown_as is not None:
            message = message.replace(str(file), shown_as)
        raise FileFormatError(
            f"{message}\nIt should be {dataset.title}'s {known.name}, "
            f"{known.size} bytes after decompression."
        ) from None
    if sha256 != known.sha256:
        problems = [
            f"{shown_as or file} is not {dataset.title}'s {known.name}: the SHA-256 of its "
            f"decompressed content is {sha256}, expected {known.sha256}"
        ]
        if sha256 in _KNOWN_BY_SHA256:
            title, name = _KNOWN_BY_SHA256[sha256]
            problems.append(f"it is {title}'s {name}")
        elif array.shape != known.shape:
            problems.append(f"it holds an array of shape {array.shape}, expected {known.shape}")
        else:
            problems.append("its content was changed or damaged")
        raise FileFormatError("; ".join(problems) + ".")
    return array


def _replace_advice(dataset: Dataset, known: KnownFile, place: _Place) -> str:
    url = dataset.mirrors[0].rstrip("/") + "/" + known.name + ".gz"
    return (
        f"This file (found through {place.label}) was not used and was left in place. Replace "
        f"it with the original, {url}, or move it away so that {known.name} is looked for in "
        f"the next place and else downloaded into {cache_folder(dataset)}."
    )


def _download(
    dataset: Dataset,
    known: KnownFile,
    places: list[_Place],
    damaged_cache_file: tuple[Path, FileFormatError] | None,
) -> np.ndarray:
    # Imported here, not at the top: they cost `import ferrograd` about 50 ms.
    import http.client

    folder = cache_folder(dataset)
    failures = []
    for base in mirrors(dataset):
        url = base.rstrip("/") + "/" + known.name + ".gz"
        try:
            array, saved = download(url, folder, dataset, known)
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(f"  {url}: {_reason(error)}")
            continue
        if damaged_cache_file is not None and damaged_cache_file[0] != saved:
            # It would be found before the new file next time.
            damaged_cache_file[0].unlink(missing_ok=True)
        return array
    message = _not_found_message(dataset, known, places, failures, damaged_cache_file)
    raise FileNotFoundError(message)


def download(url: str, folder: Path, dataset: Dataset, known: KnownFile) -> tuple[np.ndarray, Path]:
    """Downloads ``url`` into ``folder`` as ``known``'s file, atomically: the content goes to a
    temporary file that is verified, synced and renamed, or removed on any failure, so that an
    existing file of that name is replaced only by a good one. Returns the array and the path."""
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(
        dir=folder, prefix=f".{known.name}.", suffix=".part"
    )
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as out:
            _fetch(url, out, limit=_largest_download(known))
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private; a cache is as readable as any downloaded file.
        os.chmod(temporary, 0o644)
        array = verified(temporary, dataset, known, shown_as=f"the file downloaded from {url}")
        with open(temporary, "rb") as written:
            gzipped = written.read(2) == _GZIP_MAGIC
        final = folder / (known.name + (".gz" if gzipped else ""))
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(folder)
    return array, final


def _fetch(url: str, out, limit: int) -> None:
    """Copies ``url``'s content into ``out``, refusing more than ``limit`` bytes and a transfer
    that ends before the length the server announced."""
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "ferrograd"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
        announced = response.headers.get("Content-Length")
        received = 0
        while chunk := response.read(_CHUNK_BYTES):
            received += len(chunk)
            if received > limit:
                raise ValueError(
                    f"the server sent more than {limit} bytes, more than the file can take; "
                    "it does not serve the expected file"
                )
            out.write(chunk)
    if announced is not None and announced.isdigit() and received != int(announced):
        raise ConnectionError(
            f"the transfer ended after {received} of the {announced} bytes announced"
        )


def _largest_download(known: KnownFile) -> int:
    # Gzip can make incompressible data slightly larger, never by 1%.
    return known.size + known.size // 100 + (1 << 16)


def _sync_folder(folder: Path) -> None:
    """Makes the rename durable: a crash right after it must not lose the new file's entry."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _reason(error: BaseException) -> str:
    import urllib.error

    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP error {error.code} ({error.reason})"
    if isinstance(error, urllib.error.URLError):
        return f"cannot connect ({error.reason})"
    return str(error) or type(error).__name__


def _file_list(dataset: Dataset) -> str:
    return ", ".join(known.name + ".gz" for known in dataset.files)


def _not_found_message(
    dataset: Dataset,
    known: KnownFile,
    places: list[_Place],
    failures: list[str],
    damaged_cache_file: tuple[Path, FileFormatError] | None,
) -> str:
    looked = [f"  {place.folder} ({place.label})" for place in places]
    if not any(place.label == DATA_ENV for place in places):
        looked.append(f"  ({DATA_ENV} is not set)")
    lines = [
        f"Cannot find {dataset.title}'s {known.name}, and downloading it failed.",
        f"Looked for {known.name}.gz and {known.name} in:",
        *looked,
    ]
    if damaged_cache_file is not None:
        file, error = damaged_cache_file
        lines.append(f"The copy in the cache, {file}, is damaged and was not used: {error}")
    lines += [
        "Tried to download it from:",
        *(failures or ["  (no mirror)"]),
        f"To provide the files yourself, download the four files ({_file_list(dataset)}) from "
        "one of:",
        *(f"  {base}" for base in dataset.mirrors),
        f"and put them, gzipped or not, in a folder named {dataset.folder}/; then set "
        f"{DATA_ENV} to the folder that holds {dataset.folder}/, or pass the folder itself as "
        f"{dataset.loader}(path=...). To download from other mirrors, set {MIRRORS_ENV} to "
        "their base URLs, separated by commas.",
    ]
    return "\n".join(lines)
