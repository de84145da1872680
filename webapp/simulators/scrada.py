"""A Scrada simulator: a real HTTP server on 127.0.0.1 speaking the Scrada API v1 (documented calls
plus the assumed partner feed, see docs/scrada-simulator.md), for `relais serve --demo`, the tests
and the benchmarks.

Built on the standard library's ThreadingHTTPServer: no framework, starts in milliseconds, runs in a
daemon thread inside a test or as its own process (`python -m webapp.simulators.scrada`).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from functools import partial
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import httpx

from webapp.simulators import scrada_docs as docs
from webapp.simulators.http_server import (
    ServerThread,
    SimulatorServer,
    TrackedHandler,
    status_phrase,
    stop_on_signal,
)

REFILL_SECONDS = 10
PAGE_SIZE = 100
UNLIMITED = 1_000_000  # what the rate-limit headers say when the simulator has no limit
JOURNAL_NAMES = ("Recettes boutique", "Recettes marché", "Recettes webshop")
CASH_BOOK_NAMES = ("Caisse", "Caisse marché", "Caisse réserve")
XML = "application/xml"
CODA = "text/plain; charset=latin-1"
JSON = "application/json; charset=utf-8"
PEPPOL_INVOICE_TYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017"
    "#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
# Documented-only mode: the unconfirmed list shows this many at a time; confirming one lets the next
# one be listed (Scrada's doc: confirming "allows you to retrieve the following new" documents).
PEPPOL_LIST_SIZE = 25
MESSAGES = {
    401: "Invalid API key or password",
    404: "Not found",
    405: "Method not allowed",
    429: "Too many requests",
}


# --- the simulated data ----------------------------------------------------------------------


@dataclass
class Document:
    """A generated daily-receipts invoice (journal) or CODA statement (cash book)."""

    id: str
    sequence: int
    day: date
    file_name: str
    created_on: str
    seed: int
    data: bytes | None = (
        None  # given bytes (possibly malformed, for tests) instead of generated ones
    )
    previous_day: date | None = None  # CODA: the date of the old balance
    old_balance: int = 0  # CODA, cents
    movements: tuple[docs.Movement, ...] = ()

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sequence": self.sequence,
            "date": self.day.isoformat(),
            "fileName": self.file_name,
            "createdOn": self.created_on,
        }


@dataclass
class Book:
    id: str
    name: str
    code: str
    documents: list[Document] = field(default_factory=list)
    index: dict[str, Document] = field(default_factory=dict)
    period_type: int = 1  # 1 day, 2 week, 3 month: the simulator generates one document a day

    @property
    def last_line_date(self) -> str | None:
        return self.documents[-1].day.isoformat() if self.documents else None

    def documented_summary(self) -> dict[str, Any]:
        """The documented shape: dates are date-times ("2026-11-29T00:00:00")."""
        summary = self.summary()
        for key in ("lastLineDate", "invoicedTill"):
            if summary.get(key):
                summary[key] = f"{summary[key]}T00:00:00"
        return summary

    def summary(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass
class Journal(Book):
    active: bool = True

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "active": self.active,
            "lastLineDate": self.last_line_date,
            "invoicedTill": self.last_line_date,
            "invoiceGenerationPeriodType": self.period_type,
        }


@dataclass
class CashBook(Book):
    iban: str = ""
    balance: int = 0  # cents, after the last generated statement

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "iban": self.iban,
            "currentBalance": self.balance / 100,
            "lastLineDate": self.last_line_date,
            "codaGenerationPeriodType": self.period_type,
        }


@dataclass
class PeppolDocument:
    id: str
    received_on: str
    file_name: str
    seed: int
    supplier: docs.Party
    day: date
    data: bytes | None = None

    internal_number: int = 0
    receiver: str = ""  # the company's Peppol id, "0208:<company number>"

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "receivedOn": self.received_on, "fileName": self.file_name}

    def documented_summary(self) -> dict[str, Any]:
        """The fields of the documented list (Scrada's Postman collection, "Get unconfirmed
        documents"); the simulator fills the ones a client may read."""
        return {
            "id": self.id,
            "internalNumber": self.internal_number,
            "peppolSenderScheme": "iso6523-actorid-upis",
            "peppolSenderID": f"0208:{self.supplier.number}",
            "peppolReceiverScheme": "iso6523-actorid-upis",
            "peppolReceiverID": self.receiver,
            "peppolC1CountryCode": "BE",
            "peppolC2Timestamp": self.received_on,
            "peppolC3Timestamp": self.received_on,
            "peppolDocumentTypeScheme": "busdox-docid-qns",
            "peppolDocumentTypeValue": PEPPOL_INVOICE_TYPE,
        }


@dataclass
class Company:
    id: str
    code: str
    party: docs.Party
    partner: bool
    journals: list[Journal] = field(default_factory=list)
    cash_books: list[CashBook] = field(default_factory=list)
    peppol: dict[str, PeppolDocument] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.party.name

    @property
    def tax_number(self) -> str:
        return self.party.number

    @property
    def vat_number(self) -> str:
        return self.party.vat

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "taxNumber": self.tax_number,
            "vatNumber": self.vat_number,
        }

    def documented_summary(self) -> dict[str, Any]:
        """`GET /company/{id}` as the public doc shows it: the company's full fields. Which of them
        Scrada fills for a shop is assumed (docs/scrada-simulator.md)."""
        party = self.party
        return {
            **self.summary(),
            "taxNumberType": 1,
            "vatNumberType": 1,
            "address": {
                "street": party.street,
                "streetNumber": "",
                "city": party.city,
                "zipCode": party.postcode,
                "countryCode": "BE",
            },
            "email": party.email,
            "phone": "",
            "isPartner": False,
            "subscriptionType": "full",
        }

    def book(self, book_id: str) -> Journal | CashBook:
        books: list[Journal | CashBook] = [*self.journals, *self.cash_books]
        for book in books:
            if book.id == book_id:
                return book
        raise KeyError(book_id)


