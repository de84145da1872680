"""The SQLite store: migrations from empty and from each earlier version, one write path, backup."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from webapp.store import Store, latest_version
from webapp.store.migrations import available_migrations

# A row written at each version, read back after migrating to the latest: nothing is lost.
SAMPLE_AT_VERSION = {
    1: "INSERT INTO settings (key, value) VALUES ('language', '\"en\"')",
    2: "INSERT INTO jobs (name, trigger_kind, trigger_value) VALUES ('history_purge', 'interval', '5')",
    4: "UPDATE jobs SET running_pid = NULL",
    5: "SELECT 1",
    6: "INSERT INTO carriers (code, name) VALUES ('DPD', 'DPD')",
    7: "SELECT 1",
    8: "INSERT INTO scrada_companies (id, source, first_seen_at) VALUES ('c1', 'configured', 'now')",
    9: "INSERT INTO pos_packages_applied (number, full, to_seq, applied_at) VALUES (1, 1, 5, 'now')",
    10: "INSERT INTO connectors (code, created_at, updated_at) VALUES ('SHOP', 'now', 'now')",
    11: "SELECT 1",
    12: "INSERT INTO scrada_statements (account, year, number, company_id, statement_date,"
    " old_balance, new_balance, recorded_at) VALUES ('BE71096123456769', 2026, 1, 'c1',"
    " '2026-01-02', '0', '1.5', 'now')",
    13: "INSERT INTO scrada_sources (company_id, book_kind, book_id, source, state, checked_at)"
    " VALUES ('c1', 'daily-receipts', 'j1', 'partner', 'not-offered', 'now')",
    14: "INSERT INTO scrada_alerts (kind, company_id, journal_id, since, raised_at)"
    " VALUES ('lines-missing', 'c1', 'j1', '2026-11-29', 'now')",
    15: "UPDATE runs SET subject = NULL",
    16: "SELECT 1",
    17: "SELECT 1",
    18: "SELECT 1",
    19: "SELECT 1",
    20: "UPDATE connectors SET mode = 'webservice', shop_url = 'https://example.org/'",
    21: "SELECT 1",
    22: "INSERT INTO connector_held_orders (connector_id, order_id, doc_ref, held_at)"
    " SELECT id, 7, 'REF', 'now' FROM connectors",
    23: "SELECT 1",
    24: "SELECT 1",
    25: "SELECT 1",
    26: "SELECT 1",
    27: "SELECT 1",
    28: "SELECT 1",
    29: "SELECT 1",
    30: "SELECT 1",
    3: "INSERT INTO runs (job_name, status, started_at) VALUES ('history_purge', 'success', '2026-01-01T00:00:00Z')",
}


def test_migrates_an_empty_file_to_the_latest_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "fresh.sqlite")
    assert store.schema_version == latest_version() == len(available_migrations())
    with store.read() as db:
        tables = set(db.table_names())
    assert {"settings", "jobs", "runs", "run_items", "schema_migrations"} <= tables
    store.close()


@pytest.mark.parametrize("start", range(1, latest_version()))
def test_migrates_from_each_earlier_version_keeping_data(tmp_path: Path, start: int) -> None:
    path = tmp_path / f"v{start}.sqlite"
    old = Store(path, migrate=False)
    assert old.migrate(target=start) == list(range(1, start + 1))
    with old.write() as db:
        for version in range(1, start + 1):
            db.execute(SAMPLE_AT_VERSION[version])
    old.close()

    store = Store(path)
    assert store.schema_version == latest_version()
    with store.read() as db:
        if start >= 1:
            assert (
                db.execute("SELECT value FROM settings WHERE key='language'").fetchone()[0]
                == '"en"'
            )
        if start >= 2:
            assert db.execute("SELECT trigger_value FROM jobs").fetchone()[0] == "5"
        if start >= 3:
            assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    store.close()


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.sqlite")
    assert store.migrate() == []
    store.close()
    assert Store(tmp_path / "x.sqlite").migrate() == []


def test_refuses_a_database_from_a_newer_program(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.sqlite")
    with store.write() as db:
        db.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    store.close()
    with pytest.raises(RuntimeError, match="newer than this program"):
        Store(tmp_path / "x.sqlite")


def test_failed_migration_leaves_nothing_half_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webapp.store import migrations

    bad_dir = tmp_path / "migrations"
    bad_dir.mkdir()
    for migration in available_migrations():
        (bad_dir / migration.path.name).write_text(migration.path.read_text())
    number = latest_version() + 1
    (bad_dir / f"{number:04d}_broken.sql").write_text(
        "CREATE TABLE half (id INTEGER);\nINSERT INTO no_such_table VALUES (1);"
    )
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", bad_dir)
    with pytest.raises(sqlite3.OperationalError):
        Store(tmp_path / "x.sqlite")
    monkeypatch.undo()
    check = sqlite3.connect(tmp_path / "x.sqlite")
    assert (
        check.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
        == latest_version()
    )
    assert check.execute("SELECT count(*) FROM sqlite_master WHERE name='half'").fetchone()[0] == 0
    check.close()


def test_uses_wal_and_full_sync(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.sqlite")
    with store.read() as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_write_rolls_back_when_the_block_raises(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.sqlite")
    with pytest.raises(ZeroDivisionError), store.write() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
        1 / 0  # noqa: B018
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM settings WHERE key='a'").fetchone()[0] == 0
    store.close()


def test_readers_cannot_write(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.sqlite")
    with pytest.raises(sqlite3.OperationalError), store.read() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
    store.close()


def test_concurrent_writers_are_serialised(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.sqlite")

    def write(worker: int) -> None:
        for index in range(50):
            with store.write() as db:
                db.execute(
                    "INSERT INTO settings (key, value) VALUES (?, '1')", [f"{worker}-{index}"]
                )

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM settings WHERE key LIKE '%-%'").fetchone()[0] == 400
    store.close()


def test_backup_is_a_consistent_copy_while_writing(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.sqlite")
    stop = threading.Event()

    def keep_writing() -> None:
        index = 0
        while not stop.is_set():
            with store.write() as db:
                db.execute("INSERT INTO settings (key, value) VALUES (?, '\"x\"')", [f"k{index}"])
            index += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    progress: list[tuple[int, int]] = []
    try:
        target = store.backup(
            tmp_path / "copy" / "backup.sqlite", progress=lambda d, t: progress.append((d, t))
        )
    finally:
        stop.set()
        writer.join()
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert (
        copy.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == latest_version()
    )
    copy.close()
    assert progress and progress[-1][0] == progress[-1][1]
    assert not list((tmp_path / "copy").glob(".*tmp"))
    store.close()


def test_in_transaction_is_true_only_inside_a_write(tmp_path: Path) -> None:
    store = Store(tmp_path / "relais.sqlite")
    assert not store.in_transaction
    with store.write() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
        assert store.in_transaction
    assert not store.in_transaction
    with pytest.raises(RuntimeError), store.write():
        assert store.in_transaction
        raise RuntimeError("boom")
    assert not store.in_transaction
    store.close()
