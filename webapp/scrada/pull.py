"""The Scrada pull (SCR-3 to SCR-7): a scheduled process, `relais scrada pull` and the
"Synchroniser maintenant" button all run this.

companies (configured ids + partner feed) → their books (refreshed once a day) → for each selected
book, the documents after its cursor → validate → write once → record. A book's cursor moves only
in the transaction that records the document it covers. Credentials refused: the run stops at
once. Scrada unavailable after the retries: the run ends there, with what was delivered kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from webapp import history, jobs
from webapp.i18n import N_, UserError
from webapp.jobs import JobSpec, RunContext, Summary
from webapp.scrada import config as scrada_config
from webapp.scrada import records
from webapp.scrada.client import (
    CredentialsRejected,
    NotFound,
    ScradaClient,
    ScradaError,
    ScradaUnavailable,
)
from webapp.scrada.delivery import JOB_NAME, deliver, remove_orphans
from webapp.scrada.sources import pulled_sources

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(hours=24)
PEPPOL_NAME = "Peppol"


class NotConfigured(UserError):
    """The pull cannot start: something is missing in the Scrada settings."""


@dataclass
class Totals:
    companies: int = 0
    delivered: int = 0
    skipped: int = 0
    quarantined: int = 0
    errors: int = 0

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
    with make_client(context, config) as client:
        puller = Puller(context, config, client, root)
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
        },
    )


class Puller:
    def __init__(
        self,
        context: RunContext,
        config: scrada_config.ScradaConfig,
        client: ScradaClient,
        root: Path,
    ) -> None:
        self.context = context
        self.store = context.store
        self.config = config
        self.client = client
        self.root = root
        self.totals = Totals()
        self.sources = pulled_sources(client, context.store)

    def run(self) -> Totals:
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
        return self.totals

    # -- companies and books -----------------------------------------------------------------

    def refresh_companies(self) -> None:
        for company_id in self.config.company_ids:
            if self._stale(company_id):
                self._refresh_configured(company_id)
        try:
            partner = self.client.partner_companies()
        except NotFound:
            partner = []  # a single-company key has no partner feed
        select_new = self.config.new_companies
        with self.store.write() as db:
            for item in partner:
                records.upsert_company(
                    db,
                    str(item.get("id", "")),
                    source="partner",
                    selected=select_new,
                    company_number=str(item.get("taxNumber") or ""),
                    name=str(item.get("name") or ""),
                    vat_number=str(item.get("vatNumber") or ""),
                )

    def _stale(self, company_id: str) -> bool:
        for company in records.companies(self.store):
            if company.id == company_id:
                return _older_than(company.refreshed_at, REFRESH_AFTER)
        return True

    def _refresh_configured(self, company_id: str) -> None:
        try:
            item = self.client.company(company_id)
        except NotFound:
            self._error(None, N_("Scrada does not know the company {name}."), name=company_id)
            return
        with self.store.write() as db:
            records.upsert_company(
                db,
                company_id,
                source="configured",
                selected=True,
                company_number=str(item.get("taxNumber") or ""),
                name=str(item.get("name") or ""),
                vat_number=str(item.get("vatNumber") or ""),
            )

    def companies_in_scope(self) -> list[records.Company]:
        everything = records.companies(self.store)
        if self.config.scope == "all":
            return everything
        return [company for company in everything if company.selected]

    def refresh_books(self, company: records.Company) -> None:
        """Its journals and cash books; only this stamps `refreshed_at`, so a company first seen
        by a webhook (whose book only names the webhooks' destination) or named again by the
        partner list still gets its real books read."""
        journals = self.client.journals(company.id)
        cash_books = self.client.cash_books(company.id)
        with self.store.write() as db:
            for item in journals:
                records.upsert_book(
                    db,
                    company.id,
                    "daily-receipts",
                    str(item["id"]),
                    str(item.get("name") or item["id"]),
                    bool(item.get("active", True)),
                    True,
                )
            for item in cash_books:
                records.upsert_book(
                    db,
                    company.id,
                    "cash-book",
                    str(item["id"]),
                    str(item.get("name") or item["id"]),
                    True,
                    True,
                )
            # Opt-in: confirming takes a document out of Scrada's inbox for every other program.
            records.upsert_book(
                db, company.id, "peppol-inbound", records.PEPPOL_BOOK, PEPPOL_NAME, True, False
            )
            db.execute(
                "UPDATE scrada_companies SET refreshed_at = ? WHERE id = ?",
                [records.now_iso(), company.id],
            )

    # -- documents ---------------------------------------------------------------------------

    def pull_company(self, company: records.Company) -> None:
        try:
            if _older_than(company.refreshed_at, REFRESH_AFTER) or not records.books(
                self.store, company.id
            ):
                self.refresh_books(company)
            for book in records.books(self.store, company.id):
                # A book made for webhooks has no feed: it only names their destination.
                if book.selected and book.id != records.WEBHOOK_BOOK:
                    self.context.check_stop()
                    self.pull_book(company, book)
        except NotFound as exc:
            self._error(company, exc.message, **exc.params)
        except (CredentialsRejected, ScradaUnavailable):
            raise
        except ScradaError as exc:
            self._error(company, exc.message, **exc.params)

    def pull_book(self, company: records.Company, book: records.Book) -> None:
        source = self.sources[book.kind]
        # The feed moves the book's cursor with each delivery; the Peppol inbox has none.
        cursor_book = book if book.kind != "peppol-inbound" else None
        for incoming in source.documents(company, book):
            self.context.check_stop()
            outcome = deliver(
                self.store,
                self.root,
                self.config.template,
                incoming,
                self.context.run_id,
                cursor_book,
            )
            self.totals.count(outcome.state)
            source.delivered(incoming, outcome)

    def _error(self, company: records.Company | None, message: str, **params: Any) -> None:
        self.totals.errors += 1
        self.context.item(
            "company", "error", reference=company.id if company else None, message=message, **params
        )


def _older_than(stamp: str | None, age: timedelta) -> bool:
    if not stamp:
        return True
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return datetime.now(UTC) - moment > age


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
)

jobs.register(
    JobSpec(
        name=JOB_NAME,
        title=N_("Scrada pull"),
        description=N_(
            "Fetches the daily receipts (UBL) and cash books (CODA) of the client companies from"
            " Scrada and writes them into the accounting folders."
        ),
        func=pull_job,
        default_trigger=("interval", "60"),
    )
)
