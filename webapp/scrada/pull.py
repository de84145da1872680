"""The Scrada pull (SCR-3 to SCR-7): a scheduled process, `relais scrada pull` and the
"Synchroniser maintenant" button all run this.

companies (configured ids + partner list) → their books (refreshed once a day) → for each selected
book, its pulled source (partner feed, Peppol inbox) → validate → write once → record; then the
documents that arrive by themselves (mailbox, drop folder). Sources are independent: a source this
Scrada account does not offer (the assumed partner feed) is remembered and asked again a day later,
and a book whose source fails is reported while the other books and companies go on. Credentials
refused: the run stops at once. Scrada unavailable after the retries: the run ends there, with
what was delivered kept. A book's cursor moves only in the transaction that records the document
it covers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from webapp import history
from webapp.i18n import N_, UserError
from webapp.jobs import JobSpec, RunContext, Summary
from webapp.scrada import config as scrada_config
from webapp.scrada import records, refresh, source_state
from webapp.scrada.batch import BookBatch
from webapp.scrada.client import (
    CredentialsRejected,
    NotFound,
    NotOffered,
    ScradaClient,
    ScradaError,
    ScradaUnavailable,
)
from webapp.scrada.delivery import JOB_NAME, remove_orphans
from webapp.scrada.pushed import PushedSources
from webapp.scrada.source_state import SourceKey
from webapp.scrada.sources import PeppolInbox, Source, pulled_sources

log = logging.getLogger(__name__)

REFRESH_AFTER = refresh.REFRESH_AFTER
PEPPOL_NAME = refresh.PEPPOL_NAME
NOT_OFFERED_ITEM = N_(
    "{company}, {book}: this Scrada account does not offer the partner feed; it is asked again"
    " tomorrow. The book needs another route (webhook, mailbox or drop folder)."
)
PARTNER_LIST_ITEM = N_(
    "This Scrada account does not list its companies (partner feed): the configured companies"
    " and those named by delivered documents are pulled. Asked again tomorrow."
)
PEPPOL_MORE_ITEM = N_(
    "{company}: {count} Peppol documents taken in this pull; the rest comes on the next pull."
)


class NotConfigured(UserError):
    """The pull cannot start: something is missing in the Scrada settings."""


@dataclass
class Totals:
    companies: int = 0
    delivered: int = 0
    skipped: int = 0
    quarantined: int = 0
    errors: int = 0
    not_offered: int = 0

    def count(self, state: str) -> None:
        setattr(self, state, getattr(self, state) + 1)


def make_client(context: RunContext, config: scrada_config.ScradaConfig) -> ScradaClient:
    if context.vault is None:
        raise NotConfigured(N_("The secrets vault is not available to this process."))
    creds = scrada_config.credentials(context.vault)
    if creds is None:
        raise NotConfigured(
            N_(
                "The Scrada API key and password are missing, or the secrets vault is locked:"
                " enter them in the Scrada settings."
            )
        )

    # A wait for the rate limit must not hold Relais open when it is closing.
    return ScradaClient(config.api_url, creds, timeout=config.timeout_seconds, sleep=context.wait)


def run_pull(context: RunContext) -> Summary:
    config = scrada_config.load(context.store)
    root = config.root_in(context.data_dir)
    if root is None:
        raise NotConfigured(N_("Choose the root folder where the documents go."))
    root.mkdir(parents=True, exist_ok=True)
    remove_orphans(root)
    # One read connection for the whole pull: opening one per document costs more than the query.
    with make_client(context, config) as client, context.store.read() as reader:
        puller = Puller(context, config, client, root, reader)
        totals = puller.run()
    return Summary(
        N_(
            "{companies} companies: {delivered} documents delivered, {skipped} already there,"
            " {quarantined} quarantined, {errors} errors."
        ),
        {
            "companies": totals.companies,
            "delivered": totals.delivered,
            "skipped": totals.skipped,
            "quarantined": totals.quarantined,
            "errors": totals.errors,
            "not_offered": totals.not_offered,
        },
    )


class Puller:
    def __init__(
        self,
        context: RunContext,
        config: scrada_config.ScradaConfig,
        client: ScradaClient,
        root: Path,
        reader: Database,
    ) -> None:
        self.context = context
        self.reader = reader
        self.store = context.store
        self.config = config
        self.client = client
        self.root = root
        self.totals = Totals()
        self.sources = pulled_sources(client, context.store)

    def run(self) -> Totals:
        """Scrada's API, then the mailbox and the drop folder: those run even when Scrada refuses
        the key or is unreachable (they do not depend on it), after the companies are read (a
        document is then filed under the company Scrada knows rather than a new one)."""
        pushed = PushedSources(self.context, self.config, self.root, self.totals.count)
        try:
            self.pull_scrada()
        except (CredentialsRejected, ScradaUnavailable):
            pushed.take_all()
            raise
        pushed.take_all()
        self.compare_balances()
        return self.totals

    def compare_balances(self) -> None:
        """Scrada's current balance of each cash book that got statements in this run (from any
        source) against the last one delivered (continuity.py keeps the difference)."""
        with self.store.read() as db:
            rows = db.execute(
                "SELECT DISTINCT d.company_id, d.book_id, b.iban FROM scrada_deliveries d"
                " JOIN scrada_books b ON b.company_id = d.company_id AND b.kind = d.book_kind"
                " AND b.id = d.book_id WHERE d.run_id = ? AND d.book_kind = 'cash-book'"
                " AND d.state = 'delivered' AND d.book_id != ? AND d.company_id NOT LIKE ?",
                [self.context.run_id, records.WEBHOOK_BOOK, refresh.ADOPTED_PREFIX + "%"],
            ).fetchall()
        for company_id, book_id, iban in rows:
            try:
                item = self.client.cash_book(company_id, book_id)
            except (CredentialsRejected, ScradaUnavailable):
                raise
            except ScradaError as exc:  # not every account answers it: nothing to compare
                log.info("scrada cash book %s: no current balance (%s)", book_id, exc.translated())
                continue
            refresh.compare_balance(self.store, company_id, item, iban)

    def pull_scrada(self) -> None:
        label = N_("Reading the companies")
        self.context.progress(0, None, label)
        self.refresh_companies()
        targets = self.companies_in_scope()
        self.totals.companies = len(targets)
        for index, company in enumerate(targets):
            self.context.check_stop()
            self.context.progress(index, len(targets), N_("Pulling the documents"))
            self.pull_company(company)
        self.context.progress(len(targets), len(targets), N_("Pulling the documents"))

    # -- companies and books -----------------------------------------------------------------

    def refresh_companies(self) -> None:
        known = {company.id: company for company in records.companies(self.store)}
        for company_id in self.config.company_ids:
            company = known.get(company_id)
            if company is None or refresh.older_than(company.refreshed_at, REFRESH_AFTER):
                try:
                    refresh.configured_company(self.client, self.store, company_id)
                except NotFound:
                    self._error(
                        None, N_("Scrada does not know the company {name}."), name=company_id
                    )
        before = refresh.partner_companies(self.client, self.store, self.config.new_companies)
        if before is not None and before != source_state.NOT_OFFERED:
            self.context.item("scrada", "skipped", message=PARTNER_LIST_ITEM)

    def companies_in_scope(self) -> list[records.Company]:
        everything = records.companies(self.store)
        if self.config.scope == "all":
            return everything
        return [company for company in everything if company.selected]

    # -- documents ---------------------------------------------------------------------------

    def pull_company(self, company: records.Company) -> None:
        try:
            if refresh.books_due(self.store, company):
                refresh.refresh_books(self.client, self.store, company)
        except (CredentialsRejected, ScradaUnavailable):
            raise
        except ScradaError as exc:
            # The books known from earlier pulls are still pulled.
            self._error(company, exc.message, **exc.params)
        if not refresh.in_scrada(company):
            return  # made from a document: only the pushed sources know it
        for book in records.books(self.store, company.id):
            source = self.sources.get(book.kind)
            # A book made for pushed documents has no pulled source: it only names their place.
            if source is None or not book.selected or book.id == records.WEBHOOK_BOOK:
                continue
            self.context.check_stop()
            self.pull_source(company, book, source)

    def pull_source(self, company: records.Company, book: records.Book, source: Source) -> None:
        """One book from one source, its failure its own (credentials and an unreachable Scrada
        excepted: they end the run)."""
        key = SourceKey(company.id, book.kind, book.id, source.name)
        with self.store.read() as db:
            if not source_state.is_due(db, key):
                return
        try:
            self.pull_book(company, book, source)
        except NotOffered as exc:
            self._not_offered(company, book, key, exc)
            return
        except (CredentialsRejected, ScradaUnavailable):
            raise
        except ScradaError as exc:
            with self.store.write() as db:
                source_state.mark(db, key, source_state.ERROR, exc.message, exc.params)
            self._error(
                company, N_("{company}, {book}: {error}"), **self._names(company, book, exc)
            )
            return
        with self.store.write() as db:
            source_state.mark(db, key, source_state.OFFERED)
        if isinstance(source, PeppolInbox) and source.limit_reached:
            self.context.item(
                "peppol",
                "skipped",
                company.id,
                PEPPOL_MORE_ITEM,
                company=company.name,
                count=source.limit,
            )

    def pull_book(self, company: records.Company, book: records.Book, source: Source) -> None:
        """The book's documents, recorded by batches; a source hears of a document (Peppol:
        confirms it) only once its batch is recorded. What a failure interrupts is still recorded:
        those files are written."""
        batch = BookBatch(
            self.store,
            self.root,
            self.config.template,
            self.context.run_id,
            self.reader,
            # The feed moves the book's cursor with each delivery; the Peppol inbox has none.
            book=book if book.kind != "peppol-inbound" else None,
            size=source.batch_size,
        )
        peppol = isinstance(source, PeppolInbox)
        try:
            for count, incoming in enumerate(source.documents(company, book), start=1):
                self.context.check_stop()
                self.totals.count(batch.add(incoming).state)
                if peppol:
                    self.context.progress(count, None, N_("Taking the Peppol inbox"))
                if not batch.pending:
                    self._tell(source, batch)
        finally:
            self._tell(source, batch)

    def _tell(self, source: Source, batch: BookBatch) -> None:
        """Record what the batch holds, then tell the source what became of each document."""
        batch.flush()
        for incoming, outcome in batch.take_done():
            source.delivered(incoming, outcome)

    def _not_offered(
        self, company: records.Company, book: records.Book, key: SourceKey, exc: NotOffered
    ) -> None:
        self.totals.not_offered += 1
        with self.store.write() as db:
            before = source_state.mark(db, key, source_state.NOT_OFFERED, exc.message, exc.params)
        if before != source_state.NOT_OFFERED:  # said once, not on every pull
            self.context.item(
                ITEM_KINDS.get(book.kind, "company"),
                "skipped",
                company.id,
                NOT_OFFERED_ITEM,
                company=company.name or company.id,
                book=book.name,
            )

    @staticmethod
    def _names(company: records.Company, book: records.Book, exc: ScradaError) -> dict[str, Any]:
        return {"company": company.name or company.id, "book": book.name, "error": exc.translated()}

    def _error(self, owner: records.Company | None, message: str, **params: Any) -> None:
        self.totals.errors += 1
        self.context.item(
            "company", "error", reference=owner.id if owner else None, message=message, **params
        )


ITEM_KINDS = {"daily-receipts": "receipt", "cash-book": "cash_book", "peppol-inbound": "peppol"}


def pull_job(context: RunContext) -> Summary:
    """The registered process: a refused or unreachable Scrada ends the run with its reason."""
    try:
        return run_pull(context)
    except (CredentialsRejected, ScradaUnavailable) as exc:
        context.item("scrada", "error", message=exc.message, **exc.params)
        raise


history.KIND_LABELS.update(
    receipt=N_("daily receipts"),
    cash_book=N_("cash book"),
    peppol=N_("Peppol document"),
    company=N_("company"),
    scrada=N_("Scrada"),
    mail=N_("e-mail"),
    mailbox=N_("mailbox"),
    folder=N_("drop folder"),
)

PULL = JobSpec(
    name=JOB_NAME,
    title=N_("Scrada pull"),
    description=N_(
        "Fetches the daily receipts (UBL) and cash books (CODA) of the client companies from"
        " Scrada and writes them into the accounting folders."
    ),
    func=pull_job,
    default_trigger=("interval", "60"),
)
