"""Imports started from the browser: the file is kept in the data folder, analysed (a dry run of
the real import), then integrated on request. Each step is a task (webapp/tasks.py), so a run in
the database: the page finds it again by its run id, the history and the command line show it.

The analysis's run keeps what the page shows (the report, its refused rows); the integration's
names the analysis and the kept upload, and is the `backoffice_import` run of the history.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from webapp.backoffice.columns import KINDS
from webapp.backoffice.import_mapping import read_through
from webapp.backoffice.importer import (
    JOB_NAME,
    ImportProblem,
    ImportReport,
    import_csv,
    outcome,
    record_refusal,
)
from webapp.csvio import MAX_FILE_BYTES, CsvError, CsvOptions, CsvReader
from webapp.i18n import N_, UserError
from webapp.jobs import RunContext, Summary
from webapp.store import Store
from webapp.tasks import TaskBusy, TaskRun, TaskRunner, TaskSpec

CHUNK = 1024 * 1024
KEEP_SECONDS = 24 * 3600
PREVIEW_ROWS = 10
_UPLOAD_NAME = re.compile(r"upload-[0-9a-f]{16}\.csv")
ANALYSIS_TASK = "backoffice_analysis"
INTEGRATION_TASK = JOB_NAME  # the same runs as `relais backoffice import`


class UploadTooLarge(UserError):
    """The uploaded file is over the size limit."""


class UploadGone(UserError):
    """The kept upload was removed (a day old, or already integrated)."""


class ImportRefused(UserError):
    """The integration went through the file but wrote nothing (bad rows)."""


def save_upload(
    folder: Path, source: IO[bytes], filename: str, limit: int = MAX_FILE_BYTES
) -> Path:
    """Copy the upload into `folder` in chunks, refusing it past `limit` bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    cleanup(folder)
    target = folder / f"upload-{secrets.token_hex(8)}.csv"
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


def cleanup(folder: Path) -> None:
    """Uploads older than a day, left by a closed page or a restart, are deleted."""
    limit = time.time() - KEEP_SECONDS
    for path in _uploads(folder):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < limit:
                path.unlink()


def _uploads(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from folder.glob("upload-*.csv")


def kept_upload(folder: Path, name: str) -> Path:
    """The kept upload of that name (as a form hands it back); UploadGone if there is none."""
    path = folder / name
    if not _UPLOAD_NAME.fullmatch(name) or not path.is_file():
        raise UploadGone(N_("The file is no longer kept: analyse it again."))
    return path


def read_header(path: Path, options: CsvOptions) -> list[str]:
    """The file's headings as written; CsvError if the file cannot be read."""
    with CsvReader(path, options) as reader:
        return list(reader.raw_header)


def preview(
    path: Path, kind: str, options: CsvOptions, mapping: dict[str, str] | None
) -> dict[str, Any]:
    """The first rows as the import reads them through the mapping: the fields given, in the
    kind's order, and each row's text for them."""
    fields = [column.name for column in KINDS[kind].columns]
    with CsvReader(path, options) as reader:
        header = read_through(reader.header, mapping or {})
        given = [(name, header.index(name)) for name in fields if name in header]
        rows = []
        for record in reader:
            values = record.values
            rows.append([values[i] if i < len(values) else "" for _name, i in given])
            if len(rows) >= PREVIEW_ROWS:
                break
    return {"fields": [name for name, _index in given], "rows": rows}


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)


# -- the two tasks -----------------------------------------------------------------------------


def upload_folder(data_path: Path) -> Path:
    """Where uploads wait between their analysis and their integration."""
    return data_path / "imports"


def _import(
    context: RunContext, params: dict[str, Any], upload: Path, *, dry_run: bool
) -> ImportReport:
    total = _count_lines(upload)
    label = N_("Analysing…") if dry_run else N_("Importing…")
    context.progress(0, total, label)

    def progress(rows: int) -> None:
        context.check_stop()  # Relais closing while the file is checked: nothing is written
        context.progress(rows, total, label)

    report = import_csv(
        context.store,
        params["kind"],
        upload,
        CsvOptions(**params["options"]),
        skip_bad=bool(params["skip_bad"]),
        dry_run=dry_run,
        progress=progress,
        run=context,
        file_name=params["file"],
        mapping=params.get("mapping"),
    )
    context.progress(report.rows, report.rows, label)
    return report


def analyse(context: RunContext, params: dict[str, Any]) -> Summary:
    """The dry run: the report is the run's result; the upload stays for the integration."""
    upload = upload_folder(context.data_dir.path) / params["upload"]
    try:
        report = _import(context, params, upload, dry_run=True)
    except Exception:
        upload.unlink(missing_ok=True)  # a refused file will not be integrated
        raise
    options = CsvOptions(**params["options"])
    shown = preview(upload, params["kind"], options, params.get("mapping"))
    context.save_result({**report.to_result(), "preview": shown})
    counts = {"rows": report.rows, "created": report.created, "updated": report.updated}
    return Summary(
        N_("Analysis: {rows} rows, {created} to create, {updated} to update, {rejected} bad."),
        {**counts, "rejected": report.rejected},
    )


