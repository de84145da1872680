"""What Relais remembers of Scrada: companies, books, deliveries, webhook events, the per-book log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from webapp.clock import now_iso
from webapp.i18n import stored_params
from webapp.store import Store

PEPPOL_BOOK = "peppol"
WEBHOOK_BOOK = "webhook"


@dataclass(frozen=True)
class Company:
    id: str
    company_number: str
    name: str
    selected: bool
    refreshed_at: str | None = None


@dataclass(frozen=True)
class Book:
    company_id: str
    kind: str
    id: str
    name: str
    selected: bool
    cursor: int


@dataclass(frozen=True)
class DeliveryKey:
    company_id: str
    book_kind: str
    book_id: str
    document_id: str


def upsert_company(
    db: Database,
    company_id: str,
    *,
    source: str,
    selected: bool,
    company_number: str = "",
    name: str = "",
    vat_number: str = "",
    refreshed: bool = False,
) -> bool:
    """Adds the company if new (with `selected`), else refreshes its names; True when it was new."""
    existing = db.execute("SELECT 1 FROM scrada_companies WHERE id = ?", [company_id]).fetchone()
    stamp = now_iso() if refreshed else None
    if existing is None:
        db.execute(
            "INSERT INTO scrada_companies (id, company_number, name, vat_number, source, selected,"
            " first_seen_at, refreshed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [company_id, company_number, name, vat_number, source, int(selected), now_iso(), stamp],
        )
        return True
    db.execute(
        "UPDATE scrada_companies SET company_number = coalesce(nullif(?, ''), company_number),"
        " name = coalesce(nullif(?, ''), name), vat_number = coalesce(nullif(?, ''), vat_number),"
        " refreshed_at = coalesce(?, refreshed_at) WHERE id = ?",
        [company_number, name, vat_number, stamp, company_id],
    )
    return False


def upsert_book(
    db: Database, company_id: str, kind: str, book_id: str, name: str, active: bool, selected: bool
) -> None:
    db.execute(
        "INSERT INTO scrada_books (company_id, kind, id, name, active, selected)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (company_id, kind, id)"
        " DO UPDATE SET name = excluded.name, active = excluded.active",
        [company_id, kind, book_id, name, int(active), int(selected)],
    )


def companies(store: Store) -> list[Company]:
    with store.read() as db:
        rows = db.execute(
            "SELECT id, company_number, name, selected, refreshed_at FROM scrada_companies"
            " ORDER BY name COLLATE NOCASE, id"
        ).fetchall()
    return [Company(row[0], row[1], row[2], bool(row[3]), row[4]) for row in rows]


def books(store: Store, company_id: str | None = None) -> list[Book]:
    where, params = ("WHERE company_id = ?", [company_id]) if company_id else ("", [])
    with store.read() as db:
        rows = db.execute(
            "SELECT company_id, kind, id, name, selected, cursor FROM scrada_books"
            f" {where} ORDER BY company_id, kind, name",
            params,
        ).fetchall()
    return [Book(row[0], row[1], row[2], row[3], bool(row[4]), int(row[5])) for row in rows]


def set_selected(
    store: Store, company_id: str, selected: bool, book: tuple[str, str] | None
) -> bool:
    """Tick or untick a company (book=None) or one of its books; False when it does not exist."""
    with store.write() as db:
        if book is None:
            cursor = db.execute(
                "UPDATE scrada_companies SET selected = ? WHERE id = ?", [int(selected), company_id]
            )
        else:
            cursor = db.execute(
                "UPDATE scrada_books SET selected = ? WHERE company_id = ? AND kind = ? AND id = ?",
                [int(selected), company_id, book[0], book[1]],
            )
        return bool(cursor.rowcount)


def delivery(db: Database, key: DeliveryKey) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT * FROM scrada_deliveries WHERE company_id = ? AND book_kind = ? AND book_id = ?"
        " AND document_id = ?",
        [key.company_id, key.book_kind, key.book_id, key.document_id],
    ).fetchone()
    return None if row is None else dict(row)


def same_content(
    db: Database, company_id: str, book_kind: str, sha256: str
) -> dict[str, Any] | None:
    """A delivery of the very same bytes for this company and kind, from any source. A company
    adopted from its documents ("doc-<number>", webhooks) is the same as Scrada's id for it."""
    row = db.execute(
        "SELECT * FROM scrada_deliveries WHERE book_kind = ? AND sha256 = ? AND company_id IN"
        " (SELECT ? UNION SELECT id FROM scrada_companies WHERE company_number != ''"
        "  AND company_number = (SELECT company_number FROM scrada_companies WHERE id = ?))"
        " LIMIT 1",
        [book_kind, sha256, company_id, company_id],
    ).fetchone()
    return None if row is None else dict(row)


def record_delivery(
    db: Database,
    key: DeliveryKey,
    *,
    state: str,
    path: str,
    sha256: str,
    size: int,
    document_date: str | None,
    source: str,
    run_id: int | None,
    reason: str | None = None,
    params: dict[str, Any] | None = None,
) -> int:
    cursor = db.execute(
        "INSERT INTO scrada_deliveries (company_id, book_kind, book_id, document_id, state, path,"
        " sha256, size, document_date, reason, params, source, run_id, delivered_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            key.company_id,
            key.book_kind,
            key.book_id,
            key.document_id,
            state,
            path,
            sha256,
            size,
            document_date,
            reason,
            stored_params(params),
            source,
            run_id,
            now_iso(),
        ],
    )
    return int(cursor.lastrowid or 0)


