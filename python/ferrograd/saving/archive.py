"""The model file's archive: a zip of ``config.json``, ``metadata.json`` and
``model.safetensors``, written stored (not compressed) and read with every entry checked
against its size limit (against zip bombs) before it is parsed.
"""

from __future__ import annotations

import errno
import json
import os
import zipfile
import zlib

import numpy as np

from ferrograd import _core
from ferrograd.errors import FileFormatError

FORMAT = "ferrograd.model"
FORMAT_VERSION = 1

CONFIG_ENTRY = "config.json"
METADATA_ENTRY = "metadata.json"
WEIGHTS_ENTRY = "model.safetensors"

#: Size limits of the archive's entries, in bytes (uncompressed).
ENTRY_LIMITS = {
    CONFIG_ENTRY: 16 << 20,
    METADATA_ENTRY: 1 << 20,
    WEIGHTS_ENTRY: 64 << 30,
}

#: The prefix of the optimizer's state among the tensors of ``model.safetensors``.
OPTIMIZER_PREFIX = "optimizer/"


def write_archive(file, config: dict, metadata: dict, weights: bytes) -> None:
    """Writes the three entries of a model file to ``file``.

    Args:
        file: a writable binary file object.
        config: the content of ``config.json``.
        metadata: the content of ``metadata.json``.
        weights: the safetensors bytes of ``model.safetensors``.

    Examples:
        >>> buffer = io.BytesIO()
        >>> write_archive(buffer, {"format": FORMAT}, {"format": FORMAT}, b"")
    """
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(CONFIG_ENTRY, json.dumps(config, indent=2, allow_nan=False))
        archive.writestr(METADATA_ENTRY, json.dumps(metadata, indent=2))
        archive.writestr(WEIGHTS_ENTRY, weights)


