"""The Scrada simulator's webhooks (webapp/simulators/scrada.py): the events Scrada sends, and
their delivery as Scrada makes it (signed, retried with backoff)."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from webapp.simulators import scrada_docs as docs
from webapp.simulators.scrada_books import SimulatedCompanies
from webapp.simulators.scrada_data import CODA, XML, CashBook, Company, WebhookEvent, iso


class WebhookEvents(SimulatedCompanies):
    """The simulator's webhook side: the events of its companies' documents, and their delivery."""

    def __init__(self, *, seed: int = 1, clock: Callable[[], float] = time.time) -> None:
        super().__init__(seed=seed, clock=clock)
        # The partner company a partner-level webhook names in x-scrada-company-id.
        self.partner_id = str(
            uuid.UUID(int=random.Random(f"partner:{seed}").getrandbits(128), version=4)
        )

    def _header_company(self, company: Company, partner_level: bool) -> str:
        # A webhook configured on the partner company covers every linked company and names the
        # PARTNER in x-scrada-company-id (public doc v1.24): the document says whose it is.
        return self.partner_id if partner_level else company.id

    def document_event(
        self, company_id: str, book_id: str, document_id: str, *, partner_level: bool = False
    ) -> WebhookEvent:
        """`journal/newInvoiceUbl` or `cashBook/newStatementCoda` for a generated document."""
        with self._lock:
            company = self._companies[company_id]
            book = company.book(book_id)
        topic = (
            "cashBook/newStatementCoda" if isinstance(book, CashBook) else "journal/newInvoiceUbl"
        )
        body = self.document_bytes(company_id, book_id, document_id)
        return WebhookEvent(topic, self._header_company(company, partner_level), body)

    def purchase_invoice_event(
        self, company_id: str, *, pdf: bool = False, partner_level: bool = False
    ) -> WebhookEvent:
        """`purchaseInvoice/new` (full subscription): a supplier's invoice, as UBL or as PDF."""
        with self._lock:
            company = self._companies[company_id]
            seed = self._rng.getrandbits(64)
            supplier = docs.supplier_party(self._rng)
        if pdf:
            body = docs.minimal_pdf(f"Invoice for {company.name}")
        else:
            body = docs.peppol_invoice(seed, supplier, company.party, self._now().date())
        return WebhookEvent(
            "purchaseInvoice/new", self._header_company(company, partner_level), body
        )

    def lines_missing_event(
        self, company_id: str, journal_id: str, since: date, *, partner_level: bool = False
    ) -> WebhookEvent:
        """`journal/linesMissing`: the shop has sent no daily-receipt lines since `since`.

        The body's shape is assumed (the public doc names the topic only): JSON with the ids and the
        date of the last lines received."""
        with self._lock:
            company = self._companies[company_id]
        body = json.dumps(
            {"companyID": company.id, "journalID": journal_id, "lastLineDate": f"{since}T00:00:00"}
        ).encode()
        return WebhookEvent(
            "journal/linesMissing", self._header_company(company, partner_level), body
        )

    def send_event(self, url: str, event: WebhookEvent, *, secret: str, **options: Any) -> int:
        return self.send_webhook(
            url,
            topic=event.topic,
            company_id=event.company_id,
            body=event.body,
            secret=secret,
            **options,
        )

    def send_webhook(
        self,
        url: str,
        *,
        topic: str,
        company_id: str,
        body: bytes,
        secret: str,
        event_id: str | None = None,
        attempts: int = 10,
        backoff: float = 1.0,
    ) -> int:
        """POST an event as Scrada does; retry (backoff × 1, 2, 4 … s) until a 2xx or `attempts`
        are spent. Returns the last HTTP status, 0 if no attempt got an answer."""
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "content-type": _sniff(body),
            "x-scrada-topic": topic,
            "x-scrada-hmac-sha256": signature,
            "x-scrada-company-id": company_id,
            "x-scrada-event-id": event_id or str(uuid.uuid4()),
            "x-scrada-triggered-at": iso(self._now()),
        }
        status = 0
        with httpx.Client(timeout=10) as client:
            for attempt in range(1, attempts + 1):
                try:
                    answer = client.post(
                        url, content=body, headers={**headers, "x-scrada-attempt": str(attempt)}
                    )
                    status = answer.status_code
                except httpx.HTTPError:
                    pass
                else:
                    if 200 <= status < 300:
                        return status
                if attempt < attempts:
                    time.sleep(backoff * 2 ** (attempt - 1))
        return status


def _sniff(body: bytes) -> str:
    start = body.lstrip()[:1]
    if start == b"<":
        return XML
    if start in (b"{", b"["):
        return "application/json"
    return CODA
