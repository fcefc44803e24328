"""Atomic file writes: a file is written to a temporary file in the same folder, flushed to
disk, renamed over the target, and the folder is flushed too. A crash or a kill during a write
leaves the previous file intact; a temporary file left by a killed process is removed by the
next write to the same path.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile


def _temporary_prefix(path: str) -> str:
    return f".{os.path.basename(path)}.tmp-"


def _remove_stale_temporaries(path: str) -> None:
    """Deletes temporary files that a killed save to ``path`` left behind (their process is
    gone)."""
    directory = os.path.dirname(path) or "."
    pattern = re.compile(re.escape(_temporary_prefix(path)) + r"(\d+)-")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = pattern.match(name)
        if match is None or _process_alive(int(match.group(1))):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def atomic_write(path, write) -> None:
    """Calls ``write(file)`` on a temporary file beside ``path`` and, once it is complete and on
    disk, renames it over ``path``.

    Args:
        path: the file to write (its folder must exist).
        write: a function of a binary file object that writes the whole content.

    Raises:
        IsADirectoryError: ``path`` is a folder.
        FileNotFoundError: the folder does not exist.
        PermissionError: the folder is not writable.

    Examples:
        >>> atomic_write("notes.bin", lambda file: file.write(b"all or nothing"))
    """
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"cannot save to {path!r}: it is a folder", path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            errno.ENOENT, f"cannot save to {path!r}: the folder {directory!r} does not exist", path
        )
    _remove_stale_temporaries(path)
    try:
        handle, temporary = tempfile.mkstemp(
            dir=directory, prefix=f"{_temporary_prefix(path)}{os.getpid()}-", suffix=".part"
        )
    except PermissionError as error:
        raise PermissionError(
            errno.EACCES, f"cannot save to {path!r}: the folder {directory!r} is not writable", path
        ) from error
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_folder(directory)


def _fsync_folder(directory: str) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
