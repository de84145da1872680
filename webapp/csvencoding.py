"""Where a file stops being text in its encoding: the line and column of the first byte that
does not decode, found in one streamed pass (csvio turns it into the error a user reads).

The whole file is checked before anything is read, so a stray Windows-1252 byte on line 180,000,
a UTF-8 BOM before Windows-1252 text or a UTF-16 file cut in the middle of a character is named
with its line and column instead of failing half-way through an import.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

ENCODING_CHUNK = 1024 * 1024


def bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _plain_codec(encoding: str, head: bytes) -> tuple[str, int]:
    """The codec without BOM handling and the BOM's length: the decoders that read a BOM count
    error positions from different places, the plain ones all from the bytes they are given."""
    if encoding == "utf-8-sig":
        return "utf-8", len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    if encoding == "utf-16":
        if head.startswith(codecs.BOM_UTF16_BE):
            return "utf-16-be", 2
        return "utf-16-le", 2 if head.startswith(codecs.BOM_UTF16_LE) else 0
    return encoding, 0


@dataclass
class _Position:
    """Where decoding has reached: the line (as the reader counts them) and its characters."""

    line: int = 1
    column: int = 0
    after_cr: bool = False

    def advance(self, text: str) -> None:
        if not text:
            return
        breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
        if self.after_cr and text[0] == "\n":
            breaks -= 1  # a CRLF cut between two chunks is one line break
        self.line += breaks
        last = max(text.rfind("\n"), text.rfind("\r"))
        self.column = len(text) - last - 1 if last >= 0 else self.column + len(text)
        self.after_cr = text[-1] == "\r"


def first_undecodable(path: Path, encoding: str) -> tuple[int, int] | None:
    """Line and 1-based character column of the first byte `encoding` cannot decode, or None.

    The file is read in chunks (a file without line breaks is not read whole into memory); the
    position of a bad byte is found by decoding, leniently, what came before it."""
    with path.open("rb") as handle:
        codec, skip = _plain_codec(encoding, handle.read(4))
        handle.seek(skip)
        decoder = codecs.getincrementaldecoder(codec)()
        position = _Position()
        while True:
            chunk = handle.read(ENCODING_CHUNK)
            state = decoder.getstate()
            try:
                position.advance(decoder.decode(chunk, final=not chunk))
            except UnicodeDecodeError as exc:
                lenient = codecs.getincrementaldecoder(codec)(errors="replace")
                lenient.setstate((b"", state[1]))
                position.advance(lenient.decode((state[0] + chunk)[: exc.start]))
                return position.line, position.column + 1
            if not chunk:
                return None


def utf8_with_accents(path: Path) -> bool:
    """Valid UTF-8 that holds non-ASCII bytes: read as Windows-1252 it would turn into mojibake."""
    with path.open("rb") as handle:
        has_non_ascii = any(
            not chunk.isascii() for chunk in iter(lambda: handle.read(ENCODING_CHUNK), b"")
        )
    return has_non_ascii and first_undecodable(path, "utf-8") is None
