"""The vault's scrypt cost: version 2 (N=2^17, OWASP's minimum) for new files, version 1 still opens.

The files here are made with ``cryptography`` directly, from the documented layout, not with
Relais' own writer: an old vault is what Relais 0.1 wrote, byte for byte.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from webapp.secrets import Vault, VaultError, WrongPassphrase

pytestmark = pytest.mark.real_scrypt  # the production cost is what these tests check

PASSPHRASE = "correct horse battery"
SERVICE = "relais-test-install"
OWASP_N = 2**17  # OWASP Password Storage Cheat Sheet: scrypt N=2^17, r=8, p=1 at least


def scrypt_key(passphrase: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase.encode())


def write_old_vault(path: Path, secrets_map: dict[str, str]) -> None:
    """A version-1 vault.bin as Relais 0.1 wrote it: scrypt N=2^15."""
    header, salt, nonce = b"RLSVAULT\x01", os.urandom(16), os.urandom(12)
    body = AESGCM(scrypt_key(PASSPHRASE, salt, 2**15)).encrypt(
        nonce, json.dumps(secrets_map).encode(), header
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + salt + nonce + body)


def open_with_cost(path: Path, n: int) -> dict[str, str]:
    blob = path.read_bytes()
    key = scrypt_key(PASSPHRASE, blob[9:25], n)
    return dict(json.loads(AESGCM(key).decrypt(blob[25:37], blob[37:], blob[:9])))


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELAIS_VAULT_PASSPHRASE", raising=False)


def test_a_new_vault_is_version_2_at_the_owasp_cost(tmp_path: Path) -> None:
    vault = Vault(tmp_path, SERVICE, backend="file")
    vault.create(PASSPHRASE)
    vault.set("scrada.api_key", "sk-1")
    assert vault.path.read_bytes()[:9] == b"RLSVAULT\x02"
    assert open_with_cost(vault.path, OWASP_N) == {"scrada.api_key": "sk-1"}
    with pytest.raises(InvalidTag):
        open_with_cost(vault.path, 2**15)  # not the old cost under a new label


def test_an_old_vault_opens_and_is_rewritten_at_the_new_cost(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    write_old_vault(path, {"scrada.api_key": "sk-old", "pos.token": "t"})
    old_salt = path.read_bytes()[9:25]

    vault = Vault(tmp_path, SERVICE, backend="file")
    vault.unlock(PASSPHRASE)
    assert vault.get("scrada.api_key") == "sk-old"

    blob = path.read_bytes()
    assert blob[:9] == b"RLSVAULT\x02"
    assert blob[9:25] != old_salt  # a new salt with the new cost
    assert open_with_cost(path, OWASP_N) == {"scrada.api_key": "sk-old", "pos.token": "t"}
    vault.set("scrada.api_key", "sk-new")  # the unlocked key is the new one
    assert open_with_cost(path, OWASP_N)["scrada.api_key"] == "sk-new"
    again = Vault(tmp_path, SERVICE, backend="file")
    again.unlock(PASSPHRASE)
    assert again.names() == ["pos.token", "scrada.api_key"]


def test_an_old_vault_with_a_wrong_passphrase_is_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    write_old_vault(path, {"a": "b"})
    before = path.read_bytes()
    with pytest.raises(WrongPassphrase):
        Vault(tmp_path, SERVICE, backend="file").unlock("not the passphrase")
    assert path.read_bytes() == before


def test_an_old_vault_that_cannot_be_rewritten_still_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "vault.bin"
    write_old_vault(path, {"a": "b"})

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "read-only folder")

    monkeypatch.setattr("webapp.vault_file.atomic_write_bytes", refuse)
    vault = Vault(tmp_path, SERVICE, backend="file")
    vault.unlock(PASSPHRASE)
    assert vault.get("a") == "b"
    assert path.read_bytes()[:9] == b"RLSVAULT\x01"
    monkeypatch.undo()
    vault.set("a", "c")  # saved under its own (old) version and cost
    assert path.read_bytes()[:9] == b"RLSVAULT\x01"
    assert open_with_cost(path, 2**15) == {"a": "c"}


def test_a_vault_from_a_newer_relais_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vault.bin"
    write_old_vault(path, {"a": "b"})
    path.write_bytes(b"RLSVAULT\x09" + path.read_bytes()[9:])
    with pytest.raises(VaultError, match="another version"):
        Vault(tmp_path, SERVICE, backend="file").unlock(PASSPHRASE)
