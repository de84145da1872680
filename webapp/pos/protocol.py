"""The wire format both roles share (docs/pos.md): versions, names, record ids, amounts, signing."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PROTOCOL = 1
API = "/api/pos/v1"
ENTITIES = ("articles", "customers", "users", "payment_methods", "vat_rates", "units", "registers")
DELETABLE = ("articles", "customers", "users", "payment_methods")
# trail: a signed row of one of the register's chains; trail_key: its public key (docs/pos.md);
# archive_part: a piece of an archive file (docs/pos-trail.md "Archives").
RECORD_KINDS = ("ticket", "customer", "register_setting", "trail", "trail_key", "archive_part")
MAX_BATCH = 500
ROLE_SETTING = "pos_role"
# A customer on the wire (docs/pos.md), besides its code.
CUSTOMER_FIELDS = (
    "last_name",
    "first_name",
    "company",
    "email",
    "phone",
    "address",
    "postcode",
    "city",
    "country",
    "vat_number",
)


class BadJson(ValueError):
    """A request body that is not a JSON value Relais can read; the text says why, in English."""


# json.loads(body, parse_float=Decimal) by msgspec first: about a fifth of its time, on every push
# (a 500-record batch is ~0.5 MB). It gives the same values for every body it reads (the same
# Decimals, ints of any size up to Python's 4,300 digits, the last of repeated keys); the bodies it
# refuses (NaN and Infinity, a lone surrogate, UTF-16, a BOM, errors) go to the json module.
_READER = msgspec.json.Decoder(float_hook=Decimal)


def parse_json(body: bytes) -> Any:
    """A JSON request body, numbers as Decimal (no float rounding, `1e999999` is not infinity).

    `NaN` and `Infinity` become Decimal too, so the value's own check refuses it with its field.
    A body nested too deeply (`[[[[…`) raises BadJson rather than RecursionError, which every
    JSON endpoint answers with 400."""
    try:
        return _READER.decode(body)
    except (msgspec.DecodeError, RecursionError):
        pass  # what msgspec refuses, the json module reads (NaN) or refuses with its own reason
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=Decimal)
    except RecursionError:
        raise BadJson("the JSON body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadJson(f"the body is not JSON ({exc})") from None


# json.dumps(value, ensure_ascii=False, default=str), compact, by msgspec's encoder: about a
# sixth of the json module's time, and the office keeps the text of every record it receives
# (10,000 of them in a drain). Decimals are written as text, as `default=str` wrote them.
_TEXT = msgspec.json.Encoder(enc_hook=str, decimal_format="string")


def json_text(value: Any) -> str | None:
    """`value` as JSON text (non-ASCII as it is, other values by `str`), or None when a text in it
    cannot be UTF-8: JSON's `"\\ud800"` escape gives a lone surrogate, which SQLite refuses to
    store (and a JSON encoder to write as UTF-8)."""
    try:
        return _TEXT.encode(value).decode()
    except UnicodeEncodeError:
        return None


def valid_text(value: Any) -> bool:
    """False when a text anywhere in `value` cannot be UTF-8 (see :func:`json_text`)."""
    return json_text(value) is not None


class WireRecord(Mapping[str, Any]):
    """A pushed record as the JSON text that is sent; read as a mapping, it is decoded once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._fields: dict[str, Any] | None = None

    def _decoded(self) -> dict[str, Any]:
        if self._fields is None:
            self._fields = json.loads(self.text)
        return self._fields

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())


def record_id(register: int) -> str:
    """Made on the register before the first send: a lost reply can never create a duplicate."""
    return f"R{register}-{uuid.uuid4().hex}"


def amount(value: Decimal | float | int | str) -> str:
    """Amounts cross the wire as strings: no float rounding between the two sides."""
    return format(Decimal(str(value)), "f")


def canonical(value: Any) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def token_digest(token: str) -> str:
    """Only this is stored on the office: a copied database does not give a register's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_signing_key() -> tuple[str, str]:
    """(private key, public key), both base64 of their raw 32 bytes."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes_raw()
    public = key.public_key().public_bytes_raw()
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def public_key_of(private_b64: str) -> str:
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(key.public_key().public_bytes_raw()).decode()


def sign(private_b64: str, data: bytes) -> str:
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(key.sign(data)).decode()


def verify(public_b64: str, data: bytes, signature_b64: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
        key.verify(base64.b64decode(signature_b64), data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
