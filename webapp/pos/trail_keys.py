"""The register's signing key (issue 17): Ed25519, made once, kept in the vault.

The private half never leaves the register's vault, so a record edited in the SQLite file cannot
be signed again; the public half travels to the office (and into every archive), where any chain
can be checked. Ed25519 because its signatures are small (64 bytes), fast to make (~50 µs) and
deterministic: the same record signs the same way twice, which makes a replayed record harmless.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey

from webapp.i18n import N_, UserError
from webapp.secrets import Vault

KEY_SECRET = "pos_trail_key"  # the vault entry of the private key
PUBLIC_KEY_SETTING = "pos.trail_public_key"  # the register's settings keep the public half


class TrailKeyError(UserError):
    """No key to sign with (a locked vault, a register that never made one)."""


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public_key: str) -> str:
    """A short name for a public key, kept with each row it checks."""
    return hashlib.sha256(decode(public_key)).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey

    # Worked out once per key: every signed row names its key.
    @functools.cached_property
    def public_key(self) -> str:
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return encode(raw)

    @functools.cached_property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, data: bytes) -> str:
        return encode(self.private.sign(data))


def new_signer() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


def signer_from_text(text: str) -> Signer:
    return Signer(Ed25519PrivateKey.from_private_bytes(decode(text)))


def private_text(signer: Signer) -> str:
    raw = signer.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return encode(raw)


def ensure_signer(vault: Vault) -> Signer:
    """The register's key from the vault, made there on first use (at join)."""
    if not vault.is_unlocked:
        raise TrailKeyError(
            N_(
                "The vault is locked: unlock it to sell (the register signs each ticket with a key kept there)."
            )
        )
    text = vault.get(KEY_SECRET)
    if text:
        return signer_from_text(text)
    signer = new_signer()
    vault.set(KEY_SECRET, private_text(signer))
    return signer


def load_signer(vault: Vault) -> Signer:
    """The key this register signs with; raises TrailKeyError when it cannot be read."""
    if not vault.is_unlocked:
        raise TrailKeyError(
            N_(
                "The vault is locked: unlock it to sell (the register signs each ticket with a key kept there)."
            )
        )
    text = vault.get(KEY_SECRET)
    if not text:
        raise TrailKeyError(N_("This register has no signing key: join the office again."))
    return signer_from_text(text)


# Signatures are made with `cryptography` (OpenSSL) and checked with libsodium (PyNaCl): the same
# Ed25519, but libsodium checks one in about half the time, and the office checks every row of
# every register (a drain of 10,000 tickets is 10,000 checks).
@functools.lru_cache(maxsize=64)
def _public(public_key: str) -> VerifyKey:
    # A drain checks thousands of rows of the same few keys: each key is decoded once.
    return VerifyKey(decode(public_key))


def verify(public_key: str, data: bytes, signature: str) -> bool:
    """True when ``signature`` is the key's signature of ``data``; never raises on bad input."""
    try:
        _public(public_key).verify(data, decode(signature))
    except (CryptoError, ValueError, TypeError):
        return False
    return True


# A signature check made ready in Python, to be run where the GIL is mostly released (failing).
Prepared = tuple[VerifyKey, bytes, bytes]


def prepare(public_key: str, data: bytes, signature: str) -> Prepared | None:
    """The key, the signed bytes and the signature of a check; None when the key or the
    signature cannot be read (the check fails)."""
    try:
        return _public(public_key), data, decode(signature)
    except (ValueError, TypeError):
        return None


def failing(checks: list[Prepared | None]) -> list[int]:
    """The places of the checks that fail: as little Python as can be between verifications, so
    that a thread running this hardly holds the GIL."""
    bad: list[int] = []
    for index, check in enumerate(checks):
        if check is None:
            bad.append(index)
            continue
        try:
            check[0].verify(check[1], check[2])
        except (CryptoError, ValueError, TypeError):
            bad.append(index)
    return bad
