"""The store's pooled readers: a connection is reused, yet every read sees what was committed before
it began, whatever the previous user of the connection left behind."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from webapp.store import IDLE_READERS, Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "relais.sqlite")
    with store.write() as db:
        db.execute("CREATE TABLE numbers (n INTEGER)")
        db.conn.executemany("INSERT INTO numbers VALUES (?)", [(n,) for n in range(50)])
    yield store
    store.close()


def _count(store: Store) -> int:
    with store.read() as db:
        return int(db.execute("SELECT count(*) FROM numbers").fetchone()[0])


def test_a_read_reuses_the_connection_a_read_inside_a_read_gets_its_own(store: Store) -> None:
    with store.read() as first:
        outer = first.conn
        with store.read() as nested:
            assert nested.conn is not outer
    with store.read() as again:
        assert again.conn in (outer, nested.conn)


def test_an_unfinished_cursor_does_not_leave_the_next_read_stale(store: Store) -> None:
    with store.read() as db:
        kept = db.execute("SELECT n FROM numbers")
        assert kept.fetchone() is not None
        direct = db.conn.execute("SELECT n FROM numbers")
        assert direct.fetchone() is not None
    with store.write() as db:
        db.execute("INSERT INTO numbers VALUES (50)")
    assert _count(store) == 51
    # As when the connection was closed: the cursor does not outlive its read.
    with pytest.raises(sqlite3.ProgrammingError):
        kept.fetchall()


def test_a_transaction_left_open_in_a_read_is_ended(store: Store) -> None:
    with store.read() as db:
        db.execute("BEGIN")
        db.execute("SELECT count(*) FROM numbers").fetchone()
    with store.write() as db:
        db.execute("DELETE FROM numbers WHERE n < 10")
    assert _count(store) == 40


def test_a_reader_changed_for_one_read_is_given_back_as_it_was(store: Store) -> None:
    with store.read() as db:
        db.conn.row_factory = None
        db.conn.text_factory = bytes
    for _ in range(IDLE_READERS + 1):
        with store.read() as db:
            row = db.execute("SELECT n, 'x' AS text FROM numbers LIMIT 1").fetchone()
            assert dict(row) == {"n": 0, "text": "x"}


def test_a_read_that_raises_gives_a_clean_connection_back(store: Store) -> None:
    with pytest.raises(sqlite3.OperationalError), store.read() as db:
        db.execute("SELECT nothing FROM nowhere")
    with store.write() as db:
        db.execute("INSERT INTO numbers VALUES (51)")
    assert _count(store) == 51


def test_many_threads_read_while_one_writes_and_the_pool_stays_small(store: Store) -> None:
    stop = threading.Event()
    problems: list[str] = []

    def reader() -> None:
        seen = 0
        while not stop.is_set():
            count = _count(store)
            if count < seen:
                problems.append(f"went back from {seen} to {count}")
            seen = count

    threads = [threading.Thread(target=reader) for _ in range(IDLE_READERS * 2)]
    for thread in threads:
        thread.start()
    for n in range(100, 200):
        with store.write() as db:
            db.execute("INSERT INTO numbers VALUES (?)", [n])
        # Each write is seen by the next read of any thread.
        assert _count(store) == n - 49
    stop.set()
    for thread in threads:
        thread.join()
    assert problems == []
    assert len(store._idle) <= IDLE_READERS


def test_close_closes_the_idle_readers(store: Store) -> None:
    with store.read() as db:
        conn = db.conn
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")