def advance_cursor(db: Database, book: Book, sequence: int) -> None:
    db.execute(
        "UPDATE scrada_books SET cursor = max(cursor, ?) WHERE company_id = ? AND kind = ? AND id = ?",
        [sequence, book.company_id, book.kind, book.id],
    )


def mark_confirmed(db: Database, key: DeliveryKey) -> None:
    db.execute(
        "UPDATE scrada_deliveries SET confirmed_at = ? WHERE company_id = ? AND book_kind = ?"
        " AND book_id = ? AND document_id = ?",
        [now_iso(), key.company_id, key.book_kind, key.book_id, key.document_id],
    )


def bump_log(
    db: Database,
    run_id: int,
    company: Company,
    book_kind: str,
    book_id: str,
    book_name: str,
    outcome: str,
    error: str | None = None,
) -> None:
    """Add one to a counter of this run's line for the book (the SCR-7 log)."""
    column = {"delivered": "delivered", "skipped": "skipped", "quarantined": "quarantined"}.get(
        outcome, "errors"
    )
    db.execute(
        "INSERT INTO scrada_log (run_id, company_id, book_kind, book_id, book_name,"
        " company_name, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [run_id, company.id, book_kind, book_id, book_name, company.name, now_iso()],
    )
    db.execute(
        f"UPDATE scrada_log SET {column} = {column} + 1, updated_at = ?,"
        " last_error = coalesce(?, last_error)"
        " WHERE run_id = ? AND company_id = ? AND book_kind = ? AND book_id = ?",
        [now_iso(), error, run_id, company.id, book_kind, book_id],
    )


def log_rows(store: Store, run_id: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
    where, params = ("WHERE l.run_id = ?", [run_id]) if run_id else ("", [])
    with store.read() as db:
        cursor = db.execute(
            "SELECT l.*, r.started_at, r.status FROM scrada_log l LEFT JOIN runs r ON r.id = l.run_id"
            f" {where} ORDER BY l.run_id DESC, l.company_name, l.book_kind, l.book_name LIMIT ?",
            [*params, limit],
        )
        return [dict(row) for row in cursor.fetchall()]


def status_rows(store: Store) -> list[dict[str, Any]]:
    """Per company and book: the last delivery, the counts, and the last error (`scrada status`)."""
    with store.read() as db:
        cursor = db.execute(
            "SELECT c.id AS company_id, c.name AS company_name, c.company_number, c.selected AS"
            " company_selected, b.kind, b.id AS book_id, b.name AS book_name, b.selected,"
            " (SELECT max(delivered_at) FROM scrada_deliveries d WHERE d.company_id = b.company_id"
            "  AND d.book_kind = b.kind AND d.book_id = b.id AND d.state = 'delivered')"
            "  AS last_delivery,"
            " (SELECT count(*) FROM scrada_deliveries d WHERE d.company_id = b.company_id"
            "  AND d.book_kind = b.kind AND d.book_id = b.id AND d.state = 'delivered') AS delivered,"
            " (SELECT count(*) FROM scrada_deliveries d WHERE d.company_id = b.company_id"
            "  AND d.book_kind = b.kind AND d.book_id = b.id AND d.state = 'quarantined')"
            "  AS quarantined,"
            " (SELECT last_error FROM scrada_log l WHERE l.company_id = b.company_id"
            "  AND l.book_kind = b.kind AND l.book_id = b.id ORDER BY run_id DESC LIMIT 1)"
            "  AS last_error"
            " FROM scrada_books b JOIN scrada_companies c ON c.id = b.company_id"
            " ORDER BY c.name COLLATE NOCASE, b.kind, b.name"
        )
        return [dict(row) for row in cursor.fetchall()]


def select_all_companies(db: Database) -> None:
    """Every company ticked: what "all companies" pulled, kept when switching to "selected"."""
    db.execute("UPDATE scrada_companies SET selected = 1 WHERE selected = 0")


def last_files(store: Store, company_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """The company's last delivered files, newest first: when, which book, where."""
    with store.read() as db:
        cursor = db.execute(
            "SELECT d.id, d.book_kind, d.path, d.document_date, d.delivered_at, d.size,"
            " coalesce(b.name, d.book_id) AS book_name FROM scrada_deliveries d"
            " LEFT JOIN scrada_books b ON b.company_id = d.company_id AND b.kind = d.book_kind"
            "  AND b.id = d.book_id"
            " WHERE d.company_id = ? AND d.state = 'delivered' ORDER BY d.delivered_at DESC, d.id DESC"
            " LIMIT ?",
            [company_id, limit],
        )
        return [dict(row) for row in cursor.fetchall()]


def delivered_file(store: Store, delivery_id: int) -> dict[str, Any] | None:
    """One delivery's record (its path is relative to the root folder)."""
    with store.read() as db:
        row = db.execute(
            "SELECT id, company_id, book_kind, path, state FROM scrada_deliveries WHERE id = ?",
            [delivery_id],
        ).fetchone()
    return None if row is None else dict(row)
