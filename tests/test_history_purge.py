"""The history purge deletes in chunks (issue 14): short transactions that let a UI save in between,
the same result as one DELETE, and fewer rows per chunk when a chunk is slow."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from webapp import maintenance
from webapp.store import Store


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def store(data_dir) -> Store:  # type: ignore[no-untyped-def]
    return Store(data_dir.database)


def old_runs(store: Store, runs: int, items_each: int, *, days_ago: int, status: str) -> None:
    moment = iso(datetime.now(UTC) - timedelta(days=days_ago))
    with store.write() as db:
        for _ in range(runs):
            run_id = db.execute(
                "INSERT INTO runs (job_name, origin, status, started_at) VALUES ('x', 'schedule', ?, ?)",
                [status, moment],
            ).lastrowid
            db.conn.executemany(
                "INSERT INTO run_items (run_id, job_name, created_at, kind, status)"
                " VALUES (?, 'x', ?, 'k', 'done')",
                [(run_id, moment)] * items_each,
            )


def counts(store: Store) -> tuple[int, int]:
    with store.read() as db:
        items = db.execute("SELECT count(*) FROM run_items").fetchone()[0]
        runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    return items, runs


def test_chunks_give_the_result_of_one_delete(store: Store) -> None:
    old_runs(store, 300, 4, days_ago=400, status="success")  # 1,200 items, 300 runs to go
    old_runs(store, 3, 0, days_ago=400, status="running")  # still running: kept
    old_runs(store, 5, 2, days_ago=3, status="success")  # recent: kept
    cutoff = iso(datetime.now(UTC) - timedelta(days=365))
    progress: list[tuple[int, int]] = []
    items, runs = maintenance.purge_history_before(
        store, cutoff, batch=100, progress=lambda done, total: progress.append((done, total))
    )
    assert (items, runs) == (1200, 300)
    assert counts(store) == (10, 8)
    done = [d for d, _ in progress]
    assert done == list(range(100, 1201, 100)) and {t for _, t in progress} == {1200}
    assert maintenance.purge_history_before(store, cutoff, batch=100) == (0, 0)


def test_a_save_gets_the_write_lock_between_chunks(store: Store) -> None:
    old_runs(store, 10, 50, days_ago=400, status="success")
    cutoff = iso(datetime.now(UTC) - timedelta(days=365))
    saved: list[bool] = []

    def save_from_another_thread(_done: int, _total: int) -> None:
        def save() -> None:
            with store.write() as db:
                db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('x', '1')")
            saved.append(True)

        thread = threading.Thread(target=save)
        thread.start()
        thread.join(5)  # a purge holding the lock across chunks would make this wait for ever

    maintenance.purge_history_before(store, cutoff, batch=100, progress=save_from_another_thread)
    assert saved == [True] * 5


def test_a_slow_chunk_makes_the_next_ones_smaller(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_runs(store, 30, 100, days_ago=400, status="success")
    monkeypatch.setattr(maintenance, "CHUNK_SECONDS", 0.0)  # every chunk counts as too slow
    cutoff = iso(datetime.now(UTC) - timedelta(days=365))
    progress: list[int] = []
    items, _ = maintenance.purge_history_before(
        store, cutoff, batch=1000, progress=lambda done, _total: progress.append(done)
    )
    assert items == 3000
    steps = [b - a for a, b in zip([0, *progress], progress, strict=False)]
    assert steps[0] == 1000 and set(steps[1:]) == {maintenance.CHUNK_MIN}
