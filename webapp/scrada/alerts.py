"""Scrada's alerts about a client company, shown on the dashboard until they no longer hold.

`journal/linesMissing` says a shop's cash register has sent no daily-receipt lines since a date:
no daily receipt will be generated for the days after it, and the accountant must call the shop.
The alert stays open until a daily receipt of that company (that journal, or the webhook's book,
which has no journal id) dated after that day is delivered, by any source: `open_alerts` checks
the deliveries itself, so a document fetched by the pull clears it as well as a webhook's.

Interface (UI, dashboard):
    open_alerts(store) -> list[Alert]            oldest first; Alert.message is translated
    parse_lines_missing(body) -> LinesMissing    raises BadNotice (a msgid) on a body it cannot read
    raise_lines_missing(db, notice) -> int        the open alert's id (one per company and journal)
    clear_for_receipt(db, company_id, book_id, document_date) -> int   alerts closed
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from webapp import formatting
from webapp.clock import now_iso
from webapp.i18n import N_, UserError, gettext
from webapp.scrada import records
from webapp.store import Store

LINES_MISSING = "lines-missing"
MAX_NOTICE_BYTES = 4096  # a notice is three short fields: anything bigger is not read at all
_ID = re.compile(r"[0-9A-Za-z-]{1,64}")  # Scrada ids (uuids), as config.py accepts them
# Deliveries of the alert's company, by its id or by its company number (a document filed under a
# company adopted from the document, "doc-<number>", still belongs to the shop Scrada names).
_SAME_COMPANY = (
    "(d.company_id = a.company_id OR d.company_id IN (SELECT o.id FROM scrada_companies o"
    " WHERE o.company_number != '' AND o.company_number = c.company_number))"
)


class BadNotice(UserError):
    """A linesMissing body that does not have the (assumed) shape."""


@dataclass(frozen=True)
class LinesMissing:
    company_id: str
    journal_id: str
    since: date


@dataclass(frozen=True)
class Alert:
    id: int
    kind: str
    company_id: str
    company_name: str  # the known name, else Scrada's id
    journal_id: str
    journal_name: str  # '' when the journal is not known
    since: date
    raised_at: str

    @property
    def since_text(self) -> str:
        return formatting.day(self.since)

    @property
    def message(self) -> str:
        shop = (
            f"{self.company_name} ({self.journal_name})" if self.journal_name else self.company_name
        )
        return gettext(
            N_("Shop {shop} has not sent its daily-receipt lines since {since}."),
            shop=shop,
            since=self.since_text,
        )


def parse_lines_missing(body: bytes) -> LinesMissing:
    """The notice's fields; BadNotice when the body is not the JSON object Relais expects."""
    if len(body) > MAX_NOTICE_BYTES:
        raise BadNotice(N_("The notice is larger than {limit} bytes."), limit=MAX_NOTICE_BYTES)
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        raise BadNotice(N_("The notice is not JSON.")) from None
    if not isinstance(data, dict):
        raise BadNotice(N_("The notice is not a JSON object."))
    company = data.get("companyID")
    journal = data.get("journalID") or ""
    if not isinstance(company, str) or not _ID.fullmatch(company):
        raise BadNotice(N_("The notice names no valid companyID."))
    if not isinstance(journal, str) or (journal and not _ID.fullmatch(journal)):
        raise BadNotice(N_("The notice's journalID is not valid."))
    return LinesMissing(company, journal, _day(data.get("lastLineDate")))


def _day(value: object) -> date:
    """The date of "2026-11-29" or of a Scrada date-time "2026-11-29T00:00:00"."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+Z?)?", value):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise BadNotice(N_("The notice's lastLineDate is not a date."))


def raise_lines_missing(db: Database, notice: LinesMissing) -> int:
    """Open the alert, or move the date of the one already open for that company and journal."""
    db.execute(
        "INSERT INTO scrada_alerts (kind, company_id, journal_id, since, raised_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, company_id, journal_id)"
        " WHERE cleared_at IS NULL DO UPDATE SET since = excluded.since,"
        " raised_at = excluded.raised_at",
        [LINES_MISSING, notice.company_id, notice.journal_id, notice.since.isoformat(), now_iso()],
    )
    row = db.execute(
        "SELECT id FROM scrada_alerts WHERE kind = ? AND company_id = ? AND journal_id = ?"
        " AND cleared_at IS NULL",
        [LINES_MISSING, notice.company_id, notice.journal_id],
    ).fetchone()
    return int(row[0])


def clear_for_receipt(db: Database, company_id: str, book_id: str, document_date: str) -> int:
    """Close the alerts a daily receipt of `company_id` dated `document_date` answers."""
    cursor = db.execute(
        "UPDATE scrada_alerts SET cleared_at = ? WHERE cleared_at IS NULL AND since < ?"
        " AND (company_id = ? OR company_id IN (SELECT id FROM scrada_companies"
        "  WHERE company_number != '' AND company_number ="
        "  (SELECT company_number FROM scrada_companies WHERE id = ?)))"
        " AND (journal_id IN ('', ?) OR ? = ?)",
        [now_iso(), document_date, company_id, company_id, book_id, book_id, records.WEBHOOK_BOOK],
    )
    return int(cursor.rowcount)


def open_alerts(store: Store) -> list[Alert]:
    """The alerts still true: open, and no newer daily receipt of the company delivered since."""
    with store.read() as db:
        rows = db.execute(
            "SELECT a.id, a.kind, a.company_id, coalesce(nullif(c.name, ''), a.company_id),"
            " a.journal_id, coalesce(b.name, ''), a.since, a.raised_at FROM scrada_alerts a"
            " LEFT JOIN scrada_companies c ON c.id = a.company_id"
            " LEFT JOIN scrada_books b ON b.company_id = a.company_id"
            "  AND b.kind = 'daily-receipts' AND b.id = a.journal_id"
            " WHERE a.cleared_at IS NULL AND NOT EXISTS (SELECT 1 FROM scrada_deliveries d"
            "  WHERE d.book_kind = 'daily-receipts' AND d.state = 'delivered'"
            f"  AND d.document_date > a.since AND {_SAME_COMPANY}"
            "  AND (a.journal_id IN ('', d.book_id) OR d.book_id = ?))"
            " ORDER BY a.since, a.id",
            [records.WEBHOOK_BOOK],
        ).fetchall()
    return [
        Alert(row[0], row[1], row[2], row[3], row[4], row[5], date.fromisoformat(row[6]), row[7])
        for row in rows
    ]
