"""What the pull knows of each source of each book: offered, not offered by this account, or failing.

The partner feed is assumed (docs/scrada.md): an account may simply not have it. Its absence is a
state, not an error: it is remembered here (migration 0013) and the feed is asked again only once
a day, so a pull of such an account makes no useless call and the Scrada page can say which route
delivers each book.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from webapp import clock
from webapp.clock import now_iso
from webapp.i18n import stored_params

RETRY_NOT_OFFERED = timedelta(hours=24)
OFFERED = "offered"
NOT_OFFERED = "not-offered"
ERROR = "error"


@dataclass(frozen=True)
class SourceKey:
    company_id: str  # '' for the account itself
    book_kind: str  # '' for the account or a whole company
    book_id: str
    source: str  # 'partner', 'api', 'webhook', 'mailbox', 'folder'


# The partner's list of its companies belongs to the account, not to a company.
PARTNER_LIST = SourceKey("", "", "", "partner")


@dataclass(frozen=True)
class SourceState:
    key: SourceKey
    state: str
    checked_at: str
    message: str | None = None
    params: dict[str, Any] | None = None


def is_due(db: Database, key: SourceKey, now: datetime | None = None) -> bool:
    """False while the source is known not to be offered and was asked less than a day ago."""
    row = db.execute(
        "SELECT state, checked_at FROM scrada_sources WHERE company_id = ? AND book_kind = ?"
        " AND book_id = ? AND source = ?",
        [key.company_id, key.book_kind, key.book_id, key.source],
    ).fetchone()
    if row is None or row[0] != NOT_OFFERED:
        return True
    checked = clock.parse_iso(str(row[1]))
    return (now or clock.utc_now()) - checked >= RETRY_NOT_OFFERED


def mark(
    db: Database,
    key: SourceKey,
    state: str,
    message: str | None = None,
    params: dict[str, Any] | None = None,
) -> str | None:
    """Record what the source answered; returns the state it had before (None: never asked)."""
    values = [key.company_id, key.book_kind, key.book_id, key.source]
    row = db.execute(
        "SELECT state FROM scrada_sources WHERE company_id = ? AND book_kind = ? AND book_id = ?"
        " AND source = ?",
        values,
    ).fetchone()
    encoded = stored_params(params)
    db.execute(
        "INSERT INTO scrada_sources (company_id, book_kind, book_id, source, state, checked_at,"
        " message, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (company_id, book_kind,"
        " book_id, source) DO UPDATE SET state = excluded.state, checked_at = excluded.checked_at,"
        " message = excluded.message, params = excluded.params",
        [*values, state, now_iso(), message, encoded],
    )
    return None if row is None else str(row[0])


def all_states(db: Database) -> dict[SourceKey, SourceState]:
    rows = db.execute(
        "SELECT company_id, book_kind, book_id, source, state, checked_at, message, params"
        " FROM scrada_sources"
    ).fetchall()
    found = {}
    for row in rows:
        key = SourceKey(row[0], row[1], row[2], row[3])
        params = json.loads(row[7]) if row[7] else None
        found[key] = SourceState(key, row[4], row[5], row[6], params)
    return found
