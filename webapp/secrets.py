"""The secrets vault (PLT-4): API keys, passwords and tokens, kept out of SQLite, logs and exports.

Secrets live in the OS keyring where one works. Otherwise they live in ``vault.bin`` in the data
folder, encrypted with a key derived from a passphrase, so a copied data folder (a backup, a USB
stick with the portable app) does not leak them.

The file's bytes, and the scrypt cost of each version, are in ``webapp/vault_format.py``; the
plaintext is the JSON map ``{name: value}``. A file of an older version opens with its own cost and
is rewritten at the current one when it is unlocked. The two stores are ``webapp/vault_keyring.py``
and ``webapp/vault_file.py``; this module chooses one and checks what is asked of it.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
import threading
from pathlib import Path

import keyring

from webapp.vault_file import FileStore
from webapp.vault_format import VaultError, WrongPassphrase
from webapp.vault_keyring import NAMES_ENTRY, KeyringStore, keyring_usable
from webapp.vault_store import Store, VaultLocked, VaultNotInitialized

__all__ = [
    "BACKEND_ENV",
    "PASSPHRASE_ENV",
    "Vault",
    "VaultError",
    "VaultLocked",
    "VaultNotInitialized",
    "WrongPassphrase",
    "keyring_usable",
]

PASSPHRASE_ENV = "RELAIS_VAULT_PASSPHRASE"
BACKEND_ENV = "RELAIS_VAULT_BACKEND"

_FILE_NAME = "vault.bin"
_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


# --- helpers -------------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise VaultError("A secret name must be 1 to 100 letters, digits or the characters _ . : -")
    if name == NAMES_ENTRY:
        raise VaultError("This secret name is reserved.")


def _check_value(value: str) -> None:
    if not isinstance(value, str):
        raise VaultError("A secret value must be text.")


# One lock per vault file or keyring service, so two Vault objects on the same store still take
# turns; the app normally shares one Vault, but a CLI command may build its own.
_STORE_LOCKS: dict[str, threading.Lock] = {}
_STORE_LOCKS_GUARD = threading.Lock()


def _lock_for(identity: str) -> threading.Lock:
    with _STORE_LOCKS_GUARD:
        return _STORE_LOCKS.setdefault(identity, threading.Lock())


# --- public facade -------------------------------------------------------------------------------


def _choose_backend(requested: str) -> str:
    if requested == "auto":
        requested = os.environ.get(BACKEND_ENV, "").strip().lower() or "auto"
    if requested == "auto":
        return "keyring" if keyring_usable() else "file"
    if requested in ("keyring", "file"):
        return requested
    raise VaultError("The vault backend must be auto, keyring or file.")


class Vault:
    """Named secrets in the OS keyring or in an encrypted file; safe to share between threads."""

    def __init__(self, data_dir: Path, service: str, backend: str = "auto") -> None:
        self._path = Path(data_dir) / _FILE_NAME
        self._backend_name = _choose_backend(backend)
        self._store: Store
        if self._backend_name == "keyring":
            self._store = KeyringStore(keyring.get_keyring(), service)
            self._lock = _lock_for(f"keyring:{service}")
        else:
            self._store = FileStore(self._path)
            self._lock = _lock_for(f"file:{self._path.resolve()}")

    def __repr__(self) -> str:
        state = "unlocked" if self.is_unlocked else "locked"
        return f"<Vault backend={self._backend_name} {state}>"

    @property
    def backend_name(self) -> str:
        return self._backend_name

    @property
    def path(self) -> Path:
        return self._path

    @property
    def is_initialized(self) -> bool:
        return self._store.is_initialized

    @property
    def is_unlocked(self) -> bool:
        return self._store.is_unlocked

    def create(self, passphrase: str) -> None:
        with self._lock:
            self._store.create(passphrase)

    def unlock(self, passphrase: str) -> None:
        with self._lock:
            self._store.unlock(passphrase)

    def lock(self) -> None:
        with self._lock:
            self._store.lock()

    def change_passphrase(self, old: str, new: str) -> None:
        with self._lock:
            self._store.change_passphrase(old, new)

    def unlock_from_environment(self, *, interactive: bool) -> bool:
        """Unlock (or create) from $RELAIS_VAULT_PASSPHRASE, else by asking on a terminal."""
        if self.is_unlocked:
            return True
        passphrase = os.environ.get(PASSPHRASE_ENV)
        if passphrase:
            self._open_with(passphrase)
        elif interactive and sys.stdin is not None and sys.stdin.isatty():
            self._open_with(self._ask_passphrase())
        return self.is_unlocked

    def _open_with(self, passphrase: str) -> None:
        if self.is_initialized:
            self.unlock(passphrase)
        else:
            self.create(passphrase)

    def _ask_passphrase(self) -> str:
        if self.is_initialized:
            return getpass.getpass("Vault passphrase: ")
        first = getpass.getpass("New vault passphrase (at least 8 characters): ")
        if getpass.getpass("Repeat the passphrase: ") != first:
            raise VaultError("The two passphrases do not match.")
        return first

    def set(self, name: str, value: str) -> None:
        _check_name(name)
        _check_value(value)
        with self._lock:
            self._store.set(name, value)

    def get(self, name: str) -> str | None:
        _check_name(name)
        with self._lock:
            return self._store.get(name)

    def delete(self, name: str) -> bool:
        _check_name(name)
        with self._lock:
            return self._store.delete(name)

    def names(self) -> list[str]:
        with self._lock:
            return self._store.names()
