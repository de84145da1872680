"""Atomic file writes: temp name in the target folder, fsync, rename, fsync the folder.

A reader (an accounting program watching the folder) never sees a half-written file, and a crash
leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _fsync_dir(folder: Path) -> None:
    # Windows cannot open a directory for fsync; its rename is already durable enough there.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(
    target: Path,
    mode: str = "wb",
    *,
    permissions: int | None = None,
    tmp_dir: Path | None = None,
) -> Iterator[IO[bytes]]:
    """Yield a file object; on clean exit its content replaces ``target`` atomically.

    ``tmp_dir`` (on the same file system) keeps the temporary file out of the target folder, so
    a program watching that folder never sees one, even one left by a kill -9.
    """
    if mode not in ("wb", "w"):
        raise ValueError("atomic_open only writes ('wb' or 'w')")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = tmp_dir or target.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        if permissions is not None:
            os.chmod(tmp, permissions)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(
    target: Path, data: bytes, *, permissions: int | None = None, tmp_dir: Path | None = None
) -> None:
    with atomic_open(target, permissions=permissions, tmp_dir=tmp_dir) as handle:
        handle.write(data)


def remove_stale_temporary_files(folder: Path, older_than_seconds: float = 3600) -> int:
    """Temporary files of writes that a crash cut short; recent ones may still be in use."""
    if not folder.is_dir():
        return 0
    limit = time.time() - older_than_seconds
    removed = 0
    for path in folder.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
    return removed


def atomic_write_text(
    target: Path, text: str, *, encoding: str = "utf-8", permissions: int | None = None
) -> None:
    atomic_write_bytes(target, text.encode(encoding), permissions=permissions)
