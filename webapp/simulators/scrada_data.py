"""The Scrada simulator's data (webapp/simulators/scrada.py): companies, their journals and cash
books with the documents generated for them, Peppol documents, webhook events, each with the
summary the API answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from webapp.simulators import scrada_docs as docs

XML = "application/xml"
CODA = "text/plain; charset=latin-1"
PEPPOL_INVOICE_TYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017"
    "#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)


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


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
