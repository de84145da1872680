"""The "Vérifier" buttons and `relais scrada verify`: one call that needs valid credentials
(Scrada's API), and a login to the mailbox when one is set."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from webapp.http_retry import RetryPolicy
from webapp.i18n import _
from webapp.scrada import config as scrada_config
from webapp.scrada import mailbox
from webapp.scrada.client import CredentialsRejected, ScradaClient, ScradaError
from webapp.scrada.mail_settings import MailboxSettingsError
from webapp.secrets import Vault
from webapp.store import Store


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    refused: bool
    message: str


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
    except CredentialsRejected as exc:
        return VerifyResult(False, True, exc.translated())
    except ScradaError as exc:
        return VerifyResult(False, False, exc.translated())
    return VerifyResult(True, False, _("Scrada accepts the API key and the password."))


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
