"""Filing a webhook's document under the company the document names (identify.py).

A webhook configured on the partner company carries the partner's id in `x-scrada-company-id` for
every client, so the header never decides: the document's own party is matched against the known
companies (company number, cash-book account), and a company not seen before is adopted under its
own number and name (selected or not by the new-companies setting). A document that names no
company is quarantined with the reason.

The header only helps when the document cannot name its company at all (a purchase invoice sent as
a PDF, a document too broken to read): it is used if it is the Scrada id of a company Relais
already knows and has never been seen in front of another company's document (that is the
partner's id). An id Relais does not know never creates or chooses a company.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp import clock, history
from webapp.i18n import N_
from webapp.scrada import alerts, formats, identify, records
from webapp.scrada import config as scrada_config
from webapp.scrada.batch import deliver
from webapp.scrada.delivery import Incoming, Outcome, quarantine
from webapp.scrada.sources import from_webhook
from webapp.services import Services
from webapp.store import Store

log = logging.getLogger(__name__)

JOB_NAME = "scrada_webhook"
BOOK_NAMES = {
    "daily-receipts": "Recettes",
    "cash-book": "Caisse",
    "peppol-inbound": "Peppol",
    identify.PURCHASE_BOOK: "Achats",
}
# Where a document of no known company is recorded: no such company row exists, and none is made.
UNIDENTIFIED = records.Company("unidentified", "", "", False)
_ADOPTED_PREFIX = "doc-"  # ids Relais gives adopted companies (identify.py): never Scrada's


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Event:
    id: str
    topic: str
    header_company: str  # x-scrada-company-id as sent ('' when absent)


@dataclass(frozen=True)
class Owner:
    """The company a document is filed under (None: none known), and why it is refused, if it is."""

    company: records.Company | None
    problem: formats.InvalidDocument | None = None


def file_document(services: Services, event: Event, kind: str, body: bytes) -> Answer:
    """Deliver (or quarantine) the document, remember the event, and only then answer 200."""
    config = scrada_config.load(services.store)
    root = config.root_in(services.data_dir)
    if root is None:
        return Answer(503, {"error": "root folder not configured"})
    owner = find_owner(services.store, kind, body, event.header_company, config.new_companies)
    company = owner.company or UNIDENTIFIED
    if owner.problem is None and config.scope == "selected" and not company.selected:
        remember(services.store, event, company.id)
        return Answer(200, {"status": "company not selected", "company": company.id})
    book = _book(services.store, company.id, kind) if owner.company else _unfiled_book(kind)
    incoming = from_webhook(company, kind, book, body)
    outcome = _run(services, root, config.template, incoming, owner.problem)
    if outcome.state == "delivered" and kind == "daily-receipts":
        _clear_alerts(services.store, incoming.key)
    remember(services.store, event, owner.company.id if owner.company else None, outcome.path)
    return Answer(200, {"status": outcome.state, "path": outcome.path, "company": company.id})


def find_owner(store: Store, kind: str, body: bytes, header: str, select_new: bool) -> Owner:
    """The company the document names, adopted when new; see the module doc for the header."""
    try:
        party = identify.document_party(kind, body)
    except identify.NoCompany as problem:
        trusted = trusted_header(store, header)
        if trusted is not None and kind == identify.PURCHASE_BOOK and is_pdf(body):
            return Owner(trusted)
        return Owner(trusted, problem)
    except formats.InvalidDocument as problem:
        return Owner(trusted_header(store, header), problem)
    try:
        with store.write() as db:
            company_id, created = identify.adopt_company(
                db, party, source="webhook", selected=select_new
            )
    except identify.NoCompany as problem:
        return Owner(trusted_header(store, header), problem)
    if created:
        log.info("scrada webhook: new company %s from its document", company_id)
    return Owner(_company(store, company_id))


def trusted_header(store: Store, header: str) -> records.Company | None:
    """The header's company when it may stand for the document's (see the module doc)."""
    if not header or header.startswith(_ADOPTED_PREFIX):
        return None
    with store.read() as db:
        known = db.execute("SELECT 1 FROM scrada_companies WHERE id = ?", [header]).fetchone()
        partner = db.execute(
            "SELECT 1 FROM scrada_webhook_events WHERE company_id = ? AND filed_under IS NOT NULL"
            " AND filed_under != company_id LIMIT 1",
            [header],
        ).fetchone()
    return _company(store, header) if known is not None and partner is None else None


def is_pdf(body: bytes) -> bool:
    return body.lstrip()[:5] == b"%PDF-"


def _run(
    services: Services,
    root: Path,
    template: str,
    incoming: Incoming,
    problem: formats.InvalidDocument | None,
) -> Outcome:
    """One history run per document: delivered, or quarantined with the reason."""
    run_id = history.start_run(services.store, JOB_NAME, "webhook")
    try:
        if problem is None:
            outcome = deliver(services.store, root, template, incoming, run_id)
        else:
            outcome = _quarantine_once(services.store, root, incoming, run_id, problem)
    except Exception as exc:
        history.finish_run(
            services.store, run_id, "failed", N_("The process failed: {error}"), {"error": str(exc)}
        )
        raise
    history.finish_run(services.store, run_id, "warning" if outcome.problem else "success")
    return outcome


def _quarantine_once(
    store: Store, root: Path, incoming: Incoming, run_id: int, problem: formats.InvalidDocument
) -> Outcome:
    """The same refused document sent again (a new event id) is not quarantined twice."""
    with store.read() as db:
        known = records.delivery(db, incoming.key)
    if known is not None:
        return Outcome("skipped", known["path"], problem)
    return quarantine(store, root, incoming, run_id, problem)


def _company(store: Store, company_id: str) -> records.Company:
    return next(item for item in records.companies(store) if item.id == company_id)


def _book(store: Store, company_id: str, kind: str) -> tuple[str, str]:
    """The company's only book of that kind if it has one; else a book for the webhooks."""
    known = [book for book in records.books(store, company_id) if book.kind == kind]
    if len(known) == 1:
        return known[0].id, known[0].name
    name = BOOK_NAMES[kind]
    with store.write() as db:
        records.upsert_book(db, company_id, kind, records.WEBHOOK_BOOK, name, True, True)
    return records.WEBHOOK_BOOK, name


def _unfiled_book(kind: str) -> tuple[str, str]:
    return records.WEBHOOK_BOOK, BOOK_NAMES[kind]


def _clear_alerts(store: Store, key: records.DeliveryKey) -> None:
    with store.write() as db:
        row = records.delivery(db, key)
        if row is not None and row["document_date"]:
            alerts.clear_for_receipt(db, key.company_id, key.book_id, row["document_date"])


def remember(store: Store, event: Event, filed_under: str | None, path: str | None = None) -> None:
    """The event is handled: a retry of it is answered "already processed"."""
    with store.write() as db:
        db.execute(
            "INSERT OR IGNORE INTO scrada_webhook_events (event_id, topic, company_id,"
            " delivery_id, received_at, filed_under) VALUES (?, ?, ?, ?, ?, ?)",
            [event.id, event.topic, event.header_company, path, clock.now_iso(), filed_under],
        )
