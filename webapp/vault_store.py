"""What the vault asks of a backend (the OS keyring or the encrypted file) and the errors both raise.

``webapp.secrets.Vault`` validates names and values and holds the store's lock; a store only
keeps what it is given.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from webapp.vault_format import VaultError

MIN_PASSPHRASE_LENGTH = 8


class VaultLocked(VaultError):
    """The file vault needs its passphrase before secrets can be read or written."""


class VaultNotInitialized(VaultError):
    """The file vault has no file yet: call ``create()`` first."""


def check_new_passphrase(passphrase: str) -> None:
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise VaultError("The passphrase must be at least 8 characters long.")


class Store(ABC):
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
