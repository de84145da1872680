"""`relais backoffice import KIND FILE`: CSV rows into the back office, all-or-nothing by default.

One pass, streamed: each row is read, checked and written inside one transaction; if any row is bad
the transaction is rolled back (unless `skip_bad`), so a file is imported whole or not at all. A
dry run is the same pass always rolled back: the analysis the UI shows is the real import.
Re-importing a file updates rows by their key (the code) and touches only rows that changed.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webapp import history
from webapp.backoffice import handlers
from webapp.backoffice.columns import KINDS, Column, Kind, value_parser
from webapp.csvio import CsvError, CsvOptions, CsvReader, ValueProblem
from webapp.i18n import N_, UserError, gettext
from webapp.store import Store

log = logging.getLogger(__name__)

JOB_NAME = "backoffice_import"
MAX_ERRORS_KEPT = 1000
MAX_ERRORS_IN_HISTORY = 100
PROGRESS_EVERY = 2000

history.KIND_LABELS["import"] = N_("import")


class ImportProblem(UserError):
    """The import cannot start: unknown kind, missing or doubled columns."""

    def __init__(self, message: str, *, line: int | None = None, **params: Any) -> None:
        if line is not None:
            params["line"] = line
        super().__init__(message, **params)
        self.line = line


@dataclass
class RowError:
    line: int
    column: str | None
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def translated(self) -> str:
        text = gettext(self.message, **self.params)
        if self.column:
            return gettext(
                "line {line}, column {column}: {problem}",
                line=self.line,
                column=self.column,
                problem=text,
            )
        return gettext("line {line}: {problem}", line=self.line, problem=text)

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.translated()}


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
    run_id: int | None = None

    def add_error(self, error: RowError) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(error)

    @property
    def imported(self) -> int:
        return self.created + self.updated

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
            "run_id": self.run_id,
        }


class _Rollback(Exception):
    pass


ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class _Field:
    name: str
    index: int
    column: Column
    parse: Callable[[str], Any]


def _map_header(
    kind: Kind, reader: CsvReader, extra: Callable[[str], Column | None]
) -> list[_Field]:
    by_alias: dict[str, Column] = {}
    for defined in kind.columns:
        for name in (defined.name, *defined.aliases):
            by_alias.setdefault(name, defined)
    fields: list[_Field] = []
    seen: dict[str, int] = {}
    for index, header in enumerate(reader.header):
        column = by_alias.get(header) or extra(header)
        if column is None:
            continue
        if column.name in seen:
            raise ImportProblem(
                "The columns {first} and {second} both give {column}: keep only one.",
                line=reader.header_line,
                first=reader.raw_header[seen[column.name]],
                second=reader.raw_header[index],
                column=column.name,
            )
        seen[column.name] = index
        fields.append(_Field(column.name, index, column, value_parser(column, reader.format)))
    missing = [
        column.name for column in kind.columns if column.required and column.name not in seen
    ]
    if missing:
        raise ImportProblem(
            "Required columns are missing from the header (line {line}): {columns}. The header"
            " names: {found}.",
            line=reader.header_line,
            columns=", ".join(missing),
            found=", ".join(name for name in reader.raw_header if name) or "-",
        )
    return fields


def _ignored(reader: CsvReader, fields: list[_Field]) -> list[str]:
    used = {item.index for item in fields}
    return [name for index, name in enumerate(reader.raw_header) if index not in used and name]


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
) -> ImportReport:
    """Import one CSV file of `kind_name`; raises CsvError/ImportProblem when it cannot start."""
    kind = KINDS.get(kind_name)
    if kind is None:
        raise ImportProblem(
            "Unknown kind {kind}: choose one of {kinds}.", kind=kind_name, kinds=", ".join(KINDS)
        )
    path = Path(path)
    report = ImportReport(kind_name, str(path), dry_run=dry_run, skip_bad=skip_bad)
    with CsvReader(
        path, options, decimal_columns=kind.decimal_columns, date_columns=kind.date_columns
    ) as reader:
        report.format = reader.format.describe()
        try:
            with store.write() as db:
                _run(db.conn, kind, reader, report, progress)
                if dry_run or (report.errors_total and not skip_bad):
                    raise _Rollback()
                report.committed = True
        except _Rollback:
            pass
    if not report.committed and not dry_run:
        report.created = report.updated = 0
    if record_history and not dry_run:
        report.run_id = _record(store, report, origin)
    return report


def _run(
    conn: sqlite3.Connection,
    kind: Kind,
    reader: CsvReader,
    report: ImportReport,
    progress: ProgressCallback | None,
) -> None:
    handler = handlers.make(kind.name, conn, reader.format)
    fields = _map_header(kind, reader, handler.extra_column)
    report.ignored_columns = _ignored(reader, fields)
    handler.start({item.name for item in fields})
    width = len(reader.header)
    keys = _KeyTracker(conn, kind)
    pending: list[_Row] = []
    for record in reader:
        report.rows += 1
        row = _Row(record.line, {}, _check_width(record.line, record.values, width))
        if not row.problems:
            row.problems = _parse(record.line, record.values, fields, row.values)
        pending.append(row)
        if len(pending) >= handlers.BATCH:
            _settle(pending, keys, handler, report)
            pending = []
        if progress and report.rows % PROGRESS_EVERY == 0:
            progress(report.rows)
    _settle(pending, keys, handler, report)
    handler.finish()
    handler.close()
    keys.close()
    report.created, report.updated = handler.counts(report.rows - report.rejected)
    report.created_references = handler.created_references
    if progress:
        progress(report.rows)


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    problems: list[RowError]


def _settle(
    rows: list[_Row], keys: _KeyTracker, handler: handlers.Handler, report: ImportReport
) -> None:
    """Check a batch's keys against the file so far, then hand the good rows to the handler."""
    keys.check(rows)
    for row in rows:
        if not row.problems:
            try:
                handler.row(row.values)
            except handlers.RowProblem as refused:
                row.problems = [RowError(row.line, refused.column, refused.message, refused.params)]
        if row.problems:
            report.rejected += 1
            for error in row.problems:
                report.add_error(error)


