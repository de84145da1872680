"""Scheduled processes (PLT-5): definitions in our tables, APScheduler 3 in memory, no overlaps.

A run is claimed with a conditional UPDATE on ``jobs.running_since`` (the database is the queue, as
in healthchecks), so neither the scheduler, a "run now" click nor a command-line run in another
process can start a second run of the same process. A failing run is recorded and released; the
next trigger runs as usual.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from webapp import clock, history, history_queries, settings
from webapp.config import DataDir
from webapp.i18n import N_, UserError
from webapp.liveness import pid_alive
from webapp.run_context import RunContext, RunStopped, Summary, record_outcome
from webapp.secrets import Vault
from webapp.store import Store

log = logging.getLogger(__name__)

# Job functions import these from here, as they always did.
__all__ = ["JobError", "JobRunner", "JobSpec", "RunContext", "RunStopped", "Summary"]


class JobError(UserError):
    """Refused request about a process."""


@dataclass(frozen=True)
class JobSpec:
    name: str
    title: str
    description: str
    func: Callable[[RunContext], Summary | None]
    default_trigger: tuple[str, str]


def validate_trigger(kind: str, value: str) -> tuple[str, str]:
    value = (value or "").strip()
    if kind == "interval":
        try:
            minutes = int(value)
        except ValueError as exc:
            raise JobError(N_("The interval must be a whole number of minutes.")) from exc
        if not 1 <= minutes <= 525600:
            raise JobError(N_("The interval must be between 1 minute and one year."))
        return kind, str(minutes)
    if kind == "cron":
        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise JobError(N_("This cron expression is not valid (example: 0 3 * * *).")) from exc
        return kind, " ".join(value.split())
    raise JobError(N_("Unknown trigger kind."))


def make_trigger(kind: str, value: str) -> IntervalTrigger | CronTrigger:
    # Trigger objects, not names: a frozen build may lack APScheduler's entry points.
    if kind == "interval":
        return IntervalTrigger(minutes=int(value))
    return CronTrigger.from_crontab(value)


class JobRunner:
    def __init__(
        self,
        store: Store,
        data_dir: DataDir,
        registry: dict[str, JobSpec],
        vault: Vault | None = None,
    ):
        self.store = store
        self.data_dir = data_dir
        self.vault = vault
        self.registry = registry
        self.stop_event = threading.Event()
        self._scheduler: BackgroundScheduler | None = None
        self._threads: set[threading.Thread] = set()
        self.sync_definitions()

    def spec(self, name: str) -> JobSpec:
        try:
            return self.registry[name]
        except KeyError:
            raise JobError(N_("Unknown process.")) from None

    def sync_definitions(self) -> None:
        """Give every registered job a row, keeping the trigger and state a user chose."""
        with self.store.write() as db:
            for spec in self.registry.values():
                db.execute(
                    "INSERT OR IGNORE INTO jobs (name, trigger_kind, trigger_value) VALUES (?, ?, ?)",
                    [spec.name, *spec.default_trigger],
                )

    def release_stale_claims(self) -> None:
        """At start of any Relais process: claims left by a killed process would block the job.

        A claim whose process still lives (a `relais jobs run` in a terminal) is left alone.
        """
        with self.store.read() as db:
            claims = db.execute(
                "SELECT name, running_pid FROM jobs WHERE running_since IS NOT NULL"
            ).fetchall()
        dead = [row["name"] for row in claims if not pid_alive(row["running_pid"])]
        if dead:
            self._release(dead)
        history.interrupt_unfinished(self.store)

    def _release(self, names: list[str]) -> None:
        with self.store.write() as db:
            for name in names:
                db.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status ="
                    " 'running' AND id = (SELECT running_run_id FROM jobs WHERE name = ?)",
                    [clock.now_iso(), name],
                )
                db.execute(
                    "UPDATE jobs SET running_run_id = NULL, running_since = NULL, running_pid = NULL"
                    " WHERE name = ?",
                    [name],
                )

    def definitions(self) -> list[dict[str, Any]]:
        with self.store.read() as db:
            rows = {row["name"]: dict(row) for row in db.execute("SELECT * FROM jobs")}
        last = history_queries.last_runs_by_job(self.store)
        result = []
        for name, spec in self.registry.items():
            row = rows.get(name)
            if row is None:
                continue
            row.update(spec=spec, last_run=last.get(name), next_run=self.next_run_time(name))
            result.append(row)
        return result

    def definition(self, name: str) -> dict[str, Any]:
        self.spec(name)
        for row in self.definitions():
            if row["name"] == name:
                return row
        raise JobError(N_("Unknown process."))

    def update_definition(self, name: str, kind: str, value: str, enabled: bool) -> None:
        self.spec(name)
        kind, value = validate_trigger(kind, value)
        with self.store.write() as db:
            db.execute(
                "UPDATE jobs SET trigger_kind = ?, trigger_value = ?, enabled = ? WHERE name = ?",
                [kind, value, int(enabled), name],
            )
        self._schedule(name, kind, value, enabled)

    # -- running -------------------------------------------------------------------------------

    def claim(self, name: str, origin: str) -> int | None:
        """Create the run and mark the job busy in one transaction; None if it is already running.

        A claim held by a process that no longer exists (kill -9, power cut) is taken over.
        """
        run_id = self._claim(name, origin)
        if run_id is None and self._release_dead_claim(name):
            run_id = self._claim(name, origin)
        return run_id

    def _release_dead_claim(self, name: str) -> bool:
        with self.store.write() as db:
            row = db.execute(
                "SELECT running_pid, running_run_id FROM jobs WHERE name = ? AND running_since"
                " IS NOT NULL",
                [name],
            ).fetchone()
            if row is None or pid_alive(row["running_pid"]):
                return False
            db.execute(
                "UPDATE jobs SET running_run_id = NULL, running_since = NULL, running_pid = NULL"
                " WHERE name = ? AND running_pid IS ?",
                [name, row["running_pid"]],
            )
            if row["running_run_id"]:
                db.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ?"
                    " AND status = 'running'",
                    [clock.now_iso(), row["running_run_id"]],
                )
        log.warning("process %s: claim of dead process %s released", name, row["running_pid"])
        return True

    def _claim(self, name: str, origin: str) -> int | None:
        self.spec(name)
        started = clock.now_iso()
        with self.store.write() as db:
            claimed = db.execute(
                "UPDATE jobs SET running_since = ?, running_pid = ?"
                " WHERE name = ? AND running_since IS NULL",
                [started, os.getpid(), name],
            ).rowcount
            if not claimed:
                return None
            run_id = int(
                db.execute(
                    "INSERT INTO runs (job_name, origin, status, started_at, owner_pid)"
                    " VALUES (?, ?, 'running', ?, ?)",
                    [name, origin, started, os.getpid()],
                ).lastrowid
                or 0
            )
            db.execute("UPDATE jobs SET running_run_id = ? WHERE name = ?", [run_id, name])
        return run_id

    def running_run_id(self, name: str) -> int | None:
        with self.store.read() as db:
            row = db.execute("SELECT running_run_id FROM jobs WHERE name = ?", [name]).fetchone()
        return int(row[0]) if row and row[0] else None

    def run(self, name: str, origin: str = "command") -> int:
        """Run now in this thread; raises JobError if a run of it is already under way."""
        run_id = self.claim(name, origin)
        if run_id is None:
            raise JobError(N_("This process is already running."))
        self._execute(name, run_id)
        return run_id

    def start(self, name: str, origin: str = "manual") -> tuple[int, bool]:
        """Run in a background thread; returns (run id, started) — the running one if busy."""
        run_id = self.claim(name, origin)
        if run_id is None:
            return self.running_run_id(name) or 0, False
        thread = threading.Thread(
            target=self._execute, args=(name, run_id), name=f"job-{name}", daemon=True
        )
        thread.start()
        return run_id, True

    def _scheduled(self, name: str) -> None:
        if self.claim(name, "schedule") is None:
            log.info("%s is still running: this trigger is skipped", name)
            return
        run_id = self.running_run_id(name)
        if run_id:
            self._execute(name, run_id)

    def _execute(self, name: str, run_id: int) -> None:
        spec = self.spec(name)
        self._threads.add(threading.current_thread())
        context = RunContext(
            self.store, self.data_dir, name, run_id, self.stop_event, vault=self.vault
        )
        try:
            record_outcome(context, lambda: spec.func(context))
        finally:
            with self.store.write() as db:
                db.execute(
                    "UPDATE jobs SET running_run_id = NULL, running_since = NULL, running_pid = NULL"
                    " WHERE name = ? AND running_run_id = ?",
                    [name, run_id],
                )
            self._threads.discard(threading.current_thread())

    # -- scheduler -----------------------------------------------------------------------------

    def start_scheduler(self) -> None:
        self._scheduler = BackgroundScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        )
        for row in self.definitions():
            self._schedule(
                row["name"], row["trigger_kind"], row["trigger_value"], bool(row["enabled"])
            )
        self._scheduler.start(paused=self._paused_setting())

    def _schedule(self, name: str, kind: str, value: str, enabled: bool) -> None:
        if self._scheduler is None:
            return
        if self._scheduler.get_job(name):
            self._scheduler.remove_job(name)
        if enabled:
            self._scheduler.add_job(
                self._scheduled, make_trigger(kind, value), args=[name], id=name, name=name
            )

    def next_run_time(self, name: str) -> datetime | None:
        if self._scheduler is None:
            return None
        job = self._scheduler.get_job(name)
        return job.next_run_time if job else None

    @property
    def paused(self) -> bool:
        from apscheduler.schedulers.base import STATE_PAUSED

        return self._scheduler is not None and self._scheduler.state == STATE_PAUSED

    def _paused_setting(self) -> bool:
        return bool(settings.read_value(self.store, "scheduler_paused", False))

    def _remember_paused(self, paused: bool) -> None:
        # Kept in the database: a shop that paused its processes expects them paused after a restart.
        settings.write_value(self.store, "scheduler_paused", paused)

    def pause(self) -> None:
        self._remember_paused(True)
        if self._scheduler:
            self._scheduler.pause()

    def resume(self) -> None:
        self._remember_paused(False)
        if self._scheduler:
            self._scheduler.resume()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Ask running jobs to stop, wait for them a little, then stop the scheduler."""
        self.stop_event.set()
        if self._scheduler and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
