"""The drop folder source: a local folder where an (S)FTP server, a synced folder or a person puts
Scrada's daily-receipt UBL and CODA files, scanned like any other source.

What a scan takes and leaves (and why):
- Hidden and temporary names (`.*`, `~*`, `*.tmp`, `*.part`, `*.filepart`) are what uploaders and
  editors write before the final rename: never touched. Folders (`processed/` included) neither.
- A file still being written is left for the next scan: modified in the last `settle_seconds`, its
  size or modification time changed while it was read, its size changed since the previous scan
  of this DropFolder, or (Windows) it cannot be opened because the writer holds it.
- The kind is decided by content, never by the name: a UBL Invoice/CreditNote root is 'ubl', a
  record 0 of 128 columns is 'coda'. Anything else stays where it is and is reported once per
  DropFolder (unless it changes); so is a file over formats.MAX_DOCUMENT_BYTES, which is not read.
- At most `limit` files per scan, oldest first (statements in the order they were dropped).
- Once delivered (or quarantined), `mark_processed` moves the file into `processed/`, under a
  numbered name when that name is taken (`x.xml` → `x (2).xml`); the move never overwrites.
- `document_id(file)` comes from the content: a kill -9 between the delivery and the move leaves the
  file in place, and the next scan offers the same id, which delivery recognises and skips.

Interface:
    folder = DropFolder(path, settle_seconds=10, limit=200)   keep it between scans
    result = folder.scan()          -> ScanResult(files: list[DroppedFile], refused: list[Refused])
    document_id(file) -> str        "drop-" + 24 hex digits of the SHA-256
    mark_processed(file) -> Path    where the file now is
    BOOK_KINDS                      'ubl' -> 'daily-receipts', 'coda' -> 'cash-book'
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

from webapp.i18n import N_
from webapp.scrada import formats
from webapp.scrada.sniff import document_kind as sniff_kind

PROCESSED = "processed"
BOOK_KINDS = {"ubl": "daily-receipts", "coda": "cash-book"}
_TEMPORARY_SUFFIXES = (".tmp", ".part", ".filepart")
_SNIFF_BYTES = 4096
_MAX_NUMBERED = 10_000
_WINDOWS = os.name == "nt"


@dataclass(frozen=True)
class DroppedFile:
    path: Path
    name: str
    kind: str  # 'ubl' or 'coda'
    data: bytes
    sha256: str


@dataclass(frozen=True)
class Refused:
    """A file left in place: an English msgid and its params, reported once."""

    path: Path
    message: str
    params: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanResult:
    files: list[DroppedFile]
    refused: list[Refused]
    more: bool = False  # the limit was reached: scan again soon


def document_id(file: DroppedFile) -> str:
    return "drop-" + file.sha256[:24]


def ignored_name(name: str) -> bool:
    lowered = name.lower()
    return name.startswith((".", "~")) or lowered.endswith(_TEMPORARY_SUFFIXES)


class DropFolder:
    def __init__(self, path: Path, *, settle_seconds: float = 10, limit: int = 200) -> None:
        self.path = Path(path)
        self.settle_seconds = settle_seconds
        self.limit = limit
        self._sizes: dict[str, int] = {}  # name -> size at the previous scan
        self._reported: dict[str, tuple[int, int]] = {}  # name -> (size, mtime_ns) when reported

    def scan(self, now: float | None = None) -> ScanResult:
        """The ready documents of the folder, at most `limit`, oldest first (see the module doc)."""
        now = time.time() if now is None else now
        files: list[DroppedFile] = []
        refused: list[Refused] = []
        candidates = self._candidates()
        previous = self._sizes
        # Remember every size now, even when the limit stops this scan early: the next scan
        # compares against this look.
        self._sizes = {entry.name: stat.st_size for entry, stat in candidates}
        self._reported = {k: v for k, v in self._reported.items() if k in self._sizes}
        for entry, stat in candidates:
            if len(files) >= self.limit:
                return ScanResult(files, refused, more=True)
            if self._settling(previous.get(entry.name), stat, now):
                continue
            outcome = self._read(entry, stat)
            if isinstance(outcome, DroppedFile):
                files.append(outcome)
            elif isinstance(outcome, Refused) and self._first_report(entry.name, stat):
                refused.append(outcome)
        return ScanResult(files, refused)

    def _candidates(self) -> list[tuple[os.DirEntry[str], os.stat_result]]:
        """Regular files with a document's name, oldest first, with their first look (stat)."""
        found = []
        with os.scandir(self.path) as scanner:
            for entry in scanner:
                if ignored_name(entry.name):
                    continue
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    found.append((entry, entry.stat(follow_symlinks=False)))
                except OSError:
                    continue  # gone between the listing and the look: nothing to take
        return sorted(found, key=lambda pair: (pair[1].st_mtime_ns, pair[0].name))

    def _settling(self, previous_size: int | None, stat: os.stat_result, now: float) -> bool:
        if now - stat.st_mtime < self.settle_seconds:
            return True
        return previous_size is not None and previous_size != stat.st_size

    def _first_report(self, name: str, stat: os.stat_result) -> bool:
        signature = (stat.st_size, stat.st_mtime_ns)
        if self._reported.get(name) == signature:
            return False
        self._reported[name] = signature
        return True

    def _read(self, entry: os.DirEntry[str], stat: os.stat_result) -> DroppedFile | Refused | None:
        """The file as a document, a refusal, or None when it is still being written."""
        path = Path(entry.path)
        if stat.st_size > formats.MAX_DOCUMENT_BYTES:
            return Refused(
                path,
                N_("{file} is larger than {limit} MB; it is left in the drop folder."),
                {"file": entry.name, "limit": formats.MAX_DOCUMENT_BYTES // (1024 * 1024)},
            )
        try:
            with path.open("rb") as handle:
                data = handle.read(formats.MAX_DOCUMENT_BYTES + 1)
                after = os.fstat(handle.fileno())
        except PermissionError:
            if _WINDOWS:
                return None  # Windows: the writer still holds the file open without sharing
            return Refused(
                path, N_("{file} cannot be read (permission denied)."), {"file": entry.name}
            )
        except FileNotFoundError:
            return None  # taken away by someone else meanwhile
        if (after.st_size, after.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns) or len(
            data
        ) != stat.st_size:
            return None  # it grew (or was rewritten) while we read it
        kind = sniff_kind(data)
        if kind is None:
            return Refused(
                path,
                N_(
                    "{file} is neither a UBL invoice nor a CODA file; it is left in the drop folder."
                ),
                {"file": entry.name},
            )
        return DroppedFile(path, entry.name, kind, data, sha256(data).hexdigest())


def mark_processed(file: DroppedFile) -> Path:
    """Move the file into `processed/` beside it, never over another file; returns its new path."""
    folder = file.path.parent / PROCESSED
    folder.mkdir(exist_ok=True)
    stem, suffix = _split(file.name)
    for number in range(1, _MAX_NUMBERED):
        name = file.name if number == 1 else f"{stem} ({number}){suffix}"
        target = folder / name
        try:
            _move_no_clobber(file.path, target)
        except FileExistsError:
            continue
        return target
    raise FileExistsError(f"{folder}: too many files named like {file.name}")


def _split(name: str) -> tuple[str, str]:
    stem, dot, suffix = name.rpartition(".")
    return (stem, dot + suffix) if stem else (name, "")


def _move_no_clobber(source: Path, target: Path) -> None:
    """An atomic rename that fails with FileExistsError rather than replace `target`."""
    if _WINDOWS:
        os.rename(source, target)  # Windows refuses an existing target by itself
        return
    if target.exists():
        raise FileExistsError(target)
    try:
        # A hard link fails if the name exists, so two scanners cannot overwrite each other.
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:
        os.rename(source, target)  # a file system without hard links (FAT, some shares)
        return
    os.unlink(source)
