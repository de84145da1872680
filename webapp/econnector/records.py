"""The e-connecteur's exchanges in the platform history (ECN-8): one item per document, party or
file sent, about its connector (`subject` = the connector's code), and the connector's history page
read back from there, by tab."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from webapp import history
from webapp.clock import now_iso
from webapp.econnector.report import ReceiveReport, summary
from webapp.i18n import N_, UserError, stored_params

if TYPE_CHECKING:
    from webapp.econnector.connectors import Connector
    from webapp.store import Store

for _kind, _label in (
    ("document", N_("document")),
    ("customer", N_("Customer")),
    ("supplier", N_("Supplier")),
    ("articles", N_("Articles")),
    ("customers", N_("Customers")),
    ("contacts", N_("Contacts")),
):
    history.KIND_LABELS.setdefault(_kind, _label)

RECEIVE_JOB = "connector_receive"

# The run's counter each item status moves (as history.insert_item moves it).
COUNTERS = {
    "received": "count_received",
    "sent": "count_sent",
    "done": "count_done",
    "skipped": "count_skipped",
    "error": "count_errors",
}

# The page's tabs and the item status each lists.
TABS = {"reception": "received", "send": "sent", "error": "error"}


def record(
    db: Database,
    run_id: int,
    job_name: str,
    code: str,
    *,
    kind: str,
    status: str,
    key: str,
    message: str,
    params: dict[str, Any],
) -> int:
    """One exchange, in the caller's transaction: reference `CODE:key`, subject the connector."""
    return history.insert_item(
        db,
        run_id,
        job_name,
        kind=kind,
        status=status,
        reference=f"{code}:{key}",
        message=message,
        params={name: value for name, value in params.items() if value not in (None, "")},
        subject=code,
    )


@dataclass(frozen=True)
class Exchange:
    """One item of :func:`record_many`: what :func:`record` takes, but the run."""

    kind: str
    status: str
    key: str
    message: str
    params: dict[str, Any]


def record_many(
    db: Database, run_id: int, job_name: str, code: str, exchanges: list[Exchange]
) -> None:
    """:func:`record` for many items in two statements: the same rows, in the same order, and the
    run's counters moved once."""
    if not exchanges:
        return
    now = now_iso()
    rows = []
    counts: dict[str, int] = {}
    for item in exchanges:
        if item.status not in history.ITEM_STATUSES:
            raise ValueError(f"unknown item status {item.status!r}")
        params = {name: value for name, value in item.params.items() if value not in (None, "")}
        text = stored_params(params)
        rows.append(
            (
                run_id,
                job_name,
                now,
                item.kind,
                item.status,
                f"{code}:{item.key}",
                item.message,
                text,
                code,
            )
        )
        counts[item.status] = counts.get(item.status, 0) + 1
    db.conn.executemany(
        "INSERT INTO run_items (run_id, job_name, created_at, kind, status, reference, message,"
        " params, subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    moved = ", ".join(
        f"{COUNTERS[status]} = {COUNTERS[status]} + {count}" for status, count in counts.items()
    )
    db.execute(f"UPDATE runs SET {moved} WHERE id = ?", [run_id])


def start_reception(store: Store, code: str, origin: str) -> int:
    """A reception's own run, about its connector (`subject`: the connector's history shows it)."""
    run_id = history.start_run(store, RECEIVE_JOB, origin)
    with store.write() as db:
        db.execute("UPDATE runs SET subject = ? WHERE id = ?", [code, run_id])
    return run_id


def record_source_error(
    store: Store, connector: Connector, source: str, error: UserError, run_id: int | None
) -> None:
    """A source of a reception (a file, the shop's orders) refused as a whole: one error item in
    its own transaction; none for an analysis (no run)."""
    if run_id is None:
        return
    with store.write() as db:
        record(
            db,
            run_id,
            RECEIVE_JOB,
            connector.code,
            kind="file",
            status="error",
            key=source,
            message=error.message,
            params={**error.params, "file": source},
        )


def finish_reception(store: Store, report: ReceiveReport) -> None:
    """End a reception's run: a warning when something was not integrated or a source failed."""
    assert report.run_id is not None
    failed = report.count("not_integrated") or any("error" in entry for entry in report.files)
    message, params = summary(report)
    history.finish_run(store, report.run_id, "warning" if failed else "success", message, params)


def default_period(today: date | None = None) -> tuple[date, date]:
    day = today or datetime.now().date()
    return day - timedelta(days=61), day
