"""Reading the history (PLT-6) for pages, the CLI and jobs: runs, items, filters, pages, counts.

Writing runs and items, and resolving errors, is `webapp.history`'s concern."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

from webapp import clock
from webapp.i18n import loaded_params
from webapp.store import Store


def decode_row(row: Any) -> dict[str, Any]:
    record = dict(row)
    record["params"] = loaded_params(record.get("params"))
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


def job_names(store: Store) -> list[str]:
    """Every process that has runs (the history filter's choices); read off the runs_job_started
    index, not the table."""
    with store.read() as db:
        rows = db.execute("SELECT DISTINCT job_name FROM runs ORDER BY job_name").fetchall()
    return [str(row[0]) for row in rows]


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

    def where(self, *, moment: str | None = None) -> tuple[str, list[Any]]:
        """The WHERE clause; with ``moment``, only the rows of that created_at (the dates are then
        checked row by row: SQLite would range over them rather than seek the moment)."""
        clauses: list[str] = []
        args: list[Any] = []
        dated = "created_at" if moment is None else "+created_at"
        if moment is not None:
            clauses.append("created_at = ?")
            args.append(moment)
        if self.date_from:
            clauses.append(f"{dated} >= ?")
            args.append(clock.local_day_start_iso(self.date_from))
        if self.date_to:
            clauses.append(f"{dated} < ?")
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
        elif self.status == "error":
            clauses.append("status = 'error'")  # a literal: what the errors' partial index says
        elif self.status:
            clauses.append("status = ?")
            args.append(self.status)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def source(self) -> str:
        """The table, held to the (subject, status, created_at) index for one thing's tab, or to
        the errors' (job_name, created_at) for one job's errors: without statistics the planner
        may walk every item of that status, of every subject or job, instead."""
        if self.subject and self.status:
            return "run_items INDEXED BY run_items_subject_status_created"
        if self.job_name and self.status == "error":
            return "run_items INDEXED BY run_items_errors_by_job"
        return "run_items"


@dataclass(frozen=True)
class Cursor:
    """A row's place in the newest-first order, (created_at, id): what a page link carries instead
    of an OFFSET, so page 200 costs what page 1 costs and a new item does not shift the pages.

    created_at is kept as stored text: rows of the older whole-second format sort as text too."""

    created_at: str
    id: int

    TEXT_MAX = 40

    @classmethod
    def of(cls, item: dict[str, Any]) -> Cursor:
        return cls(str(item["created_at"]), int(item["id"]))

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """``<created_at>_<id>`` from a link; anything else is no cursor (the first page)."""
        moment, _, number = (text or "").strip().rpartition("_")
        if not moment or len(moment) > cls.TEXT_MAX or not number.isdigit():
            return None
        try:
            clock.parse_iso(moment)
        except ValueError:
            return None
        return cls(moment, int(number))

    def token(self) -> str:
        return f"{self.created_at}_{self.id}"


@dataclass
class Page:
    items: list[dict[str, Any]]
    number: int
    per_page: int
    has_next: bool
    filters: ItemFilter = field(default_factory=ItemFilter)
    has_previous: bool = False

    @property
    def next_cursor(self) -> Cursor | None:
        return Cursor.of(self.items[-1]) if self.items and self.has_next else None

    @property
    def previous_cursor(self) -> Cursor | None:
        return Cursor.of(self.items[0]) if self.items and self.has_previous else None


def query_items(store: Store, filters: ItemFilter, page: int = 1, per_page: int = 50) -> Page:
    """One page by number (the CLI's first page); pages of the UI go by cursor (query_page)."""
    page = max(page, 1)
    where, args = filters.where()
    order_by = "ORDER BY created_at DESC, id DESC"
    sql = f"SELECT * FROM {filters.source()}{where} {order_by} LIMIT ? OFFSET ?"
    with store.read() as db:
        rows = db.execute(sql, [*args, per_page + 1, (page - 1) * per_page]).fetchall()
    items = [decode_row(row) for row in rows[:per_page]]
    return Page(items, page, per_page, len(rows) > per_page, filters, page > 1)


def query_page(
    store: Store,
    filters: ItemFilter,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    number: int = 1,
    per_page: int = 50,
) -> Page:
    """The page of items just older than ``after`` (next) or just newer than ``before`` (previous),
    newest first; with neither, the first page. One row more than a page says whether more follow;
    ``number`` is only carried along to be shown."""
    if before is not None:
        with store.read() as db:
            rows = _nearest(db, filters, before, newer=True, limit=per_page + 1)
            has_next = bool(_nearest(db, filters, before, newer=False, limit=1, inclusive=True))
        if len(rows) < per_page:  # back at the top: the first page, full
            return query_page(store, filters, per_page=per_page)
        items = [decode_row(row) for row in reversed(rows[:per_page])]
        has_previous = len(rows) > per_page
    else:
        with store.read() as db:
            rows = _nearest(db, filters, after, newer=False, limit=per_page + 1)
            has_previous = after is not None and bool(
                _nearest(db, filters, after, newer=True, limit=1, inclusive=True)
            )
        items = [decode_row(row) for row in rows[:per_page]]
        has_next = len(rows) > per_page
    number = max(number, 2) if has_previous else 1
    return Page(items, number, per_page, has_next, filters, has_previous)


def _nearest(
    db: Database,
    filters: ItemFilter,
    cursor: Cursor | None,
    *,
    newer: bool,
    limit: int,
    inclusive: bool = False,
) -> list[Any]:
    """Up to ``limit`` rows on one side of ``cursor``, the nearest first."""
    rows: list[Any] = []
    for sql, args in nearest_sql(filters, cursor, newer=newer, inclusive=inclusive):
        rows += db.execute(sql, [*args, limit - len(rows)]).fetchall()
        if len(rows) >= limit:
            break
    return rows


def nearest_sql(
    filters: ItemFilter, cursor: Cursor | None, *, newer: bool, inclusive: bool = False
) -> list[tuple[str, list[Any]]]:
    """The queries of the rows beyond ``cursor``, to run in turn (their LIMIT left to bind): the
    rest of the cursor's own moment by id, then the moments beyond. A job writes a chunk's items
    with one created_at: one range over created_at alone would step through all of them, when
    each of these is one index range (the rowid ends every index key), without a sort."""
    sign, order = (">", "ASC") if newer else ("<", "DESC")
    select = f"SELECT * FROM {filters.source()}"
    tail = f"ORDER BY created_at {order}, id {order} LIMIT ?"
    if cursor is None:
        where, args = filters.where()
        return [(f"{select}{where} {tail}", args)]
    same, same_args = filters.where(moment=cursor.created_at)
    beyond, beyond_args = filters.where()
    beyond += f"{' AND' if beyond else ' WHERE'} created_at {sign} ?"
    return [
        (f"{select}{same} AND id {sign}{'=' * inclusive} ? {tail}", [*same_args, cursor.id]),
        (f"{select}{beyond} {tail}", [*beyond_args, cursor.created_at]),
    ]


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
