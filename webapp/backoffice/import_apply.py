"""Staged rows written to the store in short transactions, so the UI is never kept waiting.

The file was checked whole before (webapp/backoffice/import_stage.py). Each chunk is one write
transaction: its rows copied into a TEMP table of the writer, then the kind's handler writes them
set-based (a few INSERT … SELECT), FTS entries and change log included, with the per-row triggers
off for that transaction only (webapp/backoffice/handler_changes.py). The chunk size follows the time a chunk took, aiming at
TARGET_SECONDS per transaction, well under the 250 ms the UI may wait.

Why not one transaction for the whole file: it would hold the one writer for as long as the
import. Why this stays all-or-nothing in practice: nothing is written before every row passed its
checks, and every write is an upsert by the row's key, so applying a chunk twice changes nothing.
If the process dies between two chunks, the run is left "running" (marked interrupted by the next
Relais process) and importing the same file again finishes the import; the chunks already written
are left as they are.

A dry run applies every chunk the same way and rolls each one back. A chunk that cannot be
written (a unit, VAT rate or family deleted since the file was checked) stops the import with
ImportStopped, saying how far it went.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webapp import history
from webapp.backoffice.handler_base import Applied, Handler
from webapp.backoffice.handler_changes import BULK_OFF, BULK_ON
from webapp.backoffice.row_checks import ImportProblem
from webapp.i18n import N_
from webapp.store import Store

TARGET_SECONDS = 0.08  # the commit and a checkpoint may add as much again
FIRST_CHUNK, MIN_CHUNK, MAX_CHUNK = 1000, 100, 5000  # rows; the largest bounds memory
CHUNK_TABLE = "temp.import_chunk"
CODES_KEPT = 5


@dataclass
class ApplyResult:
    rows: int = 0
    created: int = 0
    families: list[str] = field(default_factory=list)
    created_codes: list[str] = field(default_factory=list)  # the first CODES_KEPT of each
    updated_codes: list[str] = field(default_factory=list)
    chunks: int = 0
    longest_hold: float = 0.0  # seconds the writer was held by the longest chunk


class ChunkSizer:
    """The next chunk's size, from how long the last one held the writer."""

    def __init__(self) -> None:
        self.size = FIRST_CHUNK

    def __next__(self) -> int:
        return self.size

    def __iter__(self) -> ChunkSizer:
        return self

    def took(self, seconds: float, rows: int) -> None:
        if rows < self.size:  # the last, short chunk says nothing about the rate
            return
        wanted = int(rows * TARGET_SECONDS / max(seconds, 0.001))
        self.size = max(MIN_CHUNK, min(MAX_CHUNK, wanted, self.size * 2))


class _DryRun(Exception):
    def __init__(self, applied: Applied) -> None:
        super().__init__("dry run")
        self.applied = applied


ChunkCallback = Callable[[ApplyResult], None]


def apply_staged(
    store: Store,
    handler: Handler,
    *,
    dry_run: bool = False,
    after_chunk: ChunkCallback | None = None,
) -> ApplyResult:
    """Write every staged row of `handler` (rolled back chunk by chunk for a dry run)."""
    result = ApplyResult()
    sizer = ChunkSizer()
    columns = handler.staged.columns
    # id and new_id: the stored row's id and a new row's (handler_changes.ChunkChanges.identify)
    create = f"CREATE TEMP TABLE import_chunk ({_definitions(columns)}, id INTEGER, new_id INTEGER)"
    insert = f"INSERT INTO {CHUNK_TABLE} ({', '.join(columns)})"
    insert += f" VALUES ({', '.join('?' for _ in columns)})"
    seen: set[str] = set()
    for rows in handler.staged.chunks(sizer):
        held = 0.0
        try:
            with store.write() as db:
                held = time.perf_counter()
                db.conn.execute(create)
                db.conn.executemany(insert, rows)
                db.conn.execute(BULK_ON)  # the per-row triggers off, for this transaction only
                applied = handler.apply(db.conn, CHUNK_TABLE)
                if dry_run and "code" in columns:  # what the analysis shows
                    _first_codes(db.conn, result)
                db.conn.execute(BULK_OFF)
                db.conn.execute(f"DROP TABLE {CHUNK_TABLE}")
                if dry_run:
                    raise _DryRun(applied)
        except _DryRun as rolled_back:
            applied = rolled_back.applied
        seconds = time.perf_counter() - held
        sizer.took(seconds, len(rows))
        result.longest_hold = max(result.longest_hold, seconds)
        result.rows += len(rows)
        result.chunks += 1
        result.created += applied.created
        result.families += [name for name in applied.families if name not in seen]
        seen.update(applied.families)
        if after_chunk:
            after_chunk(result)
    return result


def _first_codes(conn: sqlite3.Connection, result: ApplyResult) -> None:
    """The first few codes created and updated, for the analysis to show: the chunk's rows
    were identified (new_id set for a new row) by the handler's apply."""
    for codes, new in ((result.created_codes, "NOT NULL"), (result.updated_codes, "NULL")):
        wanted = CODES_KEPT - len(codes)
        if wanted > 0:
            sql = f"SELECT code FROM {CHUNK_TABLE} WHERE new_id IS {new} ORDER BY rowid LIMIT ?"
            codes += [str(row[0]) for row in conn.execute(sql, (wanted,))]


def _definitions(columns: list[str]) -> str:
    return ", ".join(f"{name} COLLATE NOCASE" if name == "code" else name for name in columns)


class ImportStopped(ImportProblem):
    """A chunk could not be written after the whole file was checked. The chunks written before
    stay (each is a committed upsert); importing the same file again finishes the import."""


STOPPED = N_(
    "The import stopped after {done} of {rows} rows: {detail}. A unit, VAT rate or family was"
    " removed meanwhile: import the file again to finish it."
)
STOPPED_RUN = N_("Import of {kind} from {file} stopped after {done} of {rows} rows: {detail}")


@dataclass
class Applying:
    """What an import about to be applied is: for the message if it stops."""

    kind: str
    file: str
    rows: int
    run_id: int | None = None  # a run of its own, ended failed if the import stops


def apply_or_stop(
    store: Store, handler: Handler, applying: Applying, *, dry_run: bool = False
) -> ApplyResult:
    """apply_staged, or ImportStopped naming how many rows were written before a chunk failed."""
    done = ApplyResult()

    def count(result: ApplyResult) -> None:
        done.rows = result.rows

    try:
        return apply_staged(store, handler, dry_run=dry_run, after_chunk=count)
    except sqlite3.IntegrityError as exc:
        params: dict[str, Any] = {"done": done.rows, "rows": applying.rows}
        params["detail"] = str(exc)
        if applying.run_id is not None:
            params.update(kind=applying.kind, file=Path(applying.file).name)
            history.finish_run(store, applying.run_id, "failed", STOPPED_RUN, params)
        raise ImportStopped(STOPPED, **params) from exc