@dataclass(frozen=True)
class WebhookEvent:
    topic: str
    company_id: str  # what x-scrada-company-id carries
    body: bytes


@dataclass
class _Rule:
    """An injected failure or delay for the next `count` requests whose path contains `needle`."""

    count: int
    value: float
    needle: str


@dataclass
class _Bucket:
    tokens: int
    next_refill: float


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


class _NotFound(Exception):
    pass


def _error(status: int, message: str | None = None) -> _Response:
    text = message or MESSAGES.get(status) or HTTPStatus(status).phrase
    return _json({"errorCode": status, "defaultFormat": text, "innerErrors": []}, status)


def _json(value: object, status: int = 200) -> _Response:
    return _Response(status, json.dumps(value, separators=(",", ":")).encode())


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the simulator ---------------------------------------------------------------------------


class ScradaSimulator:
    """The state (companies, books, documents), the API's behaviour (auth, rate limit, injected
    failures) and the server. Thread-safe: tests add documents while the server answers."""

    def __init__(
        self,
        *,
        api_key: str = "demo-key",
        password: str = "demo-password",
        rate_limit: int | None = 60,
        clock: Callable[[], float] = time.time,
        seed: int = 1,
        documented_only: bool = False,
    ) -> None:
        # Only the calls of Scrada's public API v1.24: the assumed partner feed answers 404, as
        # it would on the real service (docs/scrada.md).
        self.documented_only = documented_only
        # The partner company a partner-level webhook names in x-scrada-company-id.
        self.partner_id = str(
            uuid.UUID(int=random.Random(f"partner:{seed}").getrandbits(128), version=4)
        )
        self.api_key = api_key
        self.password = password
        self.rate_limit = rate_limit
        self.clock = clock
        self.requests: list[tuple[str, str, int]] = []
        # The command line turns this off: nobody reads it there, and a long benchmark would
        # otherwise grow it without end.
        self.record_requests = True
        self.confirmed: set[str] = set()
        self.url: str | None = None
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._companies: dict[str, Company] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._failures: list[_Rule] = []
        self._delays: list[_Rule] = []
        self._serving = ServerThread("scrada-simulator", _Handler)

    # -- building the data --

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def add_company(
        self,
        name: str,
        *,
        journals: int = 1,
        cash_books: int = 1,
        documents: int = 0,
        peppol: int = 0,
        partner: bool = True,
    ) -> Company:
        """A company with its books; `documents` per book, dated on the days before today."""
        with self._lock:
            rng = self._rng
            company = Company(
                id=self._uuid(),
                code=f"C{len(self._companies) + 1:05d}",
                party=docs.make_party(rng, name),
                partner=partner,
            )
            for number in range(1, journals + 1):
                company.journals.append(
                    Journal(self._uuid(), _nth(JOURNAL_NAMES, number), f"J{number}")
                )
            for number in range(1, cash_books + 1):
                company.cash_books.append(
                    CashBook(
                        self._uuid(),
                        _nth(CASH_BOOK_NAMES, number),
                        f"K{number}",
                        iban=docs.belgian_iban(rng),
                        balance=rng.randint(100_00, 800_00),
                    )
                )
            self._companies[company.id] = company
            today = self._now().date()
            for book in (*company.journals, *company.cash_books):
                for days_ago in range(documents, 0, -1):
                    self.add_document(company.id, book.id, day=today - timedelta(days=days_ago))
            for _ in range(peppol):
                self.add_peppol_document(company.id)
            return company

    def add_document(
        self,
        company_id: str,
        book_id: str,
        *,
        day: date | None = None,
        data: bytes | None = None,
    ) -> str:
        """The next document of a journal (UBL invoice) or cash book (CODA statement); by default
        dated the day after the book's last one, or today. `data` replaces the generated bytes
        (malformed documents for tests); a cash book's balance then stays where it was."""
        with self._lock:
            company = self._companies[company_id]
            book = company.book(book_id)
            now = self._now()
            last = book.documents[-1].day if book.documents else None
            if day is None:
                day = max(now.date(), last + timedelta(days=1)) if last else now.date()
            sequence = len(book.documents) + 1
            # Scrada generates each day's document during the following night.
            generated = datetime(day.year, day.month, day.day, 2, tzinfo=UTC) + timedelta(days=1)
            seed = self._rng.getrandbits(64)
            document = Document(
                id=self._uuid(),
                sequence=sequence,
                day=day,
                file_name="",
                created_on=_iso(min(generated, now)),
                seed=seed,
                data=data,
            )
            if isinstance(book, CashBook):
                document.file_name = f"{book.iban}_{day:%Y%m%d}_{sequence:04d}.cod"
                document.previous_day = last or day - timedelta(days=1)
                document.old_balance = book.balance
                if data is None:
                    movements = docs.cash_movements(
                        random.Random(seed), book.balance, day, company.party
                    )
                    document.movements = tuple(movements)
                    book.balance += sum(move.cents for move in movements)
            else:
                document.file_name = (
                    f"{company.vat_number}_{book.code}_{day:%Y%m%d}_{sequence:04d}.xml"
                )
            book.documents.append(document)
            book.index[document.id] = document
            return document.id

    def add_peppol_document(self, company_id: str, data: bytes | None = None) -> str:
        """A supplier's invoice waiting in the company's Peppol inbox (unconfirmed)."""
        with self._lock:
            company = self._companies[company_id]
            now = self._now()
            document = PeppolDocument(
                id=self._uuid(),
                received_on=_iso(now),
                file_name="",
                seed=self._rng.getrandbits(64),
                supplier=docs.supplier_party(self._rng),
                day=now.date(),
                data=data,
            )
            document.file_name = f"{document.id}.xml"
            document.internal_number = len(company.peppol) + 1
            document.receiver = f"0208:{company.tax_number}"
            company.peppol[document.id] = document
            return document.id

    def companies(self) -> list[Company]:
        with self._lock:
            return list(self._companies.values())

    def document_bytes(self, company_id: str, book_id: str, document_id: str) -> bytes:
        """What GET …/document/{id} or …/statement/{id} serves (for webhook bodies, comparisons)."""
        with self._lock:
            company = self._companies[company_id]
            book = company.book(book_id)
            document = book.index[document_id]
        return _render(company, book, document)

    def peppol_bytes(self, company_id: str, document_id: str) -> bytes:
        with self._lock:
            company = self._companies[company_id]
            document = company.peppol[document_id]
        return _render_peppol(company, document)

    # -- injected trouble --

    def fail_next(self, count: int, status: int = 500, path_contains: str = "") -> None:
        """The next `count` /v1 requests whose path contains `path_contains` answer `status`."""
        with self._lock:
            self._failures.append(_Rule(count, status, path_contains))

    def delay_next(self, count: int, seconds: float, path_contains: str = "") -> None:
        """The next `count` matching /v1 requests wait `seconds` before being answered."""
        with self._lock:
            self._delays.append(_Rule(count, seconds, path_contains))

    def clear_injected(self) -> None:
        """Drop the failures and delays not yet used up."""
        with self._lock:
            self._failures.clear()
            self._delays.clear()

    def _take_rule(self, rules: list[_Rule], path: str) -> float | None:
        with self._lock:
            for rule in rules:
                if rule.needle in path:
                    rule.count -= 1
                    if rule.count <= 0:
                        rules.remove(rule)
                    return rule.value
        return None

    # -- rate limit --

    def _rate(self, key: str, *, take: bool) -> tuple[bool, dict[str, str]]:
        """Token bucket per API key: `rate_limit` tokens, `rate_limit // 6` more every 10 s."""
        now = self.clock()
        limit = self.rate_limit
        if limit is None:
            reset = math.ceil(now) + REFILL_SECONDS
            return True, _limit_headers(UNLIMITED, UNLIMITED, reset)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(limit, now + REFILL_SECONDS)
            if now >= bucket.next_refill:
                periods = int((now - bucket.next_refill) // REFILL_SECONDS) + 1
                bucket.tokens = min(limit, bucket.tokens + periods * max(1, limit // 6))
                bucket.next_refill += periods * REFILL_SECONDS
            allowed = bucket.tokens > 0
            if allowed and take:
                bucket.tokens -= 1
            return allowed, _limit_headers(limit, bucket.tokens, math.ceil(bucket.next_refill))

    # -- answering --

    def _answer(self, method: str, target: str, headers: Message) -> _Response:
        path, _, query = target.partition("?")
        if path != "/v1" and not path.startswith("/v1/"):
            return _error(404)
        delay = self._take_rule(self._delays, target)
        if delay:
            self._serving.stopping.wait(delay)  # stop() cuts the wait short
        key = headers.get("X-API-KEY") or ""
        failure = self._take_rule(self._failures, target)
        if failure is not None:
            # Injected answers consume no token: a client's retries are what is being tested.
            _, limit_headers = self._rate(key, take=False)
            if failure == 429:
                limit_headers["x-ratelimit-remaining"] = "0"
            response = _error(int(failure))
        else:
            allowed, limit_headers = self._rate(key, take=True)
            if not allowed:
                response = _error(429)
            elif not (
                hmac.compare_digest(key.encode(), self.api_key.encode())
                and hmac.compare_digest(
                    (headers.get("X-PASSWORD") or "").encode(), self.password.encode()
                )
            ):
                response = _error(401)
            else:
                try:
                    parts = path.lower().rstrip("/").split("/")[2:]  # a trailing / is the same
                    response = self._route(method, parts, query)
                except _NotFound as exc:
                    response = _error(404, str(exc) or None)
        if response.status == 429:
            response.headers["Retry-After"] = str(
                max(0, int(limit_headers["x-ratelimit-reset"]) - int(self.clock()))
            )
        response.headers.update(limit_headers)
        return response

    def _company(self, company_id: str) -> Company:
        company = self._companies.get(company_id)
        if company is None:
            raise _NotFound("Company not found")
        return company

    def _route(self, method: str, parts: list[str], query: str) -> _Response:
        """`parts`: the lower-cased path after /v1 (Scrada's routes ignore case; ids are lower)."""
        with self._lock:
            if self.documented_only and _assumed_route(parts):
                raise _NotFound()
            if parts == ["partner", "company"]:
                if method != "GET":
                    return _error(405)
                listed = [c.summary() for c in self._companies.values() if c.partner]
                return _json({"results": listed, "__count": len(listed)})
            if len(parts) < 2 or parts[0] != "company":
                raise _NotFound()
            company = self._company(parts[1])
            rest = parts[2:]
            wanted = "PUT" if rest[-1:] == ["confirm"] else "GET"
            if method != wanted:
                return _error(405)
            match rest:
                case []:
                    if self.documented_only:
                        return _json(company.documented_summary())
                    return _json(company.summary())
                case ["journal"] | ["cashbook"]:
                    books = company.journals if rest[0] == "journal" else company.cash_books
                    return _json([self._book_summary(book) for book in books])
                case ["cashbook", book_id]:
                    return _json(self._book_summary(_book(company, "cashbook", book_id)))
                case ["journal", book_id, "document"] | ["cashbook", book_id, "statement"]:
                    return _page(_book(company, rest[0], book_id), query)
                case ["journal", book_id, "document", document_id] | [
                    "cashbook",
                    book_id,
                    "statement",
                    document_id,
                ]:
                    book = _book(company, rest[0], book_id)
                    document = book.index.get(document_id)
                    if document is None:
                        raise _NotFound("Document not found")
                    produce = partial(_render, company, book, document)
                    content_type = XML if isinstance(book, Journal) else CODA
                case ["peppol", "inbound", "document", "unconfirmed"]:
                    return _json(self._unconfirmed(company))
                case ["peppol", "inbound", "document", document_id, *action] if action in (
                    [],
                    ["confirm"],
                ):
                    peppol = company.peppol.get(document_id)
                    if peppol is None:
                        raise _NotFound("Document not found")
                    if action:
                        self.confirmed.add(peppol.id)
                        return _Response(200, b"")
                    produce = partial(_render_peppol, company, peppol)
                    content_type = XML
                case _:
                    raise _NotFound()
        # Rendering happens outside the lock: a document never changes once made.
        return _Response(200, produce(), content_type)

    def _book_summary(self, book: Journal | CashBook) -> dict[str, Any]:
        return book.documented_summary() if self.documented_only else book.summary()

    def _unconfirmed(self, company: Company) -> dict[str, Any]:
        waiting = [d for d in company.peppol.values() if d.id not in self.confirmed]
        if not self.documented_only:
            return {"results": [d.summary() for d in waiting], "__count": len(waiting)}
        shown = waiting[:PEPPOL_LIST_SIZE]
        return {"results": [d.documented_summary() for d in shown], "__count": len(shown)}

    def _record(self, method: str, target: str, status: int) -> None:
        if not self.record_requests:
            return
        with self._lock:
            self.requests.append((method, target, status))

    # -- the server --

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL (the API is under /v1)."""
        port = self._serving.start(self, host, port)
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        """Stop listening and cut kept-alive connections: a client's pooled connection must not
        keep talking to a simulator that a test has stopped."""
        self._serving.stop()

    # -- webhooks --

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
            "x-scrada-triggered-at": _iso(self._now()),
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


# --- helpers ---------------------------------------------------------------------------------


def _nth(names: tuple[str, ...], number: int) -> str:
    return names[number - 1] if number <= len(names) else f"{names[0]} {number}"


def _assumed_route(parts: list[str]) -> bool:
    """The partner feed's calls (assumed, not in the public API): listing a partner's companies and
    listing or downloading generated daily-receipt invoices and CODA statements."""
    if parts[:2] == ["partner", "company"]:
        return True
    book = parts[2:]
    return len(book) >= 3 and (
        (book[0] == "journal" and book[2] == "document")
        or (book[0] == "cashbook" and book[2] == "statement")
    )


def _limit_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(reset),
    }


def _book(company: Company, kind: str, book_id: str) -> Journal | CashBook:
    books: list[Journal] | list[CashBook] = (
        company.journals if kind == "journal" else company.cash_books
    )
    for book in books:
        if book.id == book_id:
            return book
    raise _NotFound("Journal not found" if kind == "journal" else "Cash book not found")


def _page(book: Book, query: str) -> _Response:
    """Documents with sequence > after, in order, at most PAGE_SIZE; `__count` counts them all
    (OData's inline count), `hasMore` says another call is needed."""
    values = parse_qs(query).get("after", ["0"])
    try:
        after = max(0, int(values[-1]))
    except ValueError:
        return _error(400, "after must be an integer")
    # Sequences are 1, 2, 3 … in list order, so the documents after `after` start at that index.
    remaining = book.documents[after:]
    page = [document.summary() for document in remaining[:PAGE_SIZE]]
    return _json(
        {"results": page, "__count": len(remaining), "hasMore": len(remaining) > PAGE_SIZE}
    )


def _render(company: Company, book: Journal | CashBook, document: Document) -> bytes:
    if document.data is not None:
        return document.data
    if isinstance(book, CashBook):
        return docs.coda_statement(
            day=document.day,
            previous_day=document.previous_day or document.day,
            sequence=document.sequence,
            holder=company.party,
            iban=book.iban,
            account_name=book.name,
            old_balance=document.old_balance,
            movements=document.movements,
        )
    number = f"{book.code}-{document.day:%Y}-{document.sequence:05d}"
    return docs.daily_receipts_invoice(document.seed, company.party, document.day, number)


def _render_peppol(company: Company, document: PeppolDocument) -> bytes:
    if document.data is not None:
        return document.data
    return docs.peppol_invoice(document.seed, document.supplier, company.party, document.day)


def _sniff(body: bytes) -> str:
    start = body.lstrip()[:1]
    if start == b"<":
        return XML
    if start in (b"{", b"["):
        return "application/json"
    return CODA


# --- HTTP ------------------------------------------------------------------------------------


class _Handler(TrackedHandler):
    server: SimulatorServer[ScradaSimulator]  # GET, PUT, POST, DELETE: HEAD and PATCH answer 501

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        simulator = self.server.simulator
        response = simulator._answer(method, self.path, self.headers)
        # Recorded before answering: a test reads `requests` as soon as it has its answer.
        simulator._record(method, self.path, response.status)
        head = [
            f"HTTP/1.1 {response.status} {status_phrase(response.status)}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
        ]
        head.extend(f"{name}: {value}" for name, value in response.headers.items())
        if self.close_connection:
            head.append("Connection: close")
        # One write: head and body in separate segments would meet Nagle and delayed ACKs.
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client went away (a timeout in a test)


# --- command line ----------------------------------------------------------------------------


def populate(
    simulator: ScradaSimulator, *, companies: int, documents: int, peppol: int = 0
) -> list[Company]:
    """`companies` shops with a journal and a cash book each, `documents` per book."""
    rng = random.Random(f"names:{companies}")
    made: list[Company] = []
    used: set[str] = set()
    for number in range(1, companies + 1):
        name = docs.shop_name(rng)
        if name in used:
            name = f"{name} {number}"
        used.add(name)
        made.append(simulator.add_company(name, documents=documents, peppol=peppol))
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m webapp.simulators.scrada", description="Serve a simulated Scrada API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--companies", type=int, default=3)
    parser.add_argument("--documents", type=int, default=10, help="per journal and cash book")
    parser.add_argument("--peppol", type=int, default=0, help="unconfirmed Peppol documents each")
    parser.add_argument("--rate-limit", type=int, default=60, help="requests a minute; 0: none")
    parser.add_argument("--api-key", default="demo-key")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--documented-only",
        action="store_true",
        help="serve only Scrada's documented API (the assumed partner feed answers 404)",
    )
    args = parser.parse_args(argv)
    # First: a SIGTERM that arrives while the companies are being made still exits cleanly.
    stop = stop_on_signal()
    simulator = ScradaSimulator(
        api_key=args.api_key,
        password=args.password,
        rate_limit=args.rate_limit or None,
        seed=args.seed,
        documented_only=args.documented_only,
    )
    simulator.record_requests = False
    populate(simulator, companies=args.companies, documents=args.documents, peppol=args.peppol)
    if stop.is_set():
        return 0
    url = simulator.start(args.host, args.port)
    print(f"Scrada simulator on {url}", flush=True)
    while not stop.wait(0.5):
        pass
    simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
