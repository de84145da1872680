"""History (PLT-6): runs of the jobs and what each did item by item; filters, resolution, purge.

Messages are stored as English msgids with JSON params and translated when shown, so a run recorded
while the interface was in French reads in English after a language switch, and vice versa.
"""

from __future__ import annotations

import os
from typing import Any

from sqlite_utils import Database

from webapp.clock import now_iso
from webapp.history_queries import decode_row
from webapp.i18n import N_, UserError, gettext, stored_params
from webapp.job_labels import job_label as job_label  # the templates' job_label global
from webapp.liveness import pid_alive
from webapp.store import Store

ITEM_STATUSES = ("received", "sent", "done", "skipped", "error")
RUN_STATUSES = ("running", "success", "warning", "failed", "interrupted")
# A resolution is read by people: a page of text, signed by a name.
JUSTIFICATION_MAX = 2000
RESOLVER_MAX = 100
_COUNTER = {
    "received": "count_received",
    "sent": "count_sent",
    "done": "count_done",
    "skipped": "count_skipped",
    "error": "count_errors",
}
STATUS_LABELS = {
    "received": N_("received"),
    "sent": N_("sent"),
    "done": N_("done"),
    "skipped": N_("skipped"),
    "error": N_("error"),
    "running": N_("running"),
    "success": N_("success"),
    "warning": N_("completed with errors"),
    "failed": N_("failed"),
    "interrupted": N_("interrupted"),
}

# Item kinds are codes in the database; jobs add the labels of their own kinds here.
KIND_LABELS: dict[str, str] = {
    "history": N_("history"),
    "backup": N_("backup"),
    "file": N_("file"),
}


def status_label(status: str) -> str:
    return gettext(STATUS_LABELS.get(status) or status)


def kind_label(kind: str) -> str:
    return gettext(KIND_LABELS.get(kind) or kind)


class HistoryError(UserError):
    """Refused operation on the history."""


def _dumps(params: dict[str, Any] | None) -> str | None:
    return stored_params(params)


def start_run(store: Store, job_name: str, origin: str) -> int:
    """A run owned by this process; runs of the same job left by a dead process end first."""
    interrupt_unfinished(store, job_name)
    with store.write() as db:
        cursor = db.execute(
            "INSERT INTO runs (job_name, origin, status, started_at, owner_pid)"
            " VALUES (?, ?, 'running', ?, ?)",
            [job_name, origin, now_iso(), os.getpid()],
        )
        return int(cursor.lastrowid or 0)


def add_item(
    store: Store,
    run_id: int,
    job_name: str,
    *,
    kind: str,
    status: str,
    reference: str | None = None,
    message: str | None = None,
    params: dict[str, Any] | None = None,
    subject: str | None = None,
) -> int:
    with store.write() as db:
        return insert_item(
            db,
            run_id,
            job_name,
            kind=kind,
            status=status,
            reference=reference,
            message=message,
            params=params,
            subject=subject,
        )


def insert_item(
    db: Database,
    run_id: int,
    job_name: str,
    *,
    kind: str,
    status: str,
    reference: str | None = None,
    message: str | None = None,
    params: dict[str, Any] | None = None,
    subject: str | None = None,
) -> int:
    """add_item inside a caller's transaction: the item commits with the work it describes.

    `subject` is what the item is about (a connector's code): that thing's own history page lists
    the platform's items filtered on it.
    """
    if status not in ITEM_STATUSES:
        raise ValueError(f"unknown item status {status!r}")
    cursor = db.execute(
        "INSERT INTO run_items (run_id, job_name, created_at, kind, status, reference, message,"
        " params, subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, job_name, now_iso(), kind, status, reference, message, _dumps(params), subject],
    )
    column = _COUNTER[status]
    db.execute(f"UPDATE runs SET {column} = {column} + 1 WHERE id = ?", [run_id])
    return int(cursor.lastrowid or 0)


def set_progress(
    store: Store, run_id: int, done: int, total: int | None, label: str | None
) -> None:
    with store.write() as db:
        db.execute(
            "UPDATE runs SET progress_done = ?, progress_total = ?, progress_label = ? WHERE id = ?",
            [done, total, label, run_id],
        )


def finish_run(
    store: Store,
    run_id: int,
    status: str,
    message: str | None = None,
    params: dict[str, Any] | None = None,
) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    with store.write() as db:
        db.execute(
            "UPDATE runs SET status = ?, finished_at = ?, message = ?, params = ? WHERE id = ?",
            [status, now_iso(), message, _dumps(params), run_id],
        )


def interrupt_unfinished(store: Store, job_name: str | None = None) -> int:
    """Runs left 'running' by a process that no longer exists (kill -9, power cut) are interrupted.

    Called by every Relais process at start (CLI included) and before a job starts a run, so a
    killed `relais connector receive` does not stay "running" until a server starts. A run whose
    process still lives (a receive in another terminal) is left alone; a run from before owners
    were recorded is judged by its job's claim, as it was then.
    """
    where, params = "status = 'running'", []
    if job_name is not None:
        where, params = where + " AND job_name = ?", [job_name]
    with store.read() as db:
        running = db.execute(f"SELECT id, owner_pid FROM runs WHERE {where}", params).fetchall()
        claimed = {
            row[0]
            for row in db.execute(
                "SELECT running_run_id FROM jobs WHERE running_run_id IS NOT NULL"
            )
        }
    dead = [
        row["id"]
        for row in running
        if (row["owner_pid"] is None and row["id"] not in claimed)
        or (row["owner_pid"] is not None and not pid_alive(row["owner_pid"]))
    ]
    if not dead:
        return 0
    with store.write() as db:
        db.conn.executemany(
            "UPDATE runs SET status = 'interrupted', finished_at = ?, message = ?"
            " WHERE id = ? AND status = 'running'",
            [
                (now_iso(), N_("The program stopped while this run was under way."), run_id)
                for run_id in dead
            ],
        )
    return len(dead)


def written_justification(
    text: str | None, missing: str, refused: type[UserError] = HistoryError
) -> str:
    """A justification as it is kept (stripped), or `refused` with `missing` when it says
    nothing (under 3 characters), or when it is too long to keep whole: nothing is cut, the
    person who wrote it sees why it was refused."""
    kept = (text or "").strip()
    if len(kept) < 3:
        raise refused(missing)
    if len(kept) > JUSTIFICATION_MAX:
        raise refused(
            N_("The justification is limited to {max} characters."), max=JUSTIFICATION_MAX
        )
    return kept


def resolve_item(store: Store, item_id: int, justification: str, who: str) -> dict[str, Any]:
    """Mark an error resolved; refused without a written justification, or one too long to keep
    whole (nothing is cut: the person who wrote it sees why it was refused)."""
    text = written_justification(
        justification, N_("A justification is required to mark an error as resolved.")
    )
    if len(who) > RESOLVER_MAX:
        raise HistoryError(
            N_("The name of who resolves an error is limited to {max} characters."),
            max=RESOLVER_MAX,
        )
    with store.write() as db:
        row = db.execute("SELECT * FROM run_items WHERE id = ?", [item_id]).fetchone()
        if row is None:
            raise HistoryError(N_("This history entry no longer exists."))
        if row["status"] != "error":
            raise HistoryError(N_("Only errors can be marked as resolved."))
        if row["resolved_at"]:
            raise HistoryError(N_("This error is already resolved."))
        db.execute(
            "UPDATE run_items SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?",
            [now_iso(), who, text, item_id],
        )
        return decode_row(db.execute("SELECT * FROM run_items WHERE id = ?", [item_id]).fetchone())
