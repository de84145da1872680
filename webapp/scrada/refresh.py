"""Companies and books as Scrada's documented API and the (assumed) partner list give them.

The companies: the configured ids (`GET /company/{id}`, once a day) and the partner's list, which
an account may not offer (then remembered as such and asked again a day later). The books of a
company: `GET /journal` and `GET /cashBook`, at most once a day; the cash books' accounts are kept
for filing statements that name no company number. `compare_balance`: a cash book's
`currentBalance` against the last statement delivered.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database

from webapp import clock
from webapp.scrada import continuity, records, source_state
from webapp.scrada.client import NotOffered, ScradaClient
from webapp.scrada.identify import set_book_iban
from webapp.store import Store

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(hours=24)
PEPPOL_NAME = "Peppol"
# Companies made from a document (identify.adopt_company) have no Scrada id to ask about.
ADOPTED_PREFIX = "doc-"


def in_scrada(company: records.Company) -> bool:
    return not company.id.startswith(ADOPTED_PREFIX)


def older_than(stamp: str | None, age: timedelta) -> bool:
    if not stamp:
        return True
    moment = clock.parse_iso(stamp)
    return clock.utc_now() - moment > age


def partner_companies(client: ScradaClient, store: Store, select_new: bool) -> str | None:
    """Add the partner's companies; returns the state of the list before ('offered', …) when it
    turned out not to be offered just now (for one history line), else None."""
    with store.read() as db:
        due = source_state.is_due(db, source_state.PARTNER_LIST)
    if not due:
        return None
    try:
        partner = client.partner_companies()
    except NotOffered as exc:
        with store.write() as db:
            before = source_state.mark(
                db, source_state.PARTNER_LIST, source_state.NOT_OFFERED, exc.message, exc.params
            )
        return before or "never"
    with store.write() as db:
        source_state.mark(db, source_state.PARTNER_LIST, source_state.OFFERED)
        for item in partner:
            _upsert_company(db, str(item.get("id", "")), "partner", select_new, item)
    return None


def configured_company(client: ScradaClient, store: Store, company_id: str) -> None:
    """`GET /company/{id}` of a configured id (NotFound propagates: the caller says so)."""
    item = client.company(company_id)
    with store.write() as db:
        _upsert_company(db, company_id, "configured", True, item)


def _upsert_company(
    db: Database, company_id: str, source: str, selected: bool, item: dict[str, Any]
) -> None:
    records.upsert_company(
        db,
        company_id,
        source=source,
        selected=selected,
        company_number=str(item.get("taxNumber") or ""),
        name=str(item.get("name") or ""),
        vat_number=str(item.get("vatNumber") or ""),
    )


def books_due(store: Store, company: records.Company) -> bool:
    return in_scrada(company) and (
        older_than(company.refreshed_at, REFRESH_AFTER) or not records.books(store, company.id)
    )


def refresh_books(client: ScradaClient, store: Store, company: records.Company) -> None:
    """Its journals and cash books; only this stamps `refreshed_at`, so a company first seen
    by a webhook (whose book only names the webhooks' destination) or named again by the
    partner list still gets its real books read."""
    journals = client.journals(company.id)
    cash_books = client.cash_books(company.id)
    with store.write() as db:
        for item in journals:
            _upsert(db, company.id, "daily-receipts", item, bool(item.get("active", True)))
        for item in cash_books:
            _upsert(db, company.id, "cash-book", item, True)
            if item.get("iban"):
                set_book_iban(db, company.id, str(item["id"]), str(item["iban"]))
        # Opt-in: confirming takes a document out of Scrada's inbox for every other program.
        records.upsert_book(
            db, company.id, "peppol-inbound", records.PEPPOL_BOOK, PEPPOL_NAME, True, False
        )
        db.execute(
            "UPDATE scrada_companies SET refreshed_at = ? WHERE id = ?",
            [clock.now_iso(), company.id],
        )


def _upsert(db: Database, company_id: str, kind: str, item: dict[str, Any], active: bool) -> None:
    name = str(item.get("name") or item["id"])
    records.upsert_book(db, company_id, kind, str(item["id"]), name, active, True)


def compare_balance(store: Store, company_id: str, item: dict[str, Any], iban: str = "") -> None:
    """Scrada's `currentBalance` of a cash book against the last statement delivered for its
    account (continuity keeps a difference as an open problem until they agree again). Only
    after statements were delivered: before, Scrada's balance is ahead of them by design."""
    iban, balance = item.get("iban") or iban, item.get("currentBalance")
    if not iban or balance is None or isinstance(balance, bool):
        return
    try:
        amount = Decimal(str(balance))  # the JSON number as written, never through a float sum
    except InvalidOperation:
        log.warning(
            "scrada cash book %s: currentBalance %r is not a number", item.get("id"), balance
        )
        return
    continuity.compare_current_balance(store, str(iban), amount, company_id)
