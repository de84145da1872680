"""The "Vérifier" buttons and `relais scrada verify`: one call that needs valid credentials
(Scrada's API), then the companies the account reaches with their books (journals and cash books,
`GET /company/{id}/journal` and `/cashBook`), and a login to the mailbox when one is set."""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass, field
from typing import Any

from webapp.http_retry import RetryPolicy
from webapp.i18n import N_, _
from webapp.scrada import config as scrada_config
from webapp.scrada import mailbox
from webapp.scrada.client import CredentialsRejected, NotOffered, ScradaClient, ScradaError
from webapp.scrada.mail_settings import MailboxSettingsError
from webapp.secrets import Vault
from webapp.store import Store

# The first companies only: Verify answers in seconds, the pull reads them all.
COMPANIES_SHOWN = 20
BOOK_KINDS = {"journal": N_("journal"), "cash-book": N_("cash book")}


@dataclass(frozen=True)
class FoundBook:
    kind: str  # 'journal' or 'cash-book'
    name: str
    detail: str = ""  # a cash book's account number


@dataclass(frozen=True)
class FoundCompany:
    id: str
    name: str
    company_number: str
    books: tuple[FoundBook, ...] = ()
    error: str = ""  # why its books could not be read


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    refused: bool
    message: str
    companies: tuple[FoundCompany, ...] = field(default=())
    more_companies: int = 0


def verify(store: Store, vault: Vault) -> VerifyResult:
    config = scrada_config.load(store)
    creds = scrada_config.credentials(vault)
    if creds is None:
        return VerifyResult(
            False,
            False,
            _("Enter the API key and the password first (and unlock the secrets vault)."),
        )
    retry = RetryPolicy(attempts=2, base_seconds=0.5, rate_limit_waits=1)
    try:
        with ScradaClient(config.api_url, creds, timeout=10.0, retry=retry) as client:
            client.verify(config.company_ids)
            found, more = _companies(client, config.company_ids)
    except CredentialsRejected as exc:
        return VerifyResult(False, True, exc.translated())
    except ScradaError as exc:
        return VerifyResult(False, False, exc.translated())
    message = _("Scrada accepts the API key and the password.")
    return VerifyResult(True, False, message, tuple(found), more)


def _companies(
    client: ScradaClient, company_ids: tuple[str, ...]
) -> tuple[list[FoundCompany], int]:
    """The configured companies (or the partner's), each with its books; and how many more."""
    items: list[dict[str, Any]] = [{"id": company_id} for company_id in company_ids]
    if not company_ids:
        # An account without the partner list and no configured id: no company to show.
        with contextlib.suppress(NotOffered):
            items = client.partner_companies()
    shown = [_company(client, item) for item in items[:COMPANIES_SHOWN]]
    return shown, max(0, len(items) - COMPANIES_SHOWN)


def _name(item: dict[str, Any]) -> str:
    return str(item.get("name") or item.get("id") or "")


def _company(client: ScradaClient, item: dict[str, Any]) -> FoundCompany:
    """One company and its books; a company Scrada does not answer for says why, the others
    are still listed (a refused key stops everything: CredentialsRejected goes up)."""
    company_id = str(item.get("id", ""))
    try:
        if "name" not in item:
            item = {**item, **client.company(company_id)}
        books = [FoundBook("journal", _name(book)) for book in client.journals(company_id)]
        books += [
            FoundBook("cash-book", _name(book), str(book.get("iban") or ""))
            for book in client.cash_books(company_id)
        ]
    except CredentialsRejected:
        raise
    except ScradaError as exc:
        return FoundCompany(
            company_id, _name(item), str(item.get("taxNumber") or ""), (), exc.translated()
        )
    return FoundCompany(company_id, _name(item), str(item.get("taxNumber") or ""), tuple(books))


def verify_mailbox(
    store: Store, vault: Vault, *, ssl_context: ssl.SSLContext | None = None
) -> mailbox.VerifyResult | None:
    """Log in to the mailbox and count the messages waiting; None when no mailbox is set."""
    config = scrada_config.load(store)
    try:
        settings = config.mailbox_settings()
    except MailboxSettingsError as exc:
        return mailbox.VerifyResult(False, False, exc.translated())
    if settings is None:
        return None
    password = scrada_config.mailbox_password(vault)
    if not password:
        message = _("Enter the mailbox password first (and unlock the secrets vault).")
        return mailbox.VerifyResult(False, False, message)
    return mailbox.verify(settings, password, ssl_context=ssl_context)