def read_archive(path) -> tuple[dict, dict, bytes]:
    """The three entries of a model file, each checked against its limit.

    Args:
        path: the model file.

    Returns:
        ``(config, metadata, weight_bytes)``, the two JSON entries parsed.

    Raises:
        FileFormatError: not a valid model archive (the message says why).
        IsADirectoryError: ``path`` is a folder.

    Examples:
        >>> config, metadata, weights = read_archive("model.fgm")
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"cannot load {path!r}: it is a folder", path)
    try:
        file_size = os.path.getsize(path)
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if sorted(names) != sorted(ENTRY_LIMITS):
                raise FileFormatError(
                    f"{path!r} is not a ferrograd model file: expected the entries "
                    f"{sorted(ENTRY_LIMITS)}, found {names[:10]}"
                )
            entries = {}
            for info in infos:
                limit = ENTRY_LIMITS[info.filename]
                if info.file_size > limit:
                    raise FileFormatError(
                        f"{path!r}: the entry {info.filename} claims {info.file_size} bytes, more "
                        f"than the {limit} allowed"
                    )
                if not 0 <= info.header_offset < file_size:
                    raise FileFormatError(
                        f"{path!r}: the entry {info.filename} starts at byte "
                        f"{info.header_offset}, outside the file's {file_size} bytes"
                    )
                # ferrograd writes its entries stored: a compressed one (a zip bomb's way to
                # claim little and inflate to much) is refused before a byte is inflated.
                if info.compress_type != zipfile.ZIP_STORED:
                    raise FileFormatError(
                        f"{path!r}: the entry {info.filename} is compressed (method "
                        f"{info.compress_type}); ferrograd model files store their entries "
                        "uncompressed"
                    )
                if info.file_size != info.compress_size or info.file_size > file_size:
                    raise FileFormatError(
                        f"{path!r}: the entry {info.filename} claims {info.file_size} bytes, "
                        f"which its {info.compress_size} stored bytes in a {file_size}-byte "
                        "file cannot hold"
                    )
                with archive.open(info) as entry:
                    if info.filename == WEIGHTS_ENTRY:
                        data = _read_safetensors_entry(entry, info.file_size, path)
                    else:
                        data = entry.read(limit + 1)
                if len(data) > limit:
                    raise FileFormatError(f"{path!r}: the entry {info.filename} is too large")
                entries[info.filename] = data
    except FileFormatError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        ValueError,
        NotImplementedError,
        OverflowError,
        RuntimeError,
        UnicodeDecodeError,
        IndexError,
        KeyError,
    ) as error:
        raise FileFormatError(
            f"{path!r} is not a valid ferrograd model file ({type(error).__name__}: {error}); "
            "it may be truncated or corrupt"
        ) from error
    config = parse_json(entries[CONFIG_ENTRY], CONFIG_ENTRY, path)
    metadata = parse_json(entries[METADATA_ENTRY], METADATA_ENTRY, path)
    return config, metadata, entries[WEIGHTS_ENTRY]


def _read_safetensors_entry(entry, declared_size: int, path: str) -> bytes:
    """The weights entry, read only after its header shows that its declared size is exactly
    what its tensors need."""
    prefix = entry.read(8)
    if len(prefix) < 8:
        raise FileFormatError(f"{path!r}: {WEIGHTS_ENTRY} is too short for a safetensors header")
    header_length = int.from_bytes(prefix, "little")
    if 8 + header_length > declared_size:
        raise FileFormatError(
            f"{path!r}: {WEIGHTS_ENTRY}'s header claims {header_length} bytes, more than the "
            f"entry's {declared_size}"
        )
    header_bytes = entry.read(header_length)
    header = parse_json(header_bytes, f"{WEIGHTS_ENTRY}'s header", path)
    data_length = 0
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        offsets = spec.get("data_offsets") if isinstance(spec, dict) else None
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and o >= 0 for o in offsets)
        ):
            raise FileFormatError(f"{path!r}: {WEIGHTS_ENTRY}: tensor {name!r} has no valid span")
        data_length = max(data_length, offsets[1])
    needed = 8 + header_length + data_length
    if needed != declared_size:
        raise FileFormatError(
            f"{path!r}: {WEIGHTS_ENTRY} declares {declared_size} bytes but its header describes "
            f"{needed}"
        )
    return prefix + header_bytes + entry.read(data_length)


def parse_json(data: bytes, entry: str, path: str) -> dict:
    """The JSON object in ``data``.

    Args:
        data: the entry's bytes (UTF-8).
        entry: the entry's name, for errors.
        path: the file's path, for errors.

    Raises:
        FileFormatError: not JSON, or not an object.

    Examples:
        >>> parse_json(b'{"format_version": 1}', "config.json", "model.fgm")
        {'format_version': 1}
    """
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise FileFormatError(f"{path!r}: {entry} is not valid JSON ({error})") from error
    if not isinstance(value, dict):
        raise FileFormatError(f"{path!r}: {entry} must hold a JSON object")
    return value


def decode_weights(data: bytes, source: str) -> dict[str, np.ndarray]:
    """The named arrays of a safetensors file (header and spans checked by the Rust core).

    Args:
        data: the safetensors bytes.
        source: how errors name the file.

    Raises:
        FileFormatError: the bytes are not a valid safetensors file.

    Examples:
        >>> arrays = decode_weights(open("w.safetensors", "rb").read(), "'w.safetensors'")
    """
    return decode_weights_and_metadata(data, source)[0]


def decode_weights_and_metadata(data: bytes, source: str) -> tuple[dict, dict]:
    """The named arrays of a safetensors file and its ``__metadata__`` strings.

    Args:
        data: the safetensors bytes.
        source: how errors name the file.

    Raises:
        FileFormatError: the bytes are not a valid safetensors file.

    Examples:
        >>> data = open("w.safetensors", "rb").read()
        >>> arrays, metadata = decode_weights_and_metadata(data, "'w.safetensors'")
        >>> metadata["format"]
        'ferrograd.weights'
    """
    try:
        tensors, metadata = _core.safetensors_loads(data)
    except ValueError as error:
        raise FileFormatError(f"{source}: {error}") from error
    return dict(tensors), dict(metadata)
