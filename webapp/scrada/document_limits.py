"""What every document of the Scrada pull must be, whatever its format: not empty, not too large,
and refused with `InvalidDocument`, whose message a user can act on.
"""

from __future__ import annotations

from webapp.i18n import UserError

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
_SHOWN_CHARS = 200  # a refused value is quoted in the message, never a whole megabyte of it


class InvalidDocument(UserError):
    """A document that must not be delivered: an English msgid with str/int params (JSON-safe)."""


def check_size(data: bytes) -> None:
    if not data.strip():
        raise InvalidDocument("The document is empty.")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidDocument(
            "The document is larger than {limit} MB ({size} bytes).",
            limit=MAX_DOCUMENT_BYTES // (1024 * 1024),
            size=len(data),
        )


def shown(value: str) -> str:
    return value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…"
