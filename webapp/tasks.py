"""Tasks: work a page starts (an import's analysis, its integration), run as runs in the database.

A task is a run like a scheduled job's: claimed in one write transaction (a conditional INSERT, the
database is the queue as in healthchecks), given the same :class:`~webapp.jobs.RunContext`, ended
the same way (:func:`~webapp.run_context.record_outcome`), shown by the same ``_progress.html``.
Nothing is kept in memory but the threads: a page reloaded finds its task by run id, the command
line sees it in the history, and a task left by a killed process is interrupted like a job's run.

One thing is kept in memory, and only while a task runs: the progress it makes inside a write
transaction (an import's all-or-nothing pass holds the one writer until it commits), which cannot
reach the database before the end; the pages of this process read it from the runner.

What a task was asked (its params) and what it leaves for its page (its result) are kept together
in ``runs.result`` as ``{"params": ..., "result": ...}``: ``runs.params`` holds the params of the
run's message, as for every run.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webapp import clock, history, history_queries
from webapp.config import DataDir
from webapp.i18n import N_, UserError
from webapp.run_context import RunContext, Summary, record_outcome
from webapp.run_context import save_result as _save_result
from webapp.secrets import Vault
from webapp.store import Store

log = logging.getLogger(__name__)


class TaskError(UserError):
    """Refused request about a task."""


class TaskBusy(TaskError):
    """A run of the same task and subject is already under way; `run_id` is that run."""

    def __init__(self, message: str, *, run_id: int, **params: Any) -> None:
        super().__init__(message, **params)
        self.run_id = run_id


@dataclass(frozen=True)
class TaskSpec:
    """A kind of task; `name` is the `runs.job_name` of its runs, `title` an N_ msgid."""

    name: str
    title: str
    func: Callable[[RunContext, dict[str, Any]], Summary | None]


@dataclass(frozen=True)
class TaskRun:
    """One task's run as stored: what it was asked, where it is, what it left."""

    id: int
    name: str
    subject: str | None
    status: str
    params: dict[str, Any]
    result: Any
    run: dict[str, Any]  # the history row, as _progress.html shows it

    @property
    def running(self) -> bool:
        return self.status == "running"


Progress = tuple[int, int | None, str | None]


class TaskContext(RunContext):
    """A task's RunContext: progress made while the writer is busy is handed to the runner."""

    def __init__(self, runner: TaskRunner, spec: TaskSpec, run_id: int) -> None:
        super().__init__(
            runner.store, runner.data_dir, spec.name, run_id, runner.stop_event, runner.vault
        )
        self._runner = runner

    def progress(self, done: int, total: int | None = None, label: str | None = None) -> None:
        if _writing(self.store):
            self._runner._set_live(self.run_id, (done, total, label))
            return
        self._runner._set_live(self.run_id, None)
        super().progress(done, total, label)


def _writing(store: Store) -> bool:
    # Progress written now would wait for (and be rolled back with) the open transaction.
    return store.in_transaction


