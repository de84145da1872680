"""Imports started from the browser: the file is kept in the data folder, analysed (a dry run of
the real import), then integrated on request, each step in a background thread with live progress.

The tasks live in memory: a restart forgets them (and `cleanup` removes their files), which is
what a user expects of an analysis left on screen.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from webapp.backoffice.importer import ImportProblem, ImportReport, import_csv, record_refusal
from webapp.csvio import MAX_FILE_BYTES, CsvError, CsvOptions
from webapp.i18n import UserError
from webapp.store import Store

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
KEEP_SECONDS = 24 * 3600


class UploadTooLarge(UserError):
    """The uploaded file is over the size limit."""


@dataclass
class ImportTask:
    token: str
    kind: str
    path: Path
    filename: str
    options: CsvOptions
    skip_bad: bool
    total_rows: int
    state: str = "analysing"  # analysing, analysed, importing, imported, refused
    done_rows: int = 0
    report: ImportReport | None = None
    error: UserError | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def running(self) -> bool:
        return self.state in ("analysing", "importing")

    @property
    def can_import(self) -> bool:
        report = self.report
        if self.state != "analysed" or report is None:
            return False
        return report.errors_total == 0 or (self.skip_bad and report.imported > 0)


class ImportTasks:
    """The browser's imports of one data folder."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self._tasks: dict[str, ImportTask] = {}
        self._lock = threading.Lock()

    def save_upload(self, source: IO[bytes], filename: str, limit: int = MAX_FILE_BYTES) -> Path:
        """Copy the upload into the data folder in chunks, refusing it past `limit` bytes."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cleanup()
        target = self.folder / f"upload-{secrets.token_hex(8)}.csv"
        written = 0
        with target.open("wb") as handle:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    handle.close()
                    target.unlink(missing_ok=True)
                    raise UploadTooLarge(
                        "The file {file} is too large: the limit is {limit} MB.",
                        file=filename,
                        limit=limit // (1024 * 1024),
                    )
                handle.write(chunk)
        return target

    def start(
        self, kind: str, path: Path, filename: str, options: CsvOptions, skip_bad: bool
    ) -> ImportTask:
        task = ImportTask(
            token=secrets.token_urlsafe(12),
            kind=kind,
            path=path,
            filename=filename,
            options=options,
            skip_bad=skip_bad,
            total_rows=_count_lines(path),
        )
        with self._lock:
            self._tasks[task.token] = task
        self._spawn(task, dry_run=True)
        return task

    def confirm(self, token: str) -> ImportTask | None:
        task = self.get(token)
        if task is None or not task.can_import:
            return task
        task.state, task.done_rows = "importing", 0
        self._spawn(task, dry_run=False)
        return task

    def get(self, token: str) -> ImportTask | None:
        with self._lock:
            return self._tasks.get(token)

    def _spawn(self, task: ImportTask, *, dry_run: bool) -> None:
        thread = threading.Thread(
            target=self._run, args=(task, dry_run), name=f"import-{task.token}", daemon=True
        )
        thread.start()

    def _run(self, task: ImportTask, dry_run: bool) -> None:
        def progress(rows: int) -> None:
            task.done_rows = rows

        try:
            task.report = import_csv(
                self.store,
                task.kind,
                task.path,
                task.options,
                skip_bad=task.skip_bad,
                dry_run=dry_run,
                progress=progress,
                origin="manual",
            )
            task.state = "analysed" if dry_run else "imported"
        except (CsvError, ImportProblem) as exc:
            task.error, task.state = exc, "refused"
            if not dry_run:
                record_refusal(self.store, task.kind, Path(task.filename), exc, "manual")
        except Exception as exc:
            log.exception("import of %s failed", task.filename)
            task.error = UserError(
                "The import stopped on an unexpected error: {detail}", detail=str(exc)
            )
            task.state = "refused"
        if task.state in ("imported", "refused"):
            with contextlib.suppress(OSError):
                task.path.unlink()

    def cleanup(self) -> None:
        """Uploads older than a day, left by a closed page or a restart, are deleted."""
        limit = time.time() - KEEP_SECONDS
        for path in _uploads(self.folder):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < limit:
                    path.unlink()


def _uploads(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from folder.glob("upload-*.csv")


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)
