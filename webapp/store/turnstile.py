"""Turns at SQLite's write lock between processes, so a save in the UI is not starved by a job
that another process runs (a `relais backoffice import` beside the server).

SQLite's busy handler retries a blocked ``BEGIN`` at growing intervals, up to 100 ms apart, while
such a job commits chunk after chunk with almost no gap between them: a poll rarely falls into a
gap, and a save waited 0.6–1.5 s (benchmarks/ui.py) behind chunks that each held the lock less
than 250 ms. :class:`~webapp.store.fair_lock.FairLock` orders the threads of one process; this
orders the processes, with two lock files beside the database used as a turnstile: take the gate,
then the writer, then let the gate go. A process waiting for the writer holds the gate, so the
one writing cannot take a new turn before the waiting one has had its own.

Only fairness depends on it. A lock that cannot be had in time (a process stuck with it, a folder
where no lock file can be made) is passed over, and SQLite's own locking decides, as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path

from webapp.files import lock_file, unlock_file

log = logging.getLogger(__name__)

POLL_SECONDS = 0.0005  # how often a waiting process tries again
PATIENCE_SECONDS = 10.0  # then it goes on without its turn (SQLite's busy timeout still waits)


class Turnstile:
    """Per store: entered around each write transaction, re-entrant within it."""

    def __init__(self, database: Path) -> None:
        self._gate = _open(database.with_name(database.name + "-gate"))
        self._writer = _open(database.with_name(database.name + "-writer"))
        self._depth = 0
        self._holding = False

    def enter(self) -> None:
        """Wait for this process's turn at the writer (the caller holds the store's FairLock)."""
        self._depth += 1
        if self._depth > 1 or self._gate is None or self._writer is None:
            return
        deadline = time.monotonic() + PATIENCE_SECONDS
        through_gate = _take(self._gate, deadline)
        writer: bool | None = False
        try:
            if through_gate is not None:
                writer = _take(self._writer, deadline)
        finally:
            if through_gate:
                unlock_file(self._gate)
        if through_gate is None or writer is None:
            self._unsupported()
        else:
            self._holding = writer

    def _unsupported(self) -> None:
        """Files that cannot be locked at all (some network folders): no turns from now on, rather
        than a wait for the patience at every write."""
        log.warning("writes take no turns between processes: the folder cannot lock files")
        self.close()

    def leave(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._holding and self._writer is not None:
            self._holding = False
            unlock_file(self._writer)

    def __enter__(self) -> Turnstile:
        self.enter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.leave()

    def close(self) -> None:
        for handle in (self._gate, self._writer):
            if handle is not None:
                with contextlib.suppress(OSError):
                    os.close(handle)
        self._gate = self._writer = None


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a read-only folder: no turns, SQLite alone decides
        return None


def _take(handle: int, deadline: float) -> bool | None:
    """True once taken, False when another process kept it past ``deadline``; None when the
    file cannot be locked at all."""
    while True:
        try:
            lock_file(handle)
            return True
        except (BlockingIOError, PermissionError):  # held by another process
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)
        except OSError:
            return None
