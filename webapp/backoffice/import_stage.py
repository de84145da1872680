"""Where a bulk import is read, checked and mapped: a connection of its own, off the write lock.

The connection reads the store read-only (reference tables, existing families) and keeps what it
maps in TEMP tables (spilled to a temporary file, so memory stays flat in the file's size). The
writer is not touched until the whole file is checked; webapp/backoffice/import_apply.py then
copies the staged rows to the writer chunk by chunk.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from webapp.store import Store


@contextlib.contextmanager
def staging_connection(store: Store) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the store whose TEMP tables hold the staged rows."""
    uri = f"{store.path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA temp_store = FILE")
        conn.execute("PRAGMA temp.cache_size = -4000")  # 4 MB of pages, then the file
        conn.execute("PRAGMA temp.journal_mode = MEMORY")
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def staging(conn: sqlite3.Connection) -> Iterator[None]:
    """The staging writes of a pass in one transaction of the TEMP tables: one journal, no
    sync per batch. Committed at the end so the store's snapshot is not kept for the apply."""
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def staged_chunks(
    conn: sqlite3.Connection, table: str, size: Iterator[int]
) -> Iterator[list[tuple[object, ...]]]:
    """The staged rows in file order, a chunk at a time; `size` says how many the next one holds."""
    last = 0
    while True:
        rows = conn.execute(
            f"SELECT rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last, next(size)),
        ).fetchall()
        if not rows:
            return
        last = int(rows[-1][0])
        yield [tuple(row[1:]) for row in rows]
