"""A register's join code: the office's address, the register's number and its token in one string.

``RLS1-`` then the base32 of a small JSON and a 4-byte check (the start of its SHA-256). Base32
keeps to capitals and digits, so the code survives being read aloud, retyped, or carried by a QR
code in its compact alphanumeric mode; the check catches a typo before the office is asked.
The office page makes it (:func:`encode`), the register's join page and `relais pos join --code`
read it (:func:`decode`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass

from webapp.i18n import N_, UserError

PREFIX = "RLS1-"
CHECK_BYTES = 4
MAX_LENGTH = 2000
_SPACING = re.compile(r"[\s-]+")


class JoinCodeError(UserError):
    """A join code that cannot be read: not ours, cut short, or mistyped."""


@dataclass(frozen=True)
class JoinCode:
    server_url: str
    number: int
    token: str


def _check(payload: bytes) -> bytes:
    return hashlib.sha256(payload).digest()[:CHECK_BYTES]


def encode(server_url: str, number: int, token: str) -> str:
    payload = json.dumps({"u": server_url, "n": number, "t": token}, separators=(",", ":")).encode()
    text = base64.b32encode(payload + _check(payload)).decode("ascii").rstrip("=")
    return PREFIX + text


def decode(code: str) -> JoinCode:
    """The code read back, whatever spaces, dashes or line breaks came with it when pasted."""
    text = _SPACING.sub("", (code or "").strip().upper())
    if len(text) > MAX_LENGTH or not text.startswith(PREFIX.rstrip("-")):
        raise JoinCodeError(N_("This is not a join code: it starts with RLS1-."))
    body = text[len(PREFIX) - 1 :]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raise JoinCodeError(N_("The join code is incomplete or mistyped.")) from None
    payload, check = raw[:-CHECK_BYTES], raw[-CHECK_BYTES:]
    if len(raw) <= CHECK_BYTES or _check(payload) != check:
        raise JoinCodeError(N_("The join code is incomplete or mistyped."))
    try:
        data = json.loads(payload)
        parsed = JoinCode(str(data["u"]), int(data["n"]), str(data["t"]))
    except (ValueError, KeyError, TypeError):
        raise JoinCodeError(N_("The join code is incomplete or mistyped.")) from None
    if not parsed.server_url or parsed.number < 1 or not parsed.token:
        raise JoinCodeError(N_("The join code is incomplete or mistyped."))
    return parsed


def qr_svg(code: str) -> str:
    """The code as an inline SVG QR code (segno), sized for a phone to read from a screen."""
    import segno

    return str(segno.make(code, error="m").svg_inline(scale=3, dark="#000", light="#fff"))
