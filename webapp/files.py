"""Atomic file writes: temp name in the target folder, fsync, rename, fsync the folder.

A reader (an accounting program watching the folder) never sees a half-written file, and a crash
leaves either the old file or the new one, never a mix.

On Windows a rename onto a file that another program holds open (an antivirus or the search
indexer reading the new file, an editor) fails for a moment; :func:`replace_file` waits for it
(docs/windows.md).
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from webapp import windows

# Antivirus scans and indexers let go within a second or two; past this, someone holds the file.
REPLACE_PATIENCE_SECONDS = 5.0
_FIRST_DELAY = 0.01
_MAX_DELAY = 0.5
# Leaves room for mkstemp's ".<8 random>.tmp" under the usual 255-character limit of a name.
_TEMP_STEM_LENGTH = 40


class FileBusy(PermissionError):
    """The target stayed held by another program for longer than the patience allowed."""


def replace_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    patience: float = REPLACE_PATIENCE_SECONDS,
) -> None:
    """``os.replace``, retried on Windows while another program holds either file.

    The waits grow (with jitter, so two writers do not retry in step) until ``patience`` seconds
    have passed; then :class:`FileBusy`. Elsewhere a PermissionError is a real refusal: raised at once.
    """
    deadline = time.monotonic() + patience
    delay = _FIRST_DELAY
    while True:
        try:
            os.replace(source, target)
            return
        except PermissionError as exc:
            if not windows.is_windows():
                raise
            if time.monotonic() + delay > deadline:
                raise FileBusy(
                    exc.errno,
                    f"{target} stayed in use by another program for {patience:g} s"
                    " (an antivirus, the search indexer or an open editor); try again",
                    str(target),
                ) from exc
        time.sleep(random.uniform(delay / 2, delay))
        delay = min(delay * 2, _MAX_DELAY)


def fsync_dir(folder: Path) -> None:
    # Windows cannot open a directory as a file; NTFS journals the rename itself.
    if windows.is_windows():
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
    prefix = f".{target.name[:_TEMP_STEM_LENGTH]}."
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        if permissions is not None:
            os.chmod(tmp, permissions)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        replace_file(tmp, target)
        fsync_dir(target.parent)
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


# Locks on a whole open file, for one holder at a time across processes (serve.lock, the store's
# turnstile): flock on POSIX, held per open file; on Windows a lock on byte 0 of the handle (the
# files stay empty). Both refuse at once when another holds the lock: BlockingIOError on POSIX,
# PermissionError (EACCES) on Windows; any other OSError means the file cannot be locked at all.
def lock_file(fd: int) -> None:
    if windows.is_windows():
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def unlock_file(fd: int) -> None:
    """Windows frees a lock at close only "when resources allow": a process starting at once (an
    update installed at start) could find it still held. So it is let go explicitly."""
    with contextlib.suppress(OSError):
        if windows.is_windows():
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
