"""The encrypted file as the vault's store (PLT-4): ``vault.bin`` in the data folder.

Its bytes and scrypt costs are in ``webapp/vault_format.py``; here is when it is read, re-keyed and
rewritten. The file is read again on every call, so a change made by another process (the CLI)
is seen, and a changed passphrase locks this process out until it unlocks again.
"""

from __future__ import annotations

import logging
from pathlib import Path

from webapp import vault_format
from webapp.files import atomic_write_bytes
from webapp.vault_format import VaultError
from webapp.vault_store import Store, VaultLocked, VaultNotInitialized, check_new_passphrase

log = logging.getLogger(__name__)


class FileStore(Store):
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
        check_new_passphrase(passphrase)
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
        check_new_passphrase(new)
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
