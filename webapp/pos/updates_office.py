"""Update packages, office side (POS-6): an Ed25519 key, signed manifests, the published list.

The private key is made on first use and kept in the vault (``pos.update_key``); its public half
is also kept in the settings, so ``/hello`` can give it to a register while the vault is locked.
A manifest is the canonical JSON ``{number, version, kind, created_at, content, sha256}`` where
``sha256`` is that of the canonical content; the signature is Ed25519 over the canonical manifest.
What each kind may change is in docs/pos.md ("Update packages").
"""

from __future__ import annotations

import json
import re
from typing import Any

from webapp import clock, settings
from webapp.i18n import N_, UserError
from webapp.pos import protocol
from webapp.secrets import Vault, VaultError
from webapp.store import Store

VAULT_NAME = "pos.update_key"
PUBLIC_KEY_SETTING = "pos.update_public_key"
KINDS = ("settings", "reference", "templates", "program")
PUBLISHABLE = ("settings", "reference", "templates")
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,39}")
SETTING_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
MAX_CONTENT = 20 * 1024 * 1024


class UpdateError(UserError):
    """An update package refused before it is signed and published."""


def public_key(store: Store) -> str | None:
    """The public key the registers pin at join time (None before the first publication)."""
    value = settings.read_value(store, PUBLIC_KEY_SETTING)
    return value if isinstance(value, str) else None


def signing_key(store: Store, vault: Vault) -> str:
    """The private key (base64), made and kept in the vault on first use."""
    try:
        private = vault.get(VAULT_NAME)
        if private is None:
            private, public = protocol.new_signing_key()
            vault.set(VAULT_NAME, private)
        else:
            public = protocol.public_key_of(private)
    except VaultError as exc:
        raise UpdateError(
            N_("The vault is locked or unusable: the update key cannot be read ({error})."),
            error=str(exc),
        ) from exc
    if public_key(store) != public:
        settings.write_value(store, PUBLIC_KEY_SETTING, public)
    return private


def ensure_public_key(store: Store, vault: Vault) -> str | None:
    """The public key, made now when there is none yet and the vault is open (else None)."""
    known = public_key(store)
    if known is not None or not vault.is_unlocked:
        return known
    try:
        signing_key(store, vault)
    except UpdateError:
        return None
    return public_key(store)


def _check_settings(content: dict[str, Any]) -> None:
    for key, value in content.items():
        if not SETTING_NAME.fullmatch(key):
            raise UpdateError(N_("Setting name {name} is not valid."), name=key)
        if isinstance(value, dict | list):
            raise UpdateError(N_("Setting {name} must be a plain value."), name=key)


def _check_reference(content: dict[str, Any]) -> None:
    unknown = set(content) - {"upserts", "deletes"}
    if unknown:
        raise UpdateError(N_("Unknown part {part} in a reference update."), part=sorted(unknown)[0])
    for part, allowed in (("upserts", protocol.ENTITIES), ("deletes", protocol.DELETABLE)):
        section = content.get(part, {})
        if not isinstance(section, dict):
            raise UpdateError(N_("The {part} of a reference update must be an object."), part=part)
        for entity, rows in section.items():
            if entity not in allowed or not isinstance(rows, list):
                raise UpdateError(
                    N_("{entity} cannot be in the {part} of a reference update."),
                    entity=entity,
                    part=part,
                )


def _check_templates(content: dict[str, Any]) -> None:
    for name, text in content.items():
        if not TEMPLATE_NAME.fullmatch(name) or not isinstance(text, str):
            raise UpdateError(N_("Template {name} must be a name and a text."), name=name)


def check_content(kind: str, version: str, content: Any) -> None:
    if kind == "program":
        raise UpdateError(
            N_("Program updates are reserved for the single-executable build: not published here.")
        )
    if kind not in PUBLISHABLE:
        raise UpdateError(N_("Unknown update kind {kind}."), kind=kind)
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        raise UpdateError(N_("The version must be 1 to 40 letters, digits or . _ + -"))
    if not isinstance(content, dict):
        raise UpdateError(N_("The content of an update must be a JSON object."))
    if len(protocol.canonical(content)) > MAX_CONTENT:
        raise UpdateError(N_("The content of an update is too large."))
    {"settings": _check_settings, "reference": _check_reference, "templates": _check_templates}[
        kind
    ](content)


def publish_update(
    store: Store, vault: Vault, kind: str, version: str, content: dict[str, Any]
) -> int:
    """Sign and publish an update package; returns its number (served by ``/updates``)."""
    check_content(kind, version, content)
    private = signing_key(store, vault)
    created_at = clock.now_iso()
    with store.write() as db:
        number = int(
            db.execute("SELECT coalesce(max(number), 0) + 1 FROM pos_updates").fetchone()[0]
        )
        manifest = {
            "number": number,
            "version": version,
            "kind": kind,
            "created_at": created_at,
            "content": content,
            "sha256": protocol.sha256(protocol.canonical(content)),
        }
        signed = protocol.canonical(manifest)
        db.execute(
            "INSERT INTO pos_updates (number, version, kind, manifest, signature, state,"
            " created_at) VALUES (?, ?, ?, ?, ?, 'published', ?)",
            [
                number,
                version,
                kind,
                signed.decode("utf-8"),
                protocol.sign(private, signed),
                created_at,
            ],
        )
    return number


def list_updates(store: Store, after: int = 0) -> list[dict[str, Any]]:
    """Published update packages numbered above ``after``: the manifest as JSON and its signature
    (verify it over ``protocol.canonical(manifest)``, which gives back the signed bytes)."""
    with store.read() as db:
        rows = db.execute(
            "SELECT number, version, kind, manifest, signature FROM pos_updates"
            " WHERE state = 'published' AND number > ? ORDER BY number",
            [after],
        ).fetchall()
    return [
        {
            "number": int(row[0]),
            "version": str(row[1]),
            "kind": str(row[2]),
            "manifest": json.loads(row[3]),
            "signature": str(row[4]),
        }
        for row in rows
    ]
