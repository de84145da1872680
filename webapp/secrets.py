"""The secrets vault (PLT-4): API keys, passwords and tokens, kept out of SQLite, logs and exports.

Secrets live in the OS keyring where one works. Otherwise they live in ``vault.bin`` in the data
folder, encrypted with a key derived from a passphrase, so a copied data folder (a backup, a USB
stick with the portable app) does not leak them.

The file's bytes, and the scrypt cost of each version, are in ``webapp/vault_format.py``; the
plaintext is the JSON map ``{name: value}``. A file of an older version opens with its own cost and
is rewritten at the current one when it is unlocked.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.backends.Windows import WinVaultKeyring

from webapp import vault_format
from webapp.files import atomic_write_bytes
from webapp.vault_format import VaultError, WrongPassphrase

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
MIN_PASSPHRASE_LENGTH = 8

_FILE_NAME = "vault.bin"
log = logging.getLogger(__name__)

_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
# The keyring cannot list entries, so the names live in one extra entry; users must not clobber it.
_NAMES_ENTRY = "__names__"

# CRED_MAX_CREDENTIAL_BLOB_SIZE: Relais' secrets (API keys, tokens, an Ed25519 key) are far smaller.
CREDENTIAL_LOCKER_MAX_BYTES = 5 * 512

_PROBE_SERVICE = "relais-keyring-probe"
_PROBE_NAME = "probe"
# A locked desktop keyring may show an unlock prompt and block; past this we use the file vault.
PROBE_TIMEOUT_SECONDS = 3.0
_DBUS_BACKEND_MODULES = frozenset(
    {"keyring.backends.SecretService", "keyring.backends.libsecret", "keyring.backends.kwallet"}
)


class VaultLocked(VaultError):
    """The file vault needs its passphrase before secrets can be read or written."""


class VaultNotInitialized(VaultError):
    """The file vault has no file yet: call ``create()`` first."""


# --- keyring detection ---------------------------------------------------------------------------


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


# --- helpers -------------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise VaultError("A secret name must be 1 to 100 letters, digits or the characters _ . : -")
    if name == _NAMES_ENTRY:
        raise VaultError("This secret name is reserved.")


def _check_value(value: str) -> None:
    if not isinstance(value, str):
        raise VaultError("A secret value must be text.")


def _check_new_passphrase(passphrase: str) -> None:
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise VaultError("The passphrase must be at least 8 characters long.")


# One lock per vault file or keyring service, so two Vault objects on the same store still take
# turns; the app normally shares one Vault, but a CLI command may build its own.
_STORE_LOCKS: dict[str, threading.Lock] = {}
_STORE_LOCKS_GUARD = threading.Lock()


def _lock_for(identity: str) -> threading.Lock:
    with _STORE_LOCKS_GUARD:
        return _STORE_LOCKS.setdefault(identity, threading.Lock())


# --- stores --------------------------------------------------------------------------------------


class _Store(ABC):
    """What Vault needs from a backend; callers hold the store lock and have validated names."""

    @property
    @abstractmethod
    def is_initialized(self) -> bool: ...

    @property
    @abstractmethod
    def is_unlocked(self) -> bool: ...

    @abstractmethod
    def create(self, passphrase: str) -> None: ...

    @abstractmethod
    def unlock(self, passphrase: str) -> None: ...

    @abstractmethod
    def lock(self) -> None: ...

    @abstractmethod
    def change_passphrase(self, old: str, new: str) -> None: ...

    @abstractmethod
    def get(self, name: str) -> str | None: ...

    @abstractmethod
    def set(self, name: str, value: str) -> None: ...

    @abstractmethod
    def delete(self, name: str) -> bool: ...

    @abstractmethod
    def names(self) -> list[str]: ...


class _KeyringStore(_Store):
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
        raw = self.get(_NAMES_ENTRY)
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
        self._write_entry(_NAMES_ENTRY, json.dumps(sorted(names)))

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


class _FileStore(_Store):
    def __init__(self, path: Path) -> None:
        self.path = path
        # Python cannot reliably wipe memory; dropping the only reference on lock() is the best
        # available. The salt tells whether the file on disk still matches this key, the version
        # which header and cost the key belongs to.
        self._key: bytes | None = None
        self._salt: bytes | None = None
        self._version = vault_format.CURRENT_VERSION

    @property
    def is_initialized(self) -> bool:
        return self.path.is_file()

    @property
    def is_unlocked(self) -> bool:
        return self._key is not None

    def create(self, passphrase: str) -> None:
        if self.is_initialized:
            raise VaultError("The vault already exists.")
        _check_new_passphrase(passphrase)
        self._rekey(passphrase, {})

    def unlock(self, passphrase: str) -> None:
        sealed = self._read()
        key = vault_format.derive_key(passphrase, sealed.salt, sealed.version)
        secrets_map = vault_format.open_sealed(key, sealed)
        self._key, self._salt, self._version = key, sealed.salt, sealed.version
        if sealed.version != vault_format.CURRENT_VERSION:
            self._upgrade(passphrase, secrets_map)

    def _upgrade(self, passphrase: str, secrets_map: dict[str, str]) -> None:
        """Rewrite an older file at the current cost; until that works it stays usable as it is."""
        try:
            self._rekey(passphrase, secrets_map)
        except OSError:
            log.warning("the vault could not be rewritten at the current cost", exc_info=True)
        else:
            log.info("the vault was rewritten at the current scrypt cost")

    def lock(self) -> None:
        self._key = None
        self._salt = None

    def change_passphrase(self, old: str, new: str) -> None:
        sealed = self._read()
        key = vault_format.derive_key(old, sealed.salt, sealed.version)
        secrets_map = vault_format.open_sealed(key, sealed)
        _check_new_passphrase(new)
        self._rekey(new, secrets_map)

    def get(self, name: str) -> str | None:
        return self._load().get(name)

    def set(self, name: str, value: str) -> None:
        secrets_map = self._load()
        secrets_map[name] = value
        self._save(secrets_map)

    def delete(self, name: str) -> bool:
        secrets_map = self._load()
        if name not in secrets_map:
            return False
        del secrets_map[name]
        self._save(secrets_map)
        return True

    def names(self) -> list[str]:
        return sorted(self._load())

    def _rekey(self, passphrase: str, secrets_map: dict[str, str]) -> None:
        # A fresh salt per passphrase, so the old key cannot open the new file.
        salt = vault_format.new_salt()
        version = vault_format.CURRENT_VERSION
        key = vault_format.derive_key(passphrase, salt, version)
        self._write(key, salt, version, secrets_map)
        self._key, self._salt, self._version = key, salt, version

    def _load(self) -> dict[str, str]:
        # Read the file on every call, so changes made by another process (the CLI) are seen.
        if self._key is None:
            if not self.is_initialized:
                raise VaultNotInitialized("The vault has not been created yet.")
            raise VaultLocked("The vault is locked.")
        sealed = self._read()
        if sealed.salt != self._salt or sealed.version != self._version:
            # Someone changed the passphrase (or replaced the file) since we unlocked.
            self.lock()
            raise VaultLocked("The vault is locked.")
        return vault_format.open_sealed(self._key, sealed)

    def _save(self, secrets_map: dict[str, str]) -> None:
        if self._key is None or self._salt is None:
            raise VaultLocked("The vault is locked.")
        self._write(self._key, self._salt, self._version, secrets_map)

    def _write(self, key: bytes, salt: bytes, version: int, secrets_map: dict[str, str]) -> None:
        blob = vault_format.seal(key, salt, secrets_map, version)
        atomic_write_bytes(self.path, blob, permissions=0o600)

    def _read(self) -> vault_format.Sealed:
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            raise VaultNotInitialized("The vault has not been created yet.") from None
        return vault_format.parse(blob)


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
        self._store: _Store
        if self._backend_name == "keyring":
            self._store = _KeyringStore(keyring.get_keyring(), service)
            self._lock = _lock_for(f"keyring:{service}")
        else:
            self._store = _FileStore(self._path)
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
