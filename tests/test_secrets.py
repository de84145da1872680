"""Tests for the secrets vault (PLT-4): file vault, keyring vault and keyring detection."""

from __future__ import annotations

import getpass
import io
import os
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.backends.Windows import WinVaultKeyring

from webapp import vault_keyring
from webapp.secrets import (
    BACKEND_ENV,
    PASSPHRASE_ENV,
    Vault,
    VaultError,
    VaultLocked,
    VaultNotInitialized,
    WrongPassphrase,
    keyring_usable,
)

# Every KeyringBackend subclass registers itself with keyring for auto-detection. Detect now,
# before the test backends below exist, so they never become the default for other tests.
keyring.get_keyring()

PASSPHRASE = "correct horse battery"
OTHER_PASSPHRASE = "staple and more words"
SERVICE = "relais-test-install"
SECRET = "sk_live_Zq81-very-secret-tøken"


class MemoryKeyring(KeyringBackend):
    """A real, working keyring backend that keeps entries in a dict."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class PlaintextAltKeyring(MemoryKeyring):
    """Poses as a keyrings.alt file backend, which stores secrets without real protection."""


PlaintextAltKeyring.__module__ = "keyrings.alt.file"


class BrokenKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringError("daemon is gone")


class HangingKeyring(MemoryKeyring):
    """Blocks like a keyring daemon waiting on an unlock prompt nobody will answer."""

    release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None


class CredentialLocker(WinVaultKeyring):
    """Windows' backend (the Credential Locker) as keyring picks it there, its storage in a dict:
    keyring.backends.Windows.WinVaultKeyring with pywin32's calls replaced."""

    priority = 5  # what WinVaultKeyring.priority answers on Windows

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def _set_password(self, target: str, username: str, password: str) -> None:
        if len(password.encode("utf-16-le")) > 2560:  # CredWrite's answer to a longer blob
            raise OSError(1783, "The stub received bad data.")
        self.entries[(target, username)] = password

    def _read_credential(self, target: str) -> None:
        return None  # no collision bookkeeping: one username per target here

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class EmptyChainer(chainer.ChainerBackend):
    backends: list[KeyringBackend] = []  # noqa: RUF012 - mirrors ChainerBackend's class property


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.delenv(BACKEND_ENV, raising=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def vault(data_dir: Path) -> Vault:
    created = Vault(data_dir, SERVICE, backend="file")
    created.create(PASSPHRASE)
    return created


@pytest.fixture
def use_keyring() -> Iterator[None]:
    """Let a test install any keyring backend; the previous one is put back afterwards."""
    previous = keyring.get_keyring()
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(use_keyring: None) -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


def _reopen(data_dir: Path, passphrase: str = PASSPHRASE) -> Vault:
    reopened = Vault(data_dir, SERVICE, backend="file")
    reopened.unlock(passphrase)
    return reopened


# --- file vault ----------------------------------------------------------------------------------


def test_file_round_trip_across_instances(vault: Vault, data_dir: Path) -> None:
    vault.set("scrada.api_key", SECRET)
    vault.set("pos:password", "hunter2-ünïcode")
    vault.set("to-delete", "x")
    assert vault.delete("to-delete") is True
    assert vault.delete("to-delete") is False

    reopened = Vault(data_dir, SERVICE, backend="file")
    assert reopened.backend_name == "file"
    assert reopened.path == data_dir / "vault.bin"
    assert reopened.is_initialized and not reopened.is_unlocked
    reopened.unlock(PASSPHRASE)
    assert reopened.get("scrada.api_key") == SECRET
    assert reopened.get("pos:password") == "hunter2-ünïcode"
    assert reopened.get("missing") is None
    assert reopened.names() == ["pos:password", "scrada.api_key"]


def test_empty_value_and_overwrite(vault: Vault) -> None:
    vault.set("token", "")
    assert vault.get("token") == ""
    vault.set("token", "second")
    assert vault.get("token") == "second"
    assert vault.names() == ["token"]


def test_wrong_passphrase_loses_nothing(vault: Vault, data_dir: Path) -> None:
    vault.set("api", SECRET)
    before = vault.path.read_bytes()
    other = Vault(data_dir, SERVICE, backend="file")
    with pytest.raises(WrongPassphrase):
        other.unlock("not the passphrase")
    assert not other.is_unlocked
    with pytest.raises(VaultLocked):
        other.get("api")
    assert vault.path.read_bytes() == before
    assert vault.get("api") == SECRET
    assert _reopen(data_dir).get("api") == SECRET


def test_wrong_passphrase_keeps_an_unlocked_vault_unlocked(vault: Vault) -> None:
    with pytest.raises(WrongPassphrase):
        vault.unlock("not the passphrase")
    assert vault.is_unlocked


def test_locked_vault_refuses_access(vault: Vault) -> None:
    vault.set("api", SECRET)
    vault.lock()
    assert not vault.is_unlocked
    with pytest.raises(VaultLocked):
        vault.get("api")
    with pytest.raises(VaultLocked):
        vault.set("api", "other")
    with pytest.raises(VaultLocked):
        vault.delete("api")
    with pytest.raises(VaultLocked):
        vault.names()
    vault.unlock(PASSPHRASE)
    assert vault.get("api") == SECRET


def test_uninitialized_vault(data_dir: Path) -> None:
    fresh = Vault(data_dir, SERVICE, backend="file")
    assert not fresh.is_initialized and not fresh.is_unlocked
    with pytest.raises(VaultNotInitialized):
        fresh.unlock(PASSPHRASE)
    with pytest.raises(VaultNotInitialized):
        fresh.get("api")
    assert not data_dir.exists()


def test_create_refuses_short_passphrase_and_second_create(data_dir: Path) -> None:
    fresh = Vault(data_dir, SERVICE, backend="file")
    with pytest.raises(VaultError):
        fresh.create("1234567")
    assert not fresh.is_initialized
    fresh.create("12345678")
    assert fresh.is_initialized and fresh.is_unlocked
    with pytest.raises(VaultError):
        fresh.create(PASSPHRASE)
    assert _reopen(data_dir, "12345678").names() == []


def test_change_passphrase(vault: Vault, data_dir: Path) -> None:
    vault.set("api", SECRET)
    vault.change_passphrase(PASSPHRASE, OTHER_PASSPHRASE)
    assert vault.is_unlocked and vault.get("api") == SECRET
    with pytest.raises(WrongPassphrase):
        _reopen(data_dir, PASSPHRASE)
    assert _reopen(data_dir, OTHER_PASSPHRASE).get("api") == SECRET


def test_change_passphrase_refuses_bad_input(vault: Vault, data_dir: Path) -> None:
    vault.set("api", SECRET)
    with pytest.raises(WrongPassphrase):
        vault.change_passphrase("not the passphrase", OTHER_PASSPHRASE)
    with pytest.raises(VaultError):
        vault.change_passphrase(PASSPHRASE, "short")
    assert _reopen(data_dir, PASSPHRASE).get("api") == SECRET


def test_passphrase_changed_by_another_instance(vault: Vault, data_dir: Path) -> None:
    vault.set("api", SECRET)
    _reopen(data_dir).change_passphrase(PASSPHRASE, OTHER_PASSPHRASE)
    with pytest.raises(VaultLocked):
        vault.get("api")
    assert not vault.is_unlocked
    vault.unlock(OTHER_PASSPHRASE)
    assert vault.get("api") == SECRET


def test_secret_never_written_in_clear(vault: Vault, data_dir: Path) -> None:
    vault.set("api", SECRET)
    vault.set("other", "filler")
    vault.change_passphrase(PASSPHRASE, OTHER_PASSPHRASE)
    forms = [SECRET.encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be")]
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert files == [vault.path]  # no temp file or plaintext copy left behind
    for path in files:
        content = path.read_bytes()
        for form in forms:
            assert form not in content


def test_file_is_versioned_binary(vault: Vault) -> None:
    assert vault.path.read_bytes()[:9] == b"RLSVAULT\x02"  # scrypt N=2^17 (test_vault_format.py)


@pytest.mark.parametrize("where", ["magic", "version", "salt", "nonce", "ciphertext", "tag"])
def test_tampered_file_is_refused(vault: Vault, data_dir: Path, where: str) -> None:
    vault.set("api", SECRET)
    blob = bytearray(vault.path.read_bytes())
    offsets = {"magic": 0, "version": 8, "salt": 9, "nonce": 25, "ciphertext": 40, "tag": -1}
    blob[offsets[where]] ^= 0x01
    vault.path.write_bytes(bytes(blob))
    expected = VaultError if where in ("magic", "version") else WrongPassphrase
    with pytest.raises(expected):
        _reopen(data_dir)
    with pytest.raises(VaultError):
        vault.get("api")


def test_truncated_file_is_refused(vault: Vault, data_dir: Path) -> None:
    vault.path.write_bytes(vault.path.read_bytes()[:30])
    with pytest.raises(VaultError):
        _reopen(data_dir)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_file_permissions_are_private(vault: Vault) -> None:
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600
    vault.set("api", SECRET)
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600


def test_concurrent_sets_lose_nothing(vault: Vault, data_dir: Path) -> None:
    # Two objects on one file as well: a CLI command may build its own Vault.
    vaults = [vault, _reopen(data_dir)]
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for index in range(15):
                vaults[worker % 2].set(f"w{worker}.k{index}", f"value-{worker}-{index}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = sorted(f"w{worker}.k{index}" for worker in range(8) for index in range(15))
    assert _reopen(data_dir).names() == expected
    assert vault.get("w7.k14") == "value-7-14"


@pytest.mark.parametrize(
    "name", ["", "a" * 101, "has space", "path/name", "naïve", "new\nline", "__names__"]
)
def test_bad_names_refused(vault: Vault, name: str) -> None:
    with pytest.raises(VaultError):
        vault.set(name, SECRET)
    with pytest.raises(VaultError):
        vault.get(name)
    with pytest.raises(VaultError):
        vault.delete(name)
    assert vault.names() == []


def test_longest_and_punctuated_names_accepted(vault: Vault) -> None:
    for name in ("a" * 100, "A-z_0.9:x"):
        vault.set(name, "v")
    assert vault.names() == sorted(["a" * 100, "A-z_0.9:x"])


def test_repr_shows_no_secret(vault: Vault) -> None:
    vault.set("api", SECRET)
    assert repr(vault) == "<Vault backend=file unlocked>"
    vault.lock()
    assert repr(vault) == "<Vault backend=file locked>"


# --- unlocking from the environment or a terminal ------------------------------------------------


def test_environment_passphrase_creates_then_unlocks(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    first = Vault(data_dir, SERVICE, backend="file")
    assert first.unlock_from_environment(interactive=False) is True
    assert first.is_initialized
    first.set("api", SECRET)

    second = Vault(data_dir, SERVICE, backend="file")
    assert second.unlock_from_environment(interactive=False) is True
    assert second.get("api") == SECRET


def test_environment_wrong_passphrase(
    vault: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "not the passphrase")
    with pytest.raises(WrongPassphrase):
        Vault(data_dir, SERVICE, backend="file").unlock_from_environment(interactive=False)


def test_no_passphrase_source_stays_locked(
    vault: Vault, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal
    other = Vault(data_dir, SERVICE, backend="file")
    assert other.unlock_from_environment(interactive=False) is False
    assert other.unlock_from_environment(interactive=True) is False
    fresh = Vault(data_dir / "elsewhere", SERVICE, backend="file")
    assert fresh.unlock_from_environment(interactive=True) is False
    assert not fresh.is_initialized


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _answer_prompts(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr(sys, "stdin", _Terminal())
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    return prompts


def test_terminal_prompts_twice_to_create_then_once_to_unlock(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = _answer_prompts(monkeypatch, [PASSPHRASE, PASSPHRASE, PASSPHRASE])
    assert Vault(data_dir, SERVICE, backend="file").unlock_from_environment(interactive=True)
    assert len(prompts) == 2
    assert Vault(data_dir, SERVICE, backend="file").unlock_from_environment(interactive=True)
    assert len(prompts) == 3


def test_terminal_mismatched_passphrases_refused(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answer_prompts(monkeypatch, [PASSPHRASE, OTHER_PASSPHRASE])
    fresh = Vault(data_dir, SERVICE, backend="file")
    with pytest.raises(VaultError):
        fresh.unlock_from_environment(interactive=True)
    assert not fresh.is_initialized


# --- keyring backend -----------------------------------------------------------------------------


def test_keyring_round_trip(memory_keyring: MemoryKeyring, data_dir: Path) -> None:
    store = Vault(data_dir, SERVICE, backend="keyring")
    assert store.backend_name == "keyring"
    assert store.is_initialized and store.is_unlocked
    assert store.unlock_from_environment(interactive=False) is True
    store.set("scrada.api_key", SECRET)
    store.set("pos:password", "hunter2")
    assert memory_keyring.entries[(SERVICE, "scrada.api_key")] == SECRET

    again = Vault(data_dir, SERVICE, backend="keyring")
    assert again.get("scrada.api_key") == SECRET
    assert again.names() == ["pos:password", "scrada.api_key"]
    assert again.delete("pos:password") is True
    assert again.delete("pos:password") is False
    assert again.get("pos:password") is None
    assert store.names() == ["scrada.api_key"]
    assert not data_dir.exists()  # nothing on disk with a keyring


def test_keyring_services_do_not_collide(memory_keyring: MemoryKeyring, data_dir: Path) -> None:
    first = Vault(data_dir, "relais-one", backend="keyring")
    second = Vault(data_dir, "relais-two", backend="keyring")
    first.set("api", "one")
    second.set("api", "two")
    assert first.get("api") == "one" and second.get("api") == "two"
    assert first.delete("api") and second.names() == ["api"]


def test_keyring_refuses_reserved_and_bad_names(
    memory_keyring: MemoryKeyring, data_dir: Path
) -> None:
    store = Vault(data_dir, SERVICE, backend="keyring")
    for name in ("__names__", "", "bad name"):
        with pytest.raises(VaultError):
            store.set(name, SECRET)
    assert memory_keyring.entries == {}


def test_keyring_has_no_passphrase(memory_keyring: MemoryKeyring, data_dir: Path) -> None:
    store = Vault(data_dir, SERVICE, backend="keyring")
    store.create(PASSPHRASE)
    store.unlock(PASSPHRASE)
    store.lock()
    assert store.is_unlocked
    with pytest.raises(VaultError):
        store.change_passphrase(PASSPHRASE, OTHER_PASSPHRASE)
    assert repr(store) == "<Vault backend=keyring unlocked>"


def test_keyring_errors_become_vault_errors(use_keyring: None, data_dir: Path) -> None:
    keyring.set_keyring(BrokenKeyring())
    store = Vault(data_dir, SERVICE, backend="keyring")
    with pytest.raises(VaultError):
        store.get("api")


def test_windows_credential_locker_is_accepted_and_keeps_secrets(
    use_keyring: None, data_dir: Path
) -> None:
    locker = CredentialLocker()
    keyring.set_keyring(locker)
    assert type(locker).__mro__[1].__module__ == "keyring.backends.Windows"
    assert keyring_usable() is True
    store = Vault(data_dir, SERVICE)
    assert store.backend_name == "keyring"
    store.set("scrada.api_key", SECRET)
    assert store.get("scrada.api_key") == SECRET
    assert store.names() == ["scrada.api_key"]


def test_windows_credential_locker_size_limit_is_a_clear_error(
    use_keyring: None, data_dir: Path
) -> None:
    locker = CredentialLocker()
    keyring.set_keyring(locker)
    store = Vault(data_dir, SERVICE, backend="keyring")
    store.set("fits", "k" * 1280)  # 2,560 bytes in UTF-16: the most the Locker keeps
    with pytest.raises(VaultError, match="too long for the Windows Credential Locker"):
        store.set("too.long", "k" * 1281)
    assert store.names() == ["fits"]
    assert (SERVICE, "too.long") not in locker.entries


def test_a_backend_failure_outside_keyring_errors_becomes_a_vault_error(
    use_keyring: None, data_dir: Path
) -> None:
    class Refusing(CredentialLocker):
        def _set_password(self, target: str, username: str, password: str) -> None:
            raise OSError(1312, "A specified logon session does not exist.")  # pywintypes.error

    keyring.set_keyring(Refusing())
    with pytest.raises(VaultError, match="refused to store"):
        Vault(data_dir, SERVICE, backend="keyring").set("api", SECRET)


# --- keyring detection and backend choice --------------------------------------------------------


def test_keyring_usable_with_working_backend(memory_keyring: MemoryKeyring) -> None:
    assert keyring_usable() is True


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring(), PlaintextAltKeyring(), BrokenKeyring(), EmptyChainer()],
    ids=["fail", "null", "keyrings.alt", "broken", "empty-chainer"],
)
def test_keyring_unusable(use_keyring: None, backend: KeyringBackend) -> None:
    keyring.set_keyring(backend)
    assert keyring_usable() is False


def test_chainer_needs_every_backend_acceptable(use_keyring: None) -> None:
    # keyring only ranks a chainer above its members when it chains two or more.
    class GoodChainer(chainer.ChainerBackend):
        backends = [MemoryKeyring(), MemoryKeyring()]  # noqa: RUF012

    class MixedChainer(chainer.ChainerBackend):
        backends = [MemoryKeyring(), PlaintextAltKeyring()]  # noqa: RUF012

    keyring.set_keyring(GoodChainer())
    assert keyring_usable() is True
    keyring.set_keyring(MixedChainer())
    assert keyring_usable() is False


def test_hanging_keyring_times_out(use_keyring: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault_keyring, "PROBE_TIMEOUT_SECONDS", 0.2)
    keyring.set_keyring(HangingKeyring())
    try:
        assert keyring_usable() is False
    finally:
        HangingKeyring.release.set()


def test_auto_picks_file_when_keyring_fails(use_keyring: None, data_dir: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    assert Vault(data_dir, SERVICE).backend_name == "file"


def test_auto_picks_working_keyring(memory_keyring: MemoryKeyring, data_dir: Path) -> None:
    assert Vault(data_dir, SERVICE).backend_name == "keyring"


def test_environment_overrides_auto(
    memory_keyring: MemoryKeyring, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BACKEND_ENV, "file")
    assert Vault(data_dir, SERVICE).backend_name == "file"
    assert Vault(data_dir, SERVICE, backend="keyring").backend_name == "keyring"
    monkeypatch.setenv(BACKEND_ENV, "keyring")
    keyring.set_keyring(fail.Keyring())
    assert Vault(data_dir, SERVICE).backend_name == "keyring"


def test_unknown_backend_refused(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(VaultError):
        Vault(data_dir, SERVICE, backend="plaintext")
    monkeypatch.setenv(BACKEND_ENV, "sqlite")
    with pytest.raises(VaultError):
        Vault(data_dir, SERVICE)
