"""Where a bulk import is read, checked and mapped: off the write lock.

A connection of its own reads the store read-only (reference tables, existing families) and keeps
the keys seen so far in a TEMP table. The mapped rows go to a temporary file, a batch at a time
(marshal: the rows are plain tuples of text, numbers and None), so memory stays flat in the
file's size. Each batch is one length-prefixed block read back whole: marshal.load on a file
reads it object by object, a Python call each, 25 times slower than marshal.loads of the block. The writer is not touched until the whole file is checked;
webapp/backoffice/import_apply.py then copies the staged rows to the writer chunk by chunk.
"""

from __future__ import annotations

import contextlib
import itertools
import marshal
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from typing import IO, Any

from webapp.store import Store


@contextlib.contextmanager
def staging_connection(store: Store) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the store, with TEMP tables of its own."""
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


class StagedRows:
    """Mapped rows (tuples in the order of `columns`) kept in a temporary file, in file order."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self.rows: list[Sequence[Any]] = []
        self.count = 0
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="relais-import-")  # noqa: SIM115 - drop() closes it

    def add(self, row: Sequence[Any]) -> None:
        self.rows.append(row)

    def load(self) -> bool:
        """Write the batched rows to the file; False when there were none."""
        if not self.rows:
            return False
        block = marshal.dumps([tuple(row) for row in self.rows])
        self._file.write(len(block).to_bytes(8, "little"))
        self._file.write(block)
        self.count += len(self.rows)
        self.rows = []
        return True

    def chunks(self, size: Iterator[int]) -> Iterator[list[tuple[Any, ...]]]:
        """Every staged row in file order, a chunk at a time; `size` says how many the next holds."""
        rows = self._read()
        while chunk := list(itertools.islice(rows, next(size))):
            yield chunk

    def _read(self) -> Iterator[tuple[Any, ...]]:
        self._file.flush()
        self._file.seek(0)
        while size := self._file.read(8):
            yield from marshal.loads(self._file.read(int.from_bytes(size, "little")))

    def drop(self) -> None:
        self._file.close()
