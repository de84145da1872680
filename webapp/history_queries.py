"""Reading the history (PLT-6) for pages, the CLI and jobs: runs, items, filters, pages, counts.

Writing runs and items, and resolving errors, is `webapp.history`'s concern."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from webapp import clock
from webapp.store import Store


def decode_row(row: Any) -> dict[str, Any]:
    record = dict(row)
    record["params"] = json.loads(record["params"]) if record.get("params") else None
    return record


def get_run(store: Store, run_id: int) -> dict[str, Any] | None:
    with store.read() as db:
        row = db.execute("SELECT * FROM runs WHERE id = ?", [run_id]).fetchone()
    return decode_row(row) if row else None


def recent_runs(
    store: Store, *, job_name: str | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    sql, args = "SELECT * FROM runs", []
    if job_name:
        sql, args = sql + " WHERE job_name = ?", [job_name]
    with store.read() as db:
        rows = db.execute(sql + " ORDER BY id DESC LIMIT ?", [*args, limit]).fetchall()
    return [decode_row(row) for row in rows]


def last_runs_by_job(store: Store) -> dict[str, dict[str, Any]]:
    with store.read() as db:
        rows = db.execute(
            "SELECT * FROM runs WHERE id IN (SELECT max(id) FROM runs GROUP BY job_name)"
        ).fetchall()
    return {row["job_name"]: decode_row(row) for row in rows}


def run_items(store: Store, run_id: int, limit: int = 500) -> list[dict[str, Any]]:
    with store.read() as db:
        rows = db.execute(
            "SELECT * FROM run_items WHERE run_id = ? ORDER BY id LIMIT ?", [run_id, limit]
        ).fetchall()
    return [decode_row(row) for row in rows]


@dataclass
class ItemFilter:
    date_from: date | None = None
    date_to: date | None = None
    job_name: str | None = None
    kind: str | None = None
    status: str | None = None  # an item status, or "unresolved"
    subject: str | None = None  # one thing's items (a connector's code)

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.date_from:
            clauses.append("created_at >= ?")
            args.append(clock.local_day_start_iso(self.date_from))
        if self.date_to:
            clauses.append("created_at < ?")
            args.append(clock.local_day_start_iso(self.date_to + timedelta(days=1)))
        if self.job_name:
            clauses.append("job_name = ?")
            args.append(self.job_name)
        if self.kind:
            clauses.append("kind = ?")
            args.append(self.kind)
        if self.subject:
            clauses.append("subject = ?")
            args.append(self.subject)
        if self.status == "unresolved":
            clauses.append("status = 'error' AND resolved_at IS NULL")
        elif self.status:
            clauses.append("status = ?")
            args.append(self.status)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


@dataclass
class Page:
    items: list[dict[str, Any]]
    number: int
    per_page: int
    has_next: bool
    filters: ItemFilter = field(default_factory=ItemFilter)

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def query_items(store: Store, filters: ItemFilter, page: int = 1, per_page: int = 50) -> Page:
    """One page, newest first; fetches one row more instead of counting 200,000 rows."""
    page = max(page, 1)
    where, args = filters.where()
    sql = f"SELECT * FROM run_items{where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
    with store.read() as db:
        rows = db.execute(sql, [*args, per_page + 1, (page - 1) * per_page]).fetchall()
    items = [decode_row(row) for row in rows[:per_page]]
    return Page(items, page, per_page, len(rows) > per_page, filters)


def count_unresolved(store: Store) -> int:
    with store.read() as db:
        row = db.execute(
            # The planner prefers the wider status index; the partial one holds only what we count.
            "SELECT count(*) FROM run_items INDEXED BY run_items_unresolved"
            " WHERE status = 'error' AND resolved_at IS NULL"
        ).fetchone()
    return int(row[0])


def count_unresolved_for(store: Store, subject: str) -> int:
    """The unresolved errors about one thing (a connector's sync row)."""
    with store.read() as db:
        row = db.execute(
            "SELECT count(*) FROM run_items WHERE subject = ? AND status = 'error'"
            " AND resolved_at IS NULL",
            [subject],
        ).fetchone()
    return int(row[0])


def last_item_at(store: Store, subject: str, status: str) -> str | None:
    """When the last item of that status about one thing was recorded (its last reception)."""
    with store.read() as db:
        row = db.execute(
            "SELECT max(created_at) FROM run_items WHERE subject = ? AND status = ?",
            [subject, status],
        ).fetchone()
    return str(row[0]) if row[0] else None
