"""Where documents come from (SCR-5), behind one interface.

A source turns a company's book into `Incoming` documents and is told what became of each one, so
it can do its own follow-up (Peppol: confirm, only once the file is safely written). The pull asks
the pulled sources; the webhook receiver builds its `Incoming` from a request (`from_webhook`). Every
document, whatever its source, goes through the same steps (`batch.BookBatch`, `batch.deliver`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, Protocol

from webapp.scrada import records
from webapp.scrada.batch import BATCH_SIZE
from webapp.scrada.client import ScradaClient
from webapp.scrada.delivery import Incoming, Outcome
from webapp.store import Store

PAGE_LIMIT = 1000
# Documents taken from one company's Peppol inbox in one pull: a backlog of thousands must not keep
# one pull (and the other companies) waiting; the rest comes on the next pull.
PEPPOL_RUN_LIMIT = 1000


class Source(Protocol):
    name: str
    batch_size: int  # documents recorded per transaction (batch.py)

    def documents(self, company: records.Company, book: records.Book) -> Iterator[Incoming]:
        """The book's documents not yet taken, in order; each downloaded when it is reached."""
        ...

    def delivered(self, incoming: Incoming, outcome: Outcome) -> None:
        """Called once the document is written (or quarantined) and recorded."""
        ...


class PartnerFeed:
    """The partner feed (assumed contract, docs/scrada.md): daily-receipt invoices and CODA
    statements listed after the book's cursor, then downloaded one by one."""

    name = "partner"
    batch_size = BATCH_SIZE

    def __init__(self, client: ScradaClient) -> None:
        self.client = client

    def documents(self, company: records.Company, book: records.Book) -> Iterator[Incoming]:
        for entry in self._entries(company, book):
            document_id = str(entry["id"])
            if book.kind == "daily-receipts":
                data = self.client.journal_document(company.id, book.id, document_id)
            else:
                data = self.client.statement(company.id, book.id, document_id)
            yield Incoming(
                company,
                book.kind,
                book.id,
                book.name,
                document_id,
                data,
                self.name,
                sequence=int(entry.get("sequence") or 0),
            )

    def _entries(self, company: records.Company, book: records.Book) -> Iterator[dict[str, Any]]:
        after = book.cursor
        for _page in range(PAGE_LIMIT):
            if book.kind == "daily-receipts":
                page = self.client.journal_documents(company.id, book.id, after)
            else:
                page = self.client.statements(company.id, book.id, after)
            entries = sorted(page.results, key=lambda entry: int(entry.get("sequence") or 0))
            yield from entries
            if not page.has_more or not entries:
                return
            after = int(entries[-1].get("sequence") or after)

    def delivered(self, incoming: Incoming, outcome: Outcome) -> None:
        """Nothing to tell Scrada: the cursor moved with the delivery's own row."""


class PeppolInbox:
    """The documented Peppol inbound queue: list unconfirmed → download → (write) → confirm, in
    rounds until the list is empty. Scrada lists only part of the queue at a time and confirming
    one "allows you to retrieve the following new", so one listing is not the whole inbox."""

    name = "api"
    # One at a time: a document is confirmed once recorded, and confirming lets Scrada list the
    # next ones, so the next listing must come after the confirmations of this one.
    batch_size = 1

    def __init__(self, client: ScradaClient, store: Store, limit: int | None = None) -> None:
        self.client = client
        self.store = store
        self.limit = PEPPOL_RUN_LIMIT if limit is None else limit
        self.limit_reached = False  # of the last book drained: the rest waits for the next pull

    def documents(self, company: records.Company, book: records.Book) -> Iterator[Incoming]:
        self.limit_reached = False
        taken: set[str] = set()
        while True:
            # A document listed again after its confirmation (or one that failed) is not taken
            # twice in one pull: a listing of only those means the inbox is drained.
            listed = [str(entry["id"]) for entry in self.client.peppol_unconfirmed(company.id)]
            fresh = [document_id for document_id in listed if document_id not in taken]
            if not fresh:
                return
            for document_id in fresh:
                if len(taken) >= self.limit:
                    self.limit_reached = True
                    return
                taken.add(document_id)
                data = self.client.peppol_document(company.id, document_id)
                yield Incoming(company, book.kind, book.id, book.name, document_id, data, self.name)

    def delivered(self, incoming: Incoming, outcome: Outcome) -> None:
        # Only now is the file safely on disk (or in quarantine): Scrada may forget it.
        self.client.peppol_confirm(incoming.company.id, incoming.document_id)
        with self.store.write() as db:
            records.mark_confirmed(db, incoming.key)


def pulled_sources(client: ScradaClient, store: Store) -> dict[str, Source]:
    """The source of each kind of book."""
    feed = PartnerFeed(client)
    return {"daily-receipts": feed, "cash-book": feed, "peppol-inbound": PeppolInbox(client, store)}


def from_webhook(
    company: records.Company, kind: str, book: tuple[str, str], body: bytes
) -> Incoming:
    """A webhook's document: no id comes with it, so its id is derived from its bytes, and the
    same document from the feed later is recognised by the same bytes."""
    document_id = "wh-" + hashlib.sha256(body).hexdigest()[:24]
    return Incoming(company, kind, book[0], book[1], document_id, body, "webhook")
