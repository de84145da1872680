"""`relais backoffice import KIND FILE`: CSV rows into the back office, all-or-nothing by default.

Articles, customers and suppliers (the big kinds) are read, checked and mapped first, on a
connection of their own into staging tables (webapp/backoffice/import_stage.py), without holding
the one writer; only when the whole file passed (or `skip_bad` drops the bad rows) are the staged
rows written, in short chunks (webapp/backoffice/import_apply.py), so the UI can save meanwhile.
The small kinds (units, VAT rates, contacts, registers, users) go in one transaction on the
writer, rolled back if any row is bad. A dry run is the same pass with every write rolled back:
the analysis the UI shows is the real import.
Re-importing a file updates rows by their key (the code) and touches only rows that changed.
The rows are checked by webapp/backoffice/row_checks.py and written by the kind's handler.

Each import is one run in the history: the command line's is started here (before the first
chunk is written, so an import cut short leaves a trace); a browser import is a task
(webapp/backoffice/uploads.py) whose run is handed in, and the import records into it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webapp import history
from webapp.backoffice import handlers
from webapp.backoffice.columns import KINDS, Kind
from webapp.backoffice.handler_base import Handler
from webapp.backoffice.handler_rows import BATCH, RowProblem
from webapp.backoffice.import_apply import Applying, ApplyResult, ImportStopped, apply_or_stop
from webapp.backoffice.import_mapping import read_through
from webapp.backoffice.import_stage import staging, staging_connection
from webapp.backoffice.row_checks import (
    ImportProblem,
    KeyTracker,
    Row,
    RowError,
    ValueParser,
    check_width,
    ignored_columns,
    map_header,
    parse_values,
)
from webapp.csvio import CsvError, CsvOptions, CsvReader
from webapp.i18n import N_, UserError
from webapp.run_context import RunContext
from webapp.store import Store

log = logging.getLogger(__name__)

JOB_NAME = "backoffice_import"
MAX_ERRORS_KEPT = 1000
MAX_ERRORS_IN_HISTORY = 100
MAX_ERRORS_IN_RESULT = 200  # what the import page lists; the count says how many more
PROGRESS_EVERY = 2000

history.KIND_LABELS["import"] = N_("import")


@dataclass
class ImportReport:
    kind: str
    file: str
    dry_run: bool = False
    skip_bad: bool = False
    format: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    committed: bool = False
    ignored_columns: list[str] = field(default_factory=list)
    created_references: list[str] = field(default_factory=list)
    created_codes: list[str] = field(default_factory=list)  # the first few, for the analysis
    updated_codes: list[str] = field(default_factory=list)
    run_id: int | None = None
    longest_write: float = 0.0  # seconds: the longest time the import held the writer at once

    def add_error(self, error: RowError) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(error)

    @property
    def imported(self) -> int:
        return self.created + self.updated

    def to_result(self) -> dict[str, Any]:
        """What a browser import's run keeps for its page: messages as msgids, as in the history."""
        data = self.as_dict()
        data["skip_bad"] = self.skip_bad
        data["errors"] = [
            {"line": e.line, "column": e.column, "message": e.message, "params": e.params}
            for e in self.errors[:MAX_ERRORS_IN_RESULT]
        ]
        return data

    @classmethod
    def from_result(cls, data: dict[str, Any]) -> ImportReport:
        report = cls(data["kind"], data["file"], dry_run=data["dry_run"])
        names = ("skip_bad", "format", "rows", "created", "updated", "rejected")
        for name in (*names, "created_codes", "updated_codes"):
            setattr(report, name, data.get(name, getattr(report, name)))
        report.errors = [RowError(**error) for error in data["errors"]]
        report.errors_total, report.committed = data["errors_total"], data["committed"]
        report.ignored_columns, report.run_id = data["ignored_columns"], data["run_id"]
        return report

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.errors_total == 0,
            "kind": self.kind,
            "file": self.file,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "format": self.format,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
            "errors_total": self.errors_total,
            "errors": [error.as_dict() for error in self.errors],
            "ignored_columns": self.ignored_columns,
            "created_references": self.created_references,
            "created_codes": self.created_codes,
            "updated_codes": self.updated_codes,
            "run_id": self.run_id,
        }


class _Rollback(Exception):
    pass


