"""Staged rows written to the store in short transactions, so the UI is never kept waiting.

The file was checked whole before (webapp/backoffice/import_stage.py). Each chunk is one write
transaction: its rows copied into a TEMP table of the writer, then the kind's handler writes them
set-based (a few INSERT … SELECT). The chunk size follows the time a chunk took, aiming at
TARGET_SECONDS per transaction, well under the 250 ms the UI may wait.

Why not one transaction for the whole file: it would hold the one writer for as long as the
import. Why this stays all-or-nothing in practice: nothing is written before every row passed its
checks, and every write is an upsert by the row's key, so applying a chunk twice changes nothing.
If the process dies between two chunks, the run is left "running" (marked interrupted by the next
Relais process) and importing the same file again finishes the import; the chunks already written
are left as they are.

A dry run applies every chunk the same way and rolls each one back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from webapp.backoffice.handler_base import Applied, Handler
from webapp.store import Store

TARGET_SECONDS = 0.1
FIRST_CHUNK, MIN_CHUNK, MAX_CHUNK = 1000, 100, 5000  # rows; the largest bounds memory
CHUNK_TABLE = "temp.import_chunk"


@dataclass
class ApplyResult:
    rows: int = 0
    created: int = 0
    families: list[str] = field(default_factory=list)
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
    create = f"CREATE TEMP TABLE import_chunk ({_definitions(columns)})"
    insert = f"INSERT INTO {CHUNK_TABLE} VALUES ({', '.join('?' for _ in columns)})"
    seen: set[str] = set()
    for rows in handler.staged.chunks(sizer):
        held = 0.0
        try:
            with store.write() as db:
                held = time.perf_counter()
                db.conn.execute(create)
                db.conn.executemany(insert, rows)
                applied = handler.apply(db.conn, CHUNK_TABLE)
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


def _definitions(columns: list[str]) -> str:
    return ", ".join(f"{name} COLLATE NOCASE" if name == "code" else name for name in columns)