def integrate(context: RunContext, params: dict[str, Any]) -> Summary:
    """The import itself, recorded into this run; the upload is removed whatever happens."""
    upload = upload_folder(context.data_dir.path) / params["upload"]
    try:
        if not upload.is_file():
            raise UploadGone(N_("The file is no longer kept: analyse it again."))
        try:
            report = _import(context, params, upload, dry_run=False)
        except (CsvError, ImportProblem) as exc:
            record_refusal(
                context.store,
                params["kind"],
                Path(params["file"]),
                exc,
                "manual",
                run_id=context.run_id,
            )
            raise
    finally:
        upload.unlink(missing_ok=True)
    context.save_result(report.to_result())
    _status, message, message_params = outcome(report)
    if not report.committed:
        raise ImportRefused(message, **message_params)
    return Summary(message, message_params)


ANALYSIS = TaskSpec(ANALYSIS_TASK, N_("Analysis of a CSV file"), analyse)
INTEGRATION = TaskSpec(INTEGRATION_TASK, N_("Import a CSV file"), integrate)


# -- what the page asks ------------------------------------------------------------------------


def start_analysis(
    tasks: TaskRunner,
    upload: Path,
    *,
    kind: str,
    filename: str,
    options: CsvOptions,
    skip_bad: bool,
    mapping: dict[str, str] | None = None,
) -> int:
    """The analysis's run id; TaskBusy (the upload removed) if one of this kind is under way."""
    params = {
        "kind": kind,
        "upload": upload.name,
        "file": filename,
        "mapping": mapping,
        "options": {
            "encoding": options.encoding,
            "delimiter": options.delimiter,
            "decimal": options.decimal,
            "date_format": options.date_format,
        },
        "skip_bad": skip_bad,
    }
    try:
        return tasks.start(ANALYSIS_TASK, params, subject=kind)
    except TaskBusy:
        upload.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class ImportStep:
    """One step of a browser import (its analysis or its integration), as its page shows it."""

    task: TaskRun
    report: ImportReport | None

    @property
    def id(self) -> int:
        return self.task.id

    @property
    def analysis(self) -> bool:
        return self.task.name == ANALYSIS_TASK

    @property
    def kind(self) -> str:
        return str(self.task.params.get("kind", ""))

    @property
    def filename(self) -> str:
        return str(self.task.params.get("file", ""))

    @property
    def upload(self) -> str:
        return str(self.task.params.get("upload", ""))

    @property
    def preview(self) -> dict[str, Any] | None:
        """The first rows through the mapping (an analysis's), see preview()."""
        result = self.task.result or {}
        shown = result.get("preview")
        return shown if isinstance(shown, dict) else None

    @property
    def running(self) -> bool:
        return self.task.running

    @property
    def state(self) -> str:
        """analysing, analysed, importing, imported, refused (or interrupted)."""
        if self.running:
            return "analysing" if self.analysis else "importing"
        if self.report is not None:
            return "analysed" if self.analysis else "imported"
        return "refused" if self.task.status == "failed" else self.task.status

    @property
    def can_import(self) -> bool:
        report = self.report
        if self.state != "analysed" or report is None:
            return False
        return report.errors_total == 0 or (report.skip_bad and report.imported > 0)


def import_step(tasks: TaskRunner, run_id: int) -> ImportStep | None:
    task = tasks.get(run_id)
    if task is None or task.name not in (ANALYSIS_TASK, INTEGRATION_TASK) or not task.params:
        return None  # not a browser import (a `relais backoffice import` has no page)
    report = ImportReport.from_result(task.result) if task.result else None
    return ImportStep(task, report)


def integration_of(store: Store, analysis_id: int) -> int | None:
    """The integration started from this analysis, if any: an analysis is integrated once."""
    with store.read() as db:
        row = db.execute(
            "SELECT id FROM runs WHERE job_name = ? AND json_extract(result, '$.params.analysis')"
            " = ? ORDER BY id DESC LIMIT 1",
            [INTEGRATION_TASK, analysis_id],
        ).fetchone()
    return int(row[0]) if row else None


def confirm(tasks: TaskRunner, analysis: ImportStep, folder: Path) -> int:
    """Start the integration of an analysed file, from the upload it kept; the run id to show next.

    The analysis itself when it cannot be integrated, the integration already started from it if
    there is one; UploadGone if the kept upload is gone (a day old), TaskBusy if another
    integration of this kind is under way.
    """
    started = integration_of(tasks.store, analysis.id)
    if started is not None:
        return started
    if not analysis.can_import:
        return analysis.id
    kept_upload(folder, analysis.upload)
    params = {**analysis.task.params, "analysis": analysis.id}
    try:
        return tasks.start(INTEGRATION_TASK, params, subject=analysis.kind)
    except TaskBusy:
        started = integration_of(tasks.store, analysis.id)  # a double click started it
        if started is None:
            raise
        return started
