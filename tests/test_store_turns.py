"""Turns at the writer between processes (webapp/store/turnstile.py): a job in another process,
committing back to back, lets a waiting write in after the transaction it is in, not after the job.

Counted in the job's transactions, not in time: SQLite's busy handler alone retries at growing
intervals (up to 100 ms) and nearly never falls into the job's gap of a few microseconds, so
without the turnstile each write here waits for the job to end (or for the busy timeout)."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from webapp.store import Store

JOB = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from webapp.store import Store

    store, stop = Store(Path(sys.argv[1])), Path(sys.argv[2])
    for seq in range(1, 400):  # 20 ms each: 8 s at most
        if stop.exists():
            break
        with store.write() as db:
            db.execute("INSERT INTO job_turns (seq) VALUES (?)", [seq])
            time.sleep(0.02)  # a chunk's work, holding the lock
    store.close()
    """
)


def _job_turns(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM job_turns").fetchone()[0])


def _job_turns_now(store: Store) -> int:
    with store.read() as db:
        return _job_turns(db)


def test_a_write_waits_one_turn_of_another_process_not_its_whole_job(tmp_path: Path) -> None:
    database, stop = tmp_path / "relais.sqlite", tmp_path / "stop"
    store = Store(database)
    with store.write() as db:
        db.execute("CREATE TABLE job_turns (seq INTEGER)")
    job = subprocess.Popen([sys.executable, "-c", JOB, str(database), str(stop)])
    try:
        deadline = time.monotonic() + 30
        while _job_turns_now(store) < 3:  # the job is going
            assert job.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        waited = []
        for _ in range(5):
            before = _job_turns_now(store)
            with store.write() as db:
                waited.append(_job_turns(db) - before)
            time.sleep(0.03)  # the job's next transactions go on
        assert job.poll() is None, "the job was still committing while the writes waited"
    finally:
        stop.touch()
        assert job.wait(30) == 0
        store.close()
    # The transaction the job was in, and one more when it had taken the gate first.
    assert max(waited) <= 2, waited


def test_the_turnstile_is_passed_over_where_no_lock_file_can_be_made(tmp_path: Path) -> None:
    """A read-only folder: no lock files, and writes still go (SQLite alone decides)."""
    from webapp.store.turnstile import Turnstile

    turns = Turnstile(tmp_path / "missing" / "relais.sqlite")
    with turns, turns:  # re-entrant, and a no-op without its files
        pass
    turns.close()


@pytest.mark.skipif(sys.platform == "win32", reason="the holder takes the lock with flock")
def test_a_lock_held_too_long_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process stuck with the writer lock: a write goes on after the patience."""
    from webapp.store import turnstile

    monkeypatch.setattr(turnstile, "PATIENCE_SECONDS", 0.05)
    database = tmp_path / "relais.sqlite"
    store = Store(database)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
            " fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)",
            str(tmp_path / "relais.sqlite-writer"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with store.write() as db:
            db.execute("CREATE TABLE written (x)")
        with store.read() as db:
            assert db.execute("SELECT name FROM sqlite_master WHERE name = 'written'").fetchone()
    finally:
        holder.kill()
        holder.wait()
        store.close()


def test_a_folder_that_cannot_lock_files_gives_up_turns_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locking refused outright (ENOLCK on some network folders) is not a lock held by another
    process: the writes go on at once, and no later write tries again."""
    from webapp.store import turnstile

    tries = []

    def refused(handle: int) -> None:
        tries.append(handle)
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(turnstile, "PATIENCE_SECONDS", 3600.0)  # a wait would hang the test
    monkeypatch.setattr(turnstile, "lock_file", refused)
    store = Store(tmp_path / "relais.sqlite")
    try:
        for number in range(3):
            with store.write() as db:
                db.execute("CREATE TABLE IF NOT EXISTS written (x)")
                db.execute("INSERT INTO written VALUES (?)", [number])
        with store.read() as db:
            assert db.execute("SELECT count(*) FROM written").fetchone()[0] == 3
    finally:
        store.close()
    assert len(tries) == 1
