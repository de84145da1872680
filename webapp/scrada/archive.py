"""The archive of delivered Scrada documents: a gzip copy of each one, named by its sha256.

A document is kept before its delivery row is committed, so every recorded delivery has its copy
(a kill -9 in between leaves an unreferenced copy, which the purge removes after the retention).
`scrada redeliver` rewrites from here the files that the accounting software moved away.

Layout: DATA/scrada-archive/ab/cdef….gz, where abcdef… is the sha256 of the document's bytes
(the `sha256` column of `scrada_deliveries`): the same bytes delivered twice are one file.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from webapp import clock, settings
from webapp.config import DataDir
from webapp.files import atomic_write_bytes, remove_stale_temporary_files
from webapp.i18n import N_, N_plural, UserError
from webapp.jobs import JobSpec, RunContext, Summary
from webapp.store import Store

log = logging.getLogger(__name__)

FOLDER = "scrada-archive"
SUFFIX = ".gz"
TEMPORARY = ".tmp"
RETENTION_KEY = "scrada_archive_retention_months"
PURGE_JOB = "scrada_archive_purge"
_HEX = frozenset("0123456789abcdef")

Where = DataDir | Store | Path


class ArchiveError(UserError):
    """An archived copy that cannot give back the delivered bytes."""


class CopyMissing(ArchiveError):
    pass


class CopyDamaged(ArchiveError):
    pass


def folder(where: Where) -> Path:
    """The archive folder of a data folder (given as a DataDir, its path, or its Store: the
    database always lives at the top of the data folder)."""
    if isinstance(where, DataDir):
        return where.path / FOLDER
    if isinstance(where, Store):
        return where.path.parent / FOLDER
    return Path(where) / FOLDER


def copy_path(where: Where, sha256: str) -> Path:
    digest = sha256.lower()
    if len(digest) != 64 or not set(digest) <= _HEX:
        raise ValueError(f"not a sha256: {sha256!r}")
    return folder(where) / digest[:2] / f"{digest[2:]}{SUFFIX}"


def keep(where: Where, data: bytes) -> str:
    """Store `data` (once per content) and return its sha256. An existing copy is touched, so a
    purge running beside a delivery sees it as fresh; a damaged one is written again."""
    digest = hashlib.sha256(data).hexdigest()
    target = copy_path(where, digest)
    if _intact(target, digest):
        with contextlib.suppress(OSError):
            os.utime(target)
        return digest
    # mtime=0: the same bytes always compress to the same file.
    packed = gzip.compress(data, compresslevel=6, mtime=0)
    atomic_write_bytes(target, packed, tmp_dir=folder(where) / TEMPORARY)
    return digest


def packed_copy(where: Where, data: bytes) -> tuple[Path, bytes] | None:
    """For a batch (webapp/scrada/batch.py): where the copy of `data` goes and its gzip bytes, or
    None when an intact copy is there (touched, as `keep` does). The batch writes and fsyncs it with
    the documents themselves, before their rows: one journal commit for all."""
    digest = hashlib.sha256(data).hexdigest()
    target = copy_path(where, digest)
    if _intact(target, digest):
        with contextlib.suppress(OSError):
            os.utime(target)
        return None
    return target, gzip.compress(data, compresslevel=6, mtime=0)


def temporary_folder(where: Where) -> Path:
    return folder(where) / TEMPORARY


def read(where: Where, sha256: str) -> bytes:
    """The delivered bytes, checked against their sha256; CopyMissing or CopyDamaged."""
    return _unpack(copy_path(where, sha256), sha256)


def _unpack(path: Path, sha256: str) -> bytes:
    try:
        packed = path.read_bytes()
    except FileNotFoundError as exc:
        raise CopyMissing(N_("No archived copy of this document.")) from exc
    try:
        data = gzip.decompress(packed)
    except (OSError, EOFError, zlib.error) as exc:
        raise CopyDamaged(N_("The archived copy is damaged: it cannot be read.")) from exc
    if hashlib.sha256(data).hexdigest() != sha256.lower():
        raise CopyDamaged(
            N_("The archived copy is damaged: its content is not the delivered document.")
        )
    return data


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read by chunks (a CODA file of a busy shop is not small)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _intact(path: Path, digest: str) -> bool:
    try:
        _unpack(path, digest)
    except ArchiveError:
        return False
    return True


# -- purge --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeReport:
    removed: int
    kept: int


def _copies(root: Path) -> Iterator[tuple[str, Path]]:
    """(sha256, path) of every copy; anything else in the folder is not ours and stays."""
    if not root.is_dir():
        return
    for sub in sorted(root.iterdir()):
        if not sub.is_dir() or len(sub.name) != 2 or not set(sub.name) <= _HEX:
            continue
        for path in sorted(sub.glob(f"*{SUFFIX}")):
            digest = sub.name + path.name[: -len(SUFFIX)]
            if len(digest) == 64 and set(digest) <= _HEX:
                yield digest, path


def _referenced_since(store: Store, cutoff: datetime) -> set[str]:
    stamp = clock.to_iso(cutoff)
    with store.read() as db:
        rows = db.execute(
            "SELECT DISTINCT sha256 FROM scrada_deliveries"
            " WHERE state = 'delivered' AND delivered_at >= ?",
            [stamp],
        ).fetchall()
    return {str(row[0]).lower() for row in rows}


def purge(
    store: Store,
    where: Where,
    months: int,
    *,
    now: datetime | None = None,
    check_stop: Callable[[], None] | None = None,
) -> PurgeReport:
    """Remove each copy that no delivery within the last `months` refers to and that was not
    stored or touched within them either (a delivery under way touches its copy first)."""
    cutoff = clock.months_ago(months, now)
    wanted = _referenced_since(store, cutoff)
    root = folder(where)
    remove_stale_temporary_files(root / TEMPORARY)
    limit = cutoff.timestamp()
    removed = kept = 0
    for index, (digest, path) in enumerate(_copies(root)):
        if check_stop is not None and index % 500 == 0:
            check_stop()
        if digest in wanted or _mtime(path) >= limit:
            kept += 1
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        removed += 1
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only when it became empty
    return PurgeReport(removed, kept)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return time.time()


def retention_months(store: Store) -> int:
    return int(settings.get(store, RETENTION_KEY))


def purge_job(context: RunContext) -> Summary:
    months = retention_months(context.store)
    context.progress(0, None, N_("Deleting old archived documents"))
    report = purge(context.store, context.data_dir, months, check_stop=context.check_stop)
    context.item(
        "scrada",
        "done",
        message=N_plural(
            "{n} archived document older than {months} months deleted",
            "{n} archived documents older than {months} months deleted",
        ),
        n=report.removed,
        months=months,
    )
    return Summary(
        N_("{removed} archived documents older than {months} months deleted, {kept} kept."),
        {"removed": report.removed, "kept": report.kept, "months": months},
    )


ARCHIVE_PURGE = JobSpec(
    name=PURGE_JOB,
    title=N_("Scrada archive purge"),
    description=N_(
        "Deletes the archived copies of delivered Scrada documents older than their retention."
    ),
    func=purge_job,
    default_trigger=("cron", "45 3 * * *"),
)
