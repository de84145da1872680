"""A register's configuration and its joining an office (POS-1).

:func:`join` checks the token with ``/hello`` and stores the office address, the register number
and the pinned update key in the settings, the token in the vault. The other register modules read
that configuration here (:func:`require_config`) and open their office client with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from webapp import settings
from webapp.clock import now_iso
from webapp.i18n import N_, UserError
from webapp.pos import protocol, trail_keys
from webapp.pos.register_client import OfficeClient, OfficeError
from webapp.secrets import Vault
from webapp.store import Store

SERVER_URL = "pos.server_url"
REGISTER_NUMBER = "pos.register_number"
UPDATE_KEY = "pos.update_key"
OFFICE_ID = "pos.office_id"
COMPANY = "pos.company"
SYNC_INTERVAL = "pos.sync_interval_seconds"
LAST_CONTACT = "pos.last_contact"
LAST_ERROR = "pos.last_error"
TOKEN_SECRET = "pos.token"


class RegisterError(UserError):
    """A register operation refused with a reason the user can act on."""


@dataclass(frozen=True)
class RegisterConfig:
    server_url: str
    number: int
    update_key: str


def load_config(store: Store) -> RegisterConfig | None:
    """This folder's register settings; None when it has not joined an office."""
    with store.read() as db:
        return config_from(db)


def config_from(db: Any) -> RegisterConfig | None:
    """The same, read on a connection the caller holds (one query)."""
    values = {
        str(row[0]): json.loads(row[1])
        for row in db.execute(
            "SELECT key, value FROM settings WHERE key IN (?, ?, ?)",
            [SERVER_URL, REGISTER_NUMBER, UPDATE_KEY],
        )
    }
    url, number = values.get(SERVER_URL), values.get(REGISTER_NUMBER)
    if not url or not number:
        return None
    return RegisterConfig(str(url), int(number), str(values.get(UPDATE_KEY) or ""))


def role(store: Store) -> str:
    return str(settings.read_value(store, protocol.ROLE_SETTING, "office"))


def require_config(store: Store, db: Any = None) -> RegisterConfig:
    config = load_config(store) if db is None else config_from(db)
    if config is None:
        raise RegisterError(
            N_("This data folder has not joined an office: run `relais pos join` first.")
        )
    return config


def write_settings(db: Any, values: Mapping[str, Any]) -> None:
    """Several settings in the caller's transaction."""
    for key, value in values.items():
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
            " SET value = excluded.value, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            [key, json.dumps(value)],
        )


def token(vault: Vault) -> str:
    if not vault.is_unlocked:
        raise RegisterError(
            N_("The vault is locked: unlock it to reach the office (the token is kept there).")
        )
    value = vault.get(TOKEN_SECRET)
    if not value:
        raise RegisterError(N_("No register token in the vault: run `relais pos join` again."))
    return value


ClientFactory = Callable[[str, str], OfficeClient]


def default_client(url: str, secret: str) -> OfficeClient:
    return OfficeClient(url, secret)


def open_client(
    store: Store, vault: Vault, factory: ClientFactory = default_client
) -> OfficeClient:
    config = require_config(store)
    return factory(config.server_url, token(vault))


def join(
    store: Store,
    vault: Vault,
    server_url: str,
    number: int,
    secret: str,
    factory: ClientFactory = default_client,
) -> dict[str, Any]:
    """Check the token with the office, then remember it: raises OfficeRefused/Unreachable.

    The register's signing key is made here (kept in the vault, its public half in the settings);
    the public half goes to the office with the first row it signs (outbox.announce_key), so an
    outbox left empty by a join stays empty until something is recorded."""
    url = server_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise RegisterError(N_("Give the office address as http://HOST:PORT or https://HOST:PORT."))
    if number < 1:
        raise RegisterError(N_("The register number must be a positive whole number."))
    with factory(url, secret) as client:
        hello = client.hello()
    if int(hello.get("register") or 0) != number:
        raise RegisterError(
            N_("This token belongs to register {other}, not to register {number}."),
            other=hello.get("register"),
            number=number,
        )
    if not isinstance(hello.get("update_key"), str):
        raise OfficeError(
            N_("The office sent an answer in an unexpected shape ({what})."), what="hello"
        )
    signer = trail_keys.ensure_signer(vault)
    vault.set(TOKEN_SECRET, secret)
    with store.write() as db:
        write_settings(
            db,
            {
                SERVER_URL: url,
                REGISTER_NUMBER: number,
                UPDATE_KEY: hello["update_key"],
                OFFICE_ID: hello.get("office"),
                COMPANY: hello.get("company"),
                LAST_CONTACT: now_iso(),
                protocol.ROLE_SETTING: "register",
                trail_keys.PUBLIC_KEY_SETTING: signer.public_key,
            },
        )
    return hello