ProgressCallback = Callable[[int], None]


def import_csv(
    store: Store,
    kind_name: str,
    path: Path,
    options: CsvOptions | None = None,
    *,
    skip_bad: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    origin: str = "command",
    record_history: bool = True,
    run: RunContext | None = None,
    file_name: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> ImportReport:
    """Import one CSV file of `kind_name`; raises CsvError/ImportProblem when it cannot start.

    With `run`, what the import did is recorded into that run (a task's), which its caller ends;
    without, a run of its own is recorded. `file_name` is the name the user knows the file by (an
    upload is kept under another). `mapping` says which field each heading gives
    (webapp/backoffice/import_mapping.py). A dry run records nothing.
    """
    kind = KINDS.get(kind_name)
    if kind is None:
        raise ImportProblem(
            "Unknown kind {kind}: choose one of {kinds}.", kind=kind_name, kinds=", ".join(KINDS)
        )
    path = Path(path)
    report = ImportReport(kind_name, file_name or str(path), dry_run=dry_run, skip_bad=skip_bad)
    own_run = run is None and record_history and not dry_run
    decimals, dates = _typed_headings(kind, mapping or {})
    with CsvReader(path, options, decimal_columns=decimals, date_columns=dates) as reader:
        if mapping:
            reader.header = read_through(reader.header, mapping)
        report.format = reader.format.describe()
        if handlers.is_bulk(kind_name):
            with staging_connection(store) as conn:
                with staging(conn):
                    handler = _check(conn, kind, reader, report, progress)
                if dry_run or skip_bad or not report.errors_total:
                    if own_run:
                        report.run_id = history.start_run(store, JOB_NAME, origin)
                    applying = Applying(report.kind, report.file, report.rows - report.rejected)
                    applying.run_id = report.run_id
                    _applied(report, apply_or_stop(store, handler, applying, dry_run=dry_run))
                handler.close()
        else:
            _in_one_transaction(store, kind, reader, report, progress)
    if not report.committed and not dry_run:
        report.created = report.updated = 0
    if run is not None and not dry_run:
        record_items(store, run.run_id, report)
        report.run_id = run.run_id
    elif own_run:
        report.run_id = _record(store, report, origin, report.run_id)
    return report


def _typed_headings(kind: Kind, mapping: Mapping[str, str]) -> tuple[set[str], set[str]]:
    """The headings whose values tell the decimal mark and the date format: the kind's own
    names, and those the mapping gives a decimal or date field."""
    decimals, dates = kind.decimal_columns, kind.date_columns
    decimals |= {heading for heading, field in mapping.items() if field in decimals}
    dates |= {heading for heading, field in mapping.items() if field in dates}
    return decimals, dates


def _applied(report: ImportReport, applied: ApplyResult) -> None:
    report.created = applied.created
    report.updated = applied.rows - applied.created
    report.created_references = applied.families
    report.created_codes, report.updated_codes = applied.created_codes, applied.updated_codes
    report.longest_write = applied.longest_hold
    report.committed = not report.dry_run


def _in_one_transaction(
    store: Store,
    kind: Kind,
    reader: CsvReader,
    report: ImportReport,
    progress: ProgressCallback | None,
) -> None:
    started = time.perf_counter()
    try:
        with store.write() as db:
            handler = _check(db.conn, kind, reader, report, progress)
            handler.close()
            report.created, report.updated = handler.counts(report.rows - report.rejected)
            report.created_references = handler.created_references
            if report.dry_run or (report.errors_total and not report.skip_bad):
                raise _Rollback()
            report.committed = True
    except _Rollback:
        pass
    report.longest_write = time.perf_counter() - started


def _check(
    conn: sqlite3.Connection,
    kind: Kind,
    reader: CsvReader,
    report: ImportReport,
    progress: ProgressCallback | None,
) -> Handler:
    """Every row read and checked, the good ones handed to the kind's handler (on `conn`)."""
    handler = handlers.make(kind.name, conn, reader.format)
    fields = map_header(kind, reader, handler.extra_column)
    report.ignored_columns = ignored_columns(reader, fields)
    handler.start({item.name for item in fields})
    width = len(reader.header)
    keys = KeyTracker(conn, kind)
    parse = ValueParser(fields)
    pending: list[Row] = []
    for record in reader:
        report.rows += 1
        values = record.values
        row = Row(
            record.line, {}, [] if len(values) == width else check_width(record.line, values, width)
        )
        if not row.problems:
            row.problems = parse(record.line, values, row.values)
        pending.append(row)
        if len(pending) >= BATCH:
            _settle(pending, keys, handler, report)
            pending = []
        if progress and report.rows % PROGRESS_EVERY == 0:
            progress(report.rows)
    _settle(pending, keys, handler, report)
    handler.finish()
    keys.close()
    if progress:
        progress(report.rows)
    return handler


def _settle(rows: list[Row], keys: KeyTracker, handler: Handler, report: ImportReport) -> None:
    """Check a batch's keys against the file so far, then hand the good rows to the handler."""
    keys.check(rows)
    for row in rows:
        if not row.problems:
            try:
                handler.row(row.values)
            except RowProblem as refused:
                row.problems = [RowError(row.line, refused.column, refused.message, refused.params)]
        if row.problems:
            report.rejected += 1
            for error in row.problems:
                report.add_error(error)


def _record(store: Store, report: ImportReport, origin: str, run_id: int | None = None) -> int:
    if run_id is None:
        run_id = history.start_run(store, JOB_NAME, origin)
    record_items(store, run_id, report)
    history.finish_run(store, run_id, *outcome(report))
    return run_id


def record_items(store: Store, run_id: int, report: ImportReport) -> None:
    """The rejected rows (the first hundred) and what was written, as items of the run.

    A row left out because the user asked for the good rows only is skipped, not an error: the
    history does not ask to review what the user chose."""
    name = file_label(report.file)
    left_out = report.committed and report.skip_bad
    status = "skipped" if left_out else "error"
    message = N_("{file}, left out as asked: {problem}") if left_out else N_("{file}, {problem}")
    for error in report.errors[:MAX_ERRORS_IN_HISTORY]:
        history.add_item(
            store,
            run_id,
            JOB_NAME,
            kind="import",
            status=status,
            reference=f"{name}:{error.line}",
            message=message,
            params={"file": name, "problem": error.translated()},
        )
    if report.committed:
        history.add_item(
            store,
            run_id,
            JOB_NAME,
            kind="import",
            status="done",
            reference=name,
            message=N_("{file}: {created} created, {updated} updated"),
            params={"file": name, "created": report.created, "updated": report.updated},
        )


def file_label(file: str) -> str:
    """The file's own name, without the folders (a browser may send C:\\…\\name.csv)."""
    return Path(file.replace("\\", "/")).name


def outcome(report: ImportReport) -> tuple[str, str, dict[str, Any]]:
    """The run's status, message and its params for an import that went through the file."""
    params: dict[str, Any] = {"kind": report.kind, "file": file_label(report.file)}
    params["rows"] = report.rows
    params.update(created=report.created, updated=report.updated, errors=report.errors_total)
    if report.committed:
        status = "warning" if report.errors_total else "success"
        message = N_(
            "Import of {kind} from {file}: {rows} rows, {created} created, {updated} updated, {errors} rejected"
        )
    else:
        status = "failed"
        message = N_("Import of {kind} from {file} refused: {errors} bad rows, nothing written")
    return status, message, params


def record_refusal(
    store: Store,
    kind: str,
    path: Path,
    error: UserError,
    origin: str,
    *,
    run_id: int | None = None,
) -> None:
    """A file that could not even be read leaves a trace in the history too.

    With `run_id` (a task's run) the trace goes into that run, which its task ends failed.
    """
    own_run = run_id is None
    if run_id is None:
        run_id = history.start_run(store, JOB_NAME, origin)
    history.add_item(
        store,
        run_id,
        JOB_NAME,
        kind="import",
        status="error",
        reference=file_label(str(path)),
        message=error.message,
        params=error.params,
    )
    if own_run:
        history.finish_run(
            store,
            run_id,
            "failed",
            N_("Import of {kind} from {file} refused: the file cannot be read"),
            {"kind": kind, "file": file_label(str(path))},
        )


# The e-connecteur and the exporter import these names from here.
__all__ = [
    "CsvError",
    "ImportProblem",
    "ImportReport",
    "ImportStopped",
    "RowError",
    "import_csv",
    "map_header",
    "parse_values",
]