def _check_width(line: int, values: list[str], width: int) -> list[RowError]:
    if len(values) > width and any(value.strip() for value in values[width:]):
        return [
            RowError(
                line,
                None,
                N_(
                    "{count} values where the header has {width} columns (a separator inside"
                    " a value must be put between quotes)"
                ),
                {"count": len(values), "width": width},
            )
        ]
    if len(values) < width:
        return [
            RowError(
                line,
                None,
                N_("{count} values where the header has {width} columns"),
                {"count": len(values), "width": width},
            )
        ]
    return []


def _parse(
    line: int, raw_values: list[str], fields: list[_Field], values: dict[str, Any]
) -> list[RowError]:
    problems: list[RowError] = []
    for item in fields:
        raw = raw_values[item.index]
        if not raw or raw.isspace():
            if item.column.not_empty:
                problems.append(RowError(line, item.name, N_("is empty"), {}))
            values[item.name] = None
            continue
        try:
            values[item.name] = item.parse(raw)
        except ValueProblem as problem:
            problems.append(RowError(line, item.name, problem.message, problem.params))
    return problems


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class _KeyTracker:
    """Finds a key given twice in one file, without holding every key in Python's memory.

    Keys go to a temporary table a batch at a time; only a batch that collides with an earlier
    one is checked row by row to name the lines. Case is ignored as SQLite's NOCASE does (ASCII).
    """

    def __init__(self, conn: sqlite3.Connection, kind: Kind) -> None:
        self.conn = conn
        self.key = kind.key
        conn.execute("DROP TABLE IF EXISTS temp.import_keys")
        conn.execute(
            "CREATE TEMP TABLE import_keys (key TEXT PRIMARY KEY COLLATE NOCASE, line INTEGER)"
        )

    def _key(self, row: _Row) -> str | None:
        parts = [row.values.get(name) for name in self.key]
        if any(part is None for part in parts):
            return None
        return "\x1f".join(str(part) for part in parts)

    def check(self, rows: list[_Row]) -> None:
        batch: dict[str, _Row] = {}
        for row in rows:
            key = self._key(row)
            if key is None:
                continue
            folded = key.translate(_ASCII_LOWER)
            if folded in batch:
                self._duplicate(row, key, batch[folded].line)
            else:
                batch[folded] = row
        entries = [(self._key(row), row.line) for row in batch.values()]
        self.conn.execute("SAVEPOINT import_keys")
        try:
            self.conn.executemany("INSERT INTO temp.import_keys VALUES (?, ?)", entries)
        except sqlite3.IntegrityError:
            self.conn.execute("ROLLBACK TO import_keys")
            self._one_by_one(list(batch.values()))
        self.conn.execute("RELEASE import_keys")

    def _one_by_one(self, rows: list[_Row]) -> None:
        for row in rows:
            key = self._key(row)
            try:
                self.conn.execute("INSERT INTO temp.import_keys VALUES (?, ?)", (key, row.line))
            except sqlite3.IntegrityError:
                first = self.conn.execute(
                    "SELECT line FROM temp.import_keys WHERE key = ?", (key,)
                ).fetchone()
                self._duplicate(row, str(key), int(first[0]))

    def _duplicate(self, row: _Row, key: str, first: int) -> None:
        value = key.replace("\x1f", " / ")
        row.problems.append(
            RowError(
                row.line,
                self.key[0],
                N_("{value} is already on line {first} of this file"),
                {"value": value, "first": first},
            )
        )

    def close(self) -> None:
        self.conn.execute("DROP TABLE IF EXISTS temp.import_keys")