class TaskRunner:
    """Starts, runs and finds the tasks of one data folder."""

    def __init__(
        self,
        store: Store,
        data_dir: DataDir,
        specs: dict[str, TaskSpec],
        vault: Vault | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.data_dir = data_dir
        self.specs = specs
        self.vault = vault
        self.stop_event = stop_event or threading.Event()
        self._threads: set[threading.Thread] = set()
        self._live: dict[int, Progress] = {}
        self._lock = threading.Lock()

    def spec(self, name: str) -> TaskSpec:
        try:
            return self.specs[name]
        except KeyError:
            raise TaskError(N_("Unknown task.")) from None

    def start(
        self,
        name: str,
        params: dict[str, Any],
        *,
        subject: str | None = None,
        origin: str = "manual",
    ) -> int:
        """Claim the run and run it in a background thread; TaskBusy if one is under way."""
        spec = self.spec(name)
        run_id = self.claim(name, params, subject=subject, origin=origin)
        thread = threading.Thread(
            target=self._execute, args=(spec, run_id, params), name=f"task-{name}", daemon=True
        )
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return run_id

    def run(
        self,
        name: str,
        params: dict[str, Any],
        *,
        subject: str | None = None,
        origin: str = "command",
    ) -> int:
        """The same as start, in the calling thread (the command line waits for its task)."""
        spec = self.spec(name)
        run_id = self.claim(name, params, subject=subject, origin=origin)
        self._execute(spec, run_id, params)
        return run_id

    def claim(self, name: str, params: dict[str, Any], *, subject: str | None, origin: str) -> int:
        """Insert the run as running unless one of this name and subject already runs.

        A run left running by a process that no longer exists (kill -9) is interrupted first, as
        every process does at start (history.interrupt_unfinished), and the claim is tried again.
        """
        self.spec(name)
        run_id = self._insert(name, params, subject, origin)
        if run_id is None and history.interrupt_unfinished(self.store, name):
            run_id = self._insert(name, params, subject, origin)
        if run_id is None:
            raise TaskBusy(
                N_("This task is already running."),
                run_id=self.running_run_id(name, subject) or 0,
            )
        return run_id

    def _insert(
        self, name: str, params: dict[str, Any], subject: str | None, origin: str
    ) -> int | None:
        stored = json.dumps({"params": params}, ensure_ascii=False, default=str)
        with self.store.write() as db:
            cursor = db.execute(
                "INSERT INTO runs (job_name, origin, status, started_at, owner_pid, subject, result)"
                " SELECT ?, ?, 'running', ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM runs"
                " WHERE job_name = ? AND subject IS ? AND status = 'running')",
                [name, origin, clock.now_iso(), os.getpid(), subject, stored, name, subject],
            )
            return int(cursor.lastrowid or 0) if cursor.rowcount else None

    def running_run_id(self, name: str, subject: str | None) -> int | None:
        with self.store.read() as db:
            row = db.execute(
                "SELECT id FROM runs WHERE job_name = ? AND subject IS ? AND status = 'running'"
                " ORDER BY id DESC LIMIT 1",
                [name, subject],
            ).fetchone()
        return int(row[0]) if row else None

    def _execute(self, spec: TaskSpec, run_id: int, params: dict[str, Any]) -> None:
        context = TaskContext(self, spec, run_id)
        try:
            record_outcome(context, lambda: spec.func(context, params))
        finally:
            self._set_live(run_id, None)
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _set_live(self, run_id: int, progress: Progress | None) -> None:
        with self._lock:
            if progress is None:
                self._live.pop(run_id, None)
            else:
                self._live[run_id] = progress

    def with_live_progress(self, run: dict[str, Any]) -> dict[str, Any]:
        """The run row with the progress its task made and could not write yet, if any."""
        with self._lock:
            live = self._live.get(run["id"]) if run["status"] == "running" else None
        if live is None:
            return run
        done, total, label = live
        return {**run, "progress_done": done, "progress_total": total, "progress_label": label}

    def get(self, run_id: int) -> TaskRun | None:
        """The task's run, or None if there is no such run or it is not one of these tasks."""
        run = history_queries.get_run(self.store, run_id)
        if run is None or run["job_name"] not in self.specs:
            return None
        run = self.with_live_progress(run)
        stored = json.loads(run.get("result") or "{}")
        return TaskRun(
            id=run_id,
            name=run["job_name"],
            subject=run.get("subject"),
            status=run["status"],
            params=stored.get("params") or {},
            result=stored.get("result"),
            run=run,
        )

    def save_result(self, run_id: int, data: Any) -> None:
        """What the task leaves for its page (RunContext.save_result does the same from inside)."""
        _save_result(self.store, run_id, data)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Ask running tasks to stop (RunContext.check_stop) and wait for them a little."""
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
