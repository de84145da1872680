"""The one SQLite file: a single writer connection behind a lock, pooled readers, migrations.

Every write in the process goes through :meth:`Store.write` (one transaction, ``BEGIN IMMEDIATE``),
so web requests and scheduled jobs never fight over SQLite's write lock. Each read takes a read-only
connection of its own from a small pool and gives it back at the end: WAL lets readers run beside
the writer, and a kept connection spares each page the schema parse (~1.4 ms) and a cold cache.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from webapp.files import replace_file
from webapp.store.fair_lock import FairLock
from webapp.store.migrations import apply_migrations, latest_version
from webapp.store.turnstile import Turnstile

__all__ = ["Store", "latest_version", "one", "rows"]

ProgressCallback = Callable[[int, int], None]

IDLE_READERS = 8  # idle reader connections kept; more readers at once open (and close) their own


def rows(db: Database, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Every row of a query as a dict (column name → value), on a reader or the writer."""
    cursor = db.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(db: Database, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    """The first row of a query as a dict, or None."""
    cursor = db.execute(sql, list(params))
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([column[0] for column in cursor.description], row, strict=True))


class _Reader(sqlite3.Connection):
    """A pooled read-only connection that knows its cursors.

    A cursor left unfinished keeps its snapshot open: the connection's next user would not see
    what was committed since. Giving the connection back closes its cursors, as closing it did.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cursors: weakref.WeakSet[sqlite3.Cursor] = weakref.WeakSet()
        self._database: Database | None = None

    @property
    def database(self) -> Database:
        """The sqlite-utils wrapper of this connection, made once (see Store.write)."""
        if self._database is None:
            self._database = Database(self)
        return self._database

    def cursor(self, factory: Any = sqlite3.Cursor) -> Any:
        cursor = super().cursor(factory)
        self._cursors.add(cursor)
        return cursor

    # sqlite3's own shortcuts make their cursor in C, out of sight of cursor() above.
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        cursor: sqlite3.Cursor = self.cursor()
        return cursor.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        cursor: sqlite3.Cursor = self.cursor()
        return cursor.executemany(sql, parameters)

    def release(self) -> None:
        """End what a read left open; raises if the connection cannot be reused."""
        for cursor in list(self._cursors):
            cursor.close()
        self._cursors.clear()
        if self.in_transaction:
            self.execute("ROLLBACK")
        # What a read may have changed for itself (a bulk read wants plain tuples).
        self.row_factory = sqlite3.Row
        self.text_factory = str


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        conn: sqlite3.Connection = sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, factory=_Reader
        )
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Store:
    def __init__(self, path: Path, *, migrate: bool = True) -> None:
        self.path = Path(path)
        # First come, first served: a UI save waits for one job transaction, not for the job.
        self._lock = FairLock()
        self._idle: list[_Reader] = []
        self._idle_lock = threading.Lock()
        self._closed = False
        self._writer = _connect(self.path)
        # Turns at the writer between processes, as FairLock gives them between threads.
        self._turns = Turnstile(self.path)
        self._writer.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed outbox record or delivery mark must survive a power cut.
        self._writer.execute("PRAGMA synchronous = FULL")
        # One wrapper per connection: making one runs a PRAGMA and sqlite-utils' plugin hook,
        # a tenth of a millisecond that each short transaction (a sale) would pay again.
        self._writer_db = Database(self._writer)
        if migrate:
            self.migrate()

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply pending numbered migrations (up to ``target``); returns the versions applied."""
        with self._lock, self._turns:
            return apply_migrations(self._writer, target)

    @property
    def schema_version(self) -> int:
        with self.read() as db:
            row = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    @property
    def in_transaction(self) -> bool:
        """Whether the one writer connection is inside a write() block right now."""
        return bool(self._writer.in_transaction)

    @contextlib.contextmanager
    def write(self) -> Iterator[Database]:
        """One transaction on the single writer connection; rolled back if the block raises."""
        with self._lock, self._turns:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer_db
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[Database]:
        """A read-only connection for the block; a read inside a read gets one of its own."""
        conn = self._take_reader()
        try:
            yield conn.database
        finally:
            self._give_back(conn)

    def _take_reader(self) -> _Reader:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        conn = _connect(self.path, readonly=True)
        assert isinstance(conn, _Reader)
        return conn

    def _give_back(self, conn: _Reader) -> None:
        try:
            conn.release()
        except sqlite3.Error:
            conn.close()
            return
        with self._idle_lock:
            if not self._closed and len(self._idle) < IDLE_READERS:
                self._idle.append(conn)
                return
        conn.close()

    def backup(self, target: Path, progress: ProgressCallback | None = None) -> Path:
        """Consistent copy through SQLite's online backup, written under a temp name then renamed."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            self._copy_to(tmp, progress)
            replace_file(tmp, target)
        except (sqlite3.Error, OSError) as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise OSError(f"{target}: {exc}") from exc
        return target

    def _copy_to(self, tmp: Path, progress: ProgressCallback | None) -> None:
        tmp.unlink(missing_ok=True)
        dest = sqlite3.connect(tmp)
        try:
            source = _connect(self.path, readonly=True)
            try:

                def report(_status: int, remaining: int, total: int) -> None:
                    if progress:
                        progress(total - remaining, total)

                source.backup(dest, pages=256, progress=report)
            finally:
                source.close()
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        # Writable: Windows flushes only a handle with write access (FlushFileBuffers), else EBADF.
        with open(tmp, "r+b") as handle:
            os.fsync(handle.fileno())

    def close(self) -> None:
        with self._idle_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        with self._lock:
            self._writer.close()
            self._turns.close()
