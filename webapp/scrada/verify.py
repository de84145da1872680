"""The "Vérifier" button and `relais scrada verify`: one call that needs valid credentials."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.i18n import _
from webapp.scrada import config as scrada_config
from webapp.scrada.client import (
    CredentialsRejected,
    RetryPolicy,
    ScradaClient,
    ScradaError,
)
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
