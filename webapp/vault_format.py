"""The bytes of ``vault.bin``: a versioned header, the scrypt cost per version, AES-GCM.

    magic "RLSVAULT" (8) | version (1) | scrypt salt (16) | AES-GCM nonce (12) | ciphertext + tag

The version byte names the scrypt cost the key was derived with, so raising the cost is a new
version and an old file still opens with its own (the vault then rewrites it at the new cost).
The magic and version are the associated data: a file edited to claim another version fails
authentication instead of being misread.

    version 1: scrypt N=2^15, r=8, p=1 (Relais 0.1)
    version 2: scrypt N=2^17, r=8, p=1 (the OWASP Password Storage Cheat Sheet's minimum)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from webapp.i18n import UserError

MAGIC = b"RLSVAULT"
# version -> (n, r, p); a new cost is a new version, and old versions stay readable.
SCRYPT_COSTS: dict[int, tuple[int, int, int]] = {1: (2**15, 8, 1), 2: (2**17, 8, 1)}
CURRENT_VERSION = 2
SALT_SIZE = 16
NONCE_SIZE = 12
KEY_SIZE = 32
TAG_SIZE = 16
_HEADER_SIZE = len(MAGIC) + 1


class VaultError(UserError):
    """Base of every vault error; the message is a plain English sentence (a gettext msgid)."""


class WrongPassphrase(VaultError):
    """The passphrase does not open the vault (or the file was tampered with)."""


@dataclass(frozen=True)
class Sealed:
    """A vault file split into its parts; ``version`` decides the key's cost and the header."""

    version: int
    salt: bytes
    nonce: bytes
    ciphertext: bytes


def header(version: int) -> bytes:
    return MAGIC + bytes([version])


def derive_key(passphrase: str, salt: bytes, version: int = CURRENT_VERSION) -> bytes:
    n, r, p = SCRYPT_COSTS[version]
    return Scrypt(salt=salt, length=KEY_SIZE, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def new_salt() -> bytes:
    return os.urandom(SALT_SIZE)


def parse(blob: bytes) -> Sealed:
    if len(blob) < _HEADER_SIZE + SALT_SIZE + NONCE_SIZE + TAG_SIZE or blob[:8] != MAGIC:
        raise VaultError("The vault file is damaged.")
    version = blob[len(MAGIC)]
    if version not in SCRYPT_COSTS:
        raise VaultError("The vault file was written by another version of Relais.")
    nonce_start = _HEADER_SIZE + SALT_SIZE
    body_start = nonce_start + NONCE_SIZE
    return Sealed(
        version, blob[_HEADER_SIZE:nonce_start], blob[nonce_start:body_start], blob[body_start:]
    )


def seal(key: bytes, salt: bytes, secrets_map: dict[str, str], version: int) -> bytes:
    nonce = os.urandom(NONCE_SIZE)
    plaintext = json.dumps(secrets_map, sort_keys=True).encode("utf-8")
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, header(version))
    return header(version) + salt + nonce + ciphertext


def open_sealed(key: bytes, sealed: Sealed) -> dict[str, str]:
    try:
        plaintext = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, header(sealed.version))
    except InvalidTag:
        # GCM cannot tell a wrong key from a modified file; both mean "do not trust this".
        raise WrongPassphrase("The passphrase is wrong or the vault file is damaged.") from None
    return _decode_map(plaintext)


def _decode_map(plaintext: bytes) -> dict[str, str]:
    try:
        loaded = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        loaded = None
    valid = isinstance(loaded, dict) and all(
        isinstance(key, str) and isinstance(value, str) for key, value in loaded.items()
    )
    if not valid:
        raise VaultError("The vault file is damaged.")
    return dict(loaded)