def _record(store: Store, report: ImportReport, origin: str) -> int:
    run_id = history.start_run(store, JOB_NAME, origin)
    name = Path(report.file).name
    params = {"kind": report.kind, "file": name, "rows": report.rows}
    params.update(created=report.created, updated=report.updated, errors=report.errors_total)
    for error in report.errors[:MAX_ERRORS_IN_HISTORY]:
        history.add_item(
            store,
            run_id,
            JOB_NAME,
            kind="import",
            status="error",
            reference=f"{name}:{error.line}",
            message=N_("{file}, {problem}"),
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
        status = "warning" if report.errors_total else "success"
        message = N_(
            "Import of {kind} from {file}: {rows} rows, {created} created, {updated} updated, {errors} rejected"
        )
    else:
        status = "failed"
        message = N_("Import of {kind} from {file} refused: {errors} bad rows, nothing written")
    history.finish_run(store, run_id, status, message, params)
    return run_id


def record_refusal(store: Store, kind: str, path: Path, error: UserError, origin: str) -> None:
    """A file that could not even be read leaves a trace in the history too."""
    run_id = history.start_run(store, JOB_NAME, origin)
    history.add_item(
        store,
        run_id,
        JOB_NAME,
        kind="import",
        status="error",
        reference=path.name,
        message=error.message,
        params=error.params,
    )
    history.finish_run(
        store,
        run_id,
        "failed",
        N_("Import of {kind} from {file} refused: the file cannot be read"),
        {"kind": kind, "file": path.name},
    )


__all__ = ["CsvError", "ImportProblem", "ImportReport", "RowError", "import_csv"]


def map_header(
    kind: Kind, reader: CsvReader, extra: Callable[[str], Column | None] = lambda _name: None
) -> list[_Field]:
    """The columns of `reader` that `kind` knows, with their parsers (ImportProblem if some
    required ones are missing). The e-connecteur reads its files with the same rules."""
    return _map_header(kind, reader, extra)


def parse_values(
    line: int, raw_values: list[str], fields: list[_Field], values: dict[str, Any]
) -> list[RowError]:
    return _parse(line, raw_values, fields, values)
