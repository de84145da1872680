"""What a run's function gets and how a run ends: shared by scheduled jobs and tasks.

A scheduled job (webapp/jobs.py) and a task started from a page (webapp/tasks.py) are both runs in
the database; their functions get the same :class:`RunContext` and end the same way.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webapp import history, history_queries
from webapp.config import DataDir
from webapp.i18n import N_, UserError
from webapp.secrets import Vault
from webapp.store import Store

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.25


class RunStopped(Exception):
    """Raised inside a job by :meth:`RunContext.check_stop` when the program is closing."""


@dataclass(frozen=True)
class Summary:
    message: str
    params: dict[str, Any] | None = None


class RunContext:
    """What a job function gets: the store, its run id, progress and item recording."""

    def __init__(
        self,
        store: Store,
        data_dir: DataDir,
        job_name: str,
        run_id: int,
        stop: threading.Event,
        vault: Vault | None = None,
    ):
        self.store = store
        self.vault = vault
        self.data_dir = data_dir
        self.job_name = job_name
        self.run_id = run_id
        self._stop = stop
        self._last_progress = 0.0

    @property
    def should_stop(self) -> bool:
        return self._stop.is_set()

    def check_stop(self) -> None:
        """Long jobs call this between items: Relais is closing, so end the run here."""
        if self._stop.is_set():
            raise RunStopped()

    def wait(self, seconds: float) -> None:
        """Sleep that ends early, with RunStopped, when Relais is closing."""
        if self._stop.wait(seconds):
            raise RunStopped()

    def progress(self, done: int, total: int | None = None, label: str | None = None) -> None:
        """Record progress; throttled so a tight loop does not flood the writer."""
        moment = time.monotonic()
        finished = total is not None and done >= total
        if finished or moment - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = moment
            history.set_progress(self.store, self.run_id, done, total, label)

    def save_result(self, data: Any) -> None:
        """Leave JSON for the page that shows this run (a task's analysis to confirm)."""
        save_result(self.store, self.run_id, data)

    def item(
        self,
        kind: str,
        status: str,
        reference: str | None = None,
        message: str | None = None,
        **params: Any,
    ) -> int:
        return history.add_item(
            self.store,
            self.run_id,
            self.job_name,
            kind=kind,
            status=status,
            reference=reference,
            message=message,
            params=params or None,
        )


def save_result(store: Store, run_id: int, data: Any) -> None:
    """Store `data` as the run's result, beside what the run was asked (see webapp/tasks.py)."""
    with store.write() as db:
        db.execute(
            "UPDATE runs SET result = json_set(coalesce(result, '{}'), '$.result', json(?))"
            " WHERE id = ?",
            [json.dumps(data, ensure_ascii=False, default=str), run_id],
        )


def record_outcome(context: RunContext, work: Callable[[], Summary | None]) -> None:
    """Call `work` for the run of `context` and record how it ended, whatever happens.

    Shared by scheduled jobs and tasks (webapp/tasks.py), so both end their runs the same way.
    """
    store, name, run_id = context.store, context.job_name, context.run_id
    try:
        summary = work()
        run = history_queries.get_run(store, run_id) or {}
        status = "warning" if run.get("count_errors") else "success"
        history.finish_run(
            store,
            run_id,
            status,
            summary.message if summary else None,
            summary.params if summary else None,
        )
    except RunStopped:
        history.finish_run(store, run_id, "interrupted", N_("Stopped because Relais was closing."))
    except UserError as exc:  # a failure the user can act on: keep its own words
        log.warning("process %s stopped (run %s): %s", name, run_id, exc.translated())
        history.finish_run(store, run_id, "failed", exc.message, exc.params)
    except Exception as exc:
        log.exception("process %s failed (run %s)", name, run_id)
        history.finish_run(
            store,
            run_id,
            "failed",
            N_("The process failed: {error}"),
            {"error": str(exc) or type(exc).__name__},
        )
