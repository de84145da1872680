"""The OS keyring as the vault's store (PLT-4): whether it can be trusted, and the store over it.

A keyring is used only when it protects secrets better than our own file would (not keyrings.alt,
not a Secret Service without a session bus) and answers within a few seconds; otherwise
``webapp.secrets`` falls back to the encrypted file (``webapp/vault_file.py``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterable

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.backends.Windows import WinVaultKeyring

from webapp.vault_format import VaultError
from webapp.vault_store import Store

log = logging.getLogger(__name__)

# The keyring cannot list entries, so the names live in one extra entry; users must not clobber it.
NAMES_ENTRY = "__names__"

# CRED_MAX_CREDENTIAL_BLOB_SIZE: Relais' secrets (API keys, tokens, an Ed25519 key) are far smaller.
CREDENTIAL_LOCKER_MAX_BYTES = 5 * 512

_PROBE_SERVICE = "relais-keyring-probe"
_PROBE_NAME = "probe"
# A locked desktop keyring may show an unlock prompt and block; past this we use the file vault.
PROBE_TIMEOUT_SECONDS = 3.0
_DBUS_BACKEND_MODULES = frozenset(
    {"keyring.backends.SecretService", "keyring.backends.libsecret", "keyring.backends.kwallet"}
)


# --- detection -----------------------------------------------------------------------------------


def keyring_usable() -> bool:
    """True when the active OS keyring can be trusted with secrets and answers quickly."""
    # Detection, priorities and the probe may all talk to D-Bus, which can block on a machine
    # without a desktop session or behind an unanswered unlock prompt: give them a deadline.
    outcome: list[bool] = []

    def check() -> None:
        try:
            outcome.append(_active_keyring_works())
        except Exception:
            outcome.append(False)

    thread = threading.Thread(target=check, name="relais-keyring-probe", daemon=True)
    thread.start()
    thread.join(PROBE_TIMEOUT_SECONDS)
    return outcome == [True]


def _active_keyring_works() -> bool:
    backend = keyring.get_keyring()
    # Cheap type checks first, so a known-bad backend is refused without any probe.
    if not _acceptable_backend(backend) or float(backend.priority) <= 0:
        return False
    backend.get_password(_PROBE_SERVICE, _PROBE_NAME)
    return True


def _acceptable_backend(backend: KeyringBackend) -> bool:
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        children: list[KeyringBackend] = list(type(backend).backends)
        # Writes go to the first child that accepts them, reads to any: every child must be fine.
        return bool(children) and all(_acceptable_backend(child) for child in children)
    module = type(backend).__module__
    # keyrings.alt stores secrets in plain or weakly protected files: no better than our own.
    if module == "keyrings.alt" or module.startswith("keyrings.alt."):
        return False
    # Secret Service and KWallet need a session bus; without one they fail or hang.
    return not (
        module in _DBUS_BACKEND_MODULES
        and sys.platform.startswith("linux")
        and not os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    )


# --- store ---------------------------------------------------------------------------------------


class KeyringStore(Store):
    def __init__(self, backend: KeyringBackend, service: str) -> None:
        self._backend = backend
        self._service = service

    @property
    def is_initialized(self) -> bool:
        return True

    @property
    def is_unlocked(self) -> bool:
        return True

    # The OS unlocks its keyring with the user's session: there is nothing to create or unlock.
    def create(self, passphrase: str) -> None:
        return None

    def unlock(self, passphrase: str) -> None:
        return None

    def lock(self) -> None:
        return None

    def change_passphrase(self, old: str, new: str) -> None:
        raise VaultError("The OS keyring has no vault passphrase to change.")

    def get(self, name: str) -> str | None:
        try:
            return self._backend.get_password(self._service, name)
        except keyring.errors.KeyringError as exc:
            raise VaultError("The OS keyring could not be read.") from exc

    def set(self, name: str, value: str) -> None:
        self._write_entry(name, value)
        self._save_names(set(self.names()) | {name})

    def delete(self, name: str) -> bool:
        listed = self.names()
        existed = name in listed or self.get(name) is not None
        try:
            self._backend.delete_password(self._service, name)
        except keyring.errors.PasswordDeleteError:
            pass  # Already absent: deleting is idempotent.
        except keyring.errors.KeyringError as exc:
            raise VaultError("The OS keyring refused to delete the secret.") from exc
        if name in listed:
            self._save_names(set(listed) - {name})
        return existed

    def names(self) -> list[str]:
        raw = self.get(NAMES_ENTRY)
        if raw is None:
            return []
        try:
            loaded = json.loads(raw)
        except json.JSONDecodeError:
            loaded = None
        if not isinstance(loaded, list) or not all(isinstance(item, str) for item in loaded):
            raise VaultError("The list of secret names in the OS keyring is damaged.")
        return sorted(loaded)

    def _save_names(self, names: Iterable[str]) -> None:
        self._write_entry(NAMES_ENTRY, json.dumps(sorted(names)))

    def _write_entry(self, name: str, value: str) -> None:
        # The Credential Locker keeps at most 2,560 bytes per entry, written as UTF-16.
        too_long = len(value.encode("utf-16-le")) > CREDENTIAL_LOCKER_MAX_BYTES
        if too_long and isinstance(self._backend, WinVaultKeyring):
            raise VaultError("The secret is too long for the Windows Credential Locker.")
        try:
            self._backend.set_password(self._service, name, value)
        except Exception as exc:  # Windows' backend lets pywintypes.error through, not KeyringError
            log.warning("the OS keyring refused %s: %s", name, type(exc).__name__)
            raise VaultError("The OS keyring refused to store the secret.") from exc
