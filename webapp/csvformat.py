"""A shop's CSV file before it is read (ECN-10): what the user forces, what is detected, the limits.

Files come from Excel, web shops and old till software: UTF-8 with or without BOM or Windows-1252;
`;`, `,` or tab; decimal comma or point; French (DD/MM/YYYY) or ISO dates. Every choice is detected
and can be forced. Errors name the file's own line (the header is line 1) and the column.

Encoding is decided by a rule, not a statistical guess: a BOM wins; else a file that is valid UTF-8
from end to end is UTF-8; else Windows-1252. The whole file is checked (fast, in C), so a stray
Windows-1252 byte on line 180,000 is found before anything is imported, with its line number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from webapp.csvencoding import bom_encoding, first_undecodable
from webapp.csvvalues import DATE_FORMATS
from webapp.i18n import UserError

ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso-8859-15": "iso-8859-15",
    "utf-16": "utf-16",
}
DELIMITERS = {";": ";", ",": ",", "tab": "\t", "\t": "\t", "|": "|"}
DECIMAL_MARKS = (",", ".")

MAX_FILE_BYTES = 2 * 1024**3
MAX_FIELD_CHARS = 100_000
MAX_LINE_CHARS = 1_000_000
# Excel's sheet height: no spreadsheet writes more empty rows in a row; past it the file is not
# business data, and reading it on would take minutes (a 2 GB file of newlines).
MAX_EMPTY_LINES = 1_048_576

_SEPARATORS_IN_HEADER = re.compile(r"[\s\-./()]+")


class CsvError(UserError):
    """A file that cannot be read; `line` (the file's own line number) and `column` (1-based
    character, or cell number in the header) when known."""

    def __init__(
        self, message: str, *, line: int | None = None, column: int | None = None, **params: Any
    ) -> None:
        if line is not None:
            params["line"] = line
        if column is not None:
            params["column"] = column
        super().__init__(message, **params)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class CsvOptions:
    """What the user forces; None means detect."""

    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    date_format: str | None = None
    max_field_chars: int = MAX_FIELD_CHARS
    max_file_bytes: int = MAX_FILE_BYTES
    max_empty_lines: int = MAX_EMPTY_LINES

    def checked(self) -> CsvOptions:
        """Normalise names ('windows-1252', 'tab', 'DD/MM/YYYY'); raises CsvError on unknown ones."""
        encoding = self.encoding
        if encoding is not None:
            encoding = ENCODINGS.get(encoding.lower())
            if encoding is None:
                raise CsvError(
                    "Unknown encoding {value}: use utf-8, windows-1252 or latin-1.",
                    value=self.encoding,
                )
        delimiter = self.delimiter
        if delimiter is not None:
            delimiter = DELIMITERS.get(delimiter.lower())
            if delimiter is None:
                raise CsvError("Unknown separator {value}: use ; , tab or |.", value=self.delimiter)
        if self.decimal is not None and self.decimal not in DECIMAL_MARKS:
            raise CsvError("Unknown decimal mark {value}: use , or .", value=self.decimal)
        date_format = self.date_format
        if date_format is not None:
            date_format = _date_format_code(date_format)
        return replace(self, encoding=encoding, delimiter=delimiter, date_format=date_format)


def _date_format_code(value: str) -> str:
    lowered = value.lower()
    for code, shown in DATE_FORMATS.items():
        if lowered in (code, shown.lower()):
            return code
    if lowered in ("iso", "fr", "french", "us"):
        return {"iso": "ymd", "fr": "dmy", "french": "dmy", "us": "mdy"}[lowered]
    raise CsvError(
        "Unknown date format {value}: use DD/MM/YYYY, YYYY-MM-DD or MM/DD/YYYY.", value=value
    )


@dataclass(frozen=True)
class CsvFormat:
    """What was detected (or forced) for one file."""

    encoding: str
    delimiter: str
    decimal: str
    date_format: str

    def describe(self) -> dict[str, str]:
        return {
            "encoding": {"utf-8-sig": "utf-8 (BOM)", "cp1252": "windows-1252"}.get(
                self.encoding, self.encoding
            ),
            "delimiter": "tab" if self.delimiter == "\t" else self.delimiter,
            "decimal": self.decimal,
            "date_format": DATE_FORMATS[self.date_format],
        }


def normalise_header(name: str) -> str:
    """'Libellé ', 'Prix HT', 'VAT-Rate' → 'libelle', 'prix_ht', 'vat_rate'."""
    text = unicodedata.normalize("NFKD", name.strip().lstrip("\ufeff"))
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    return _SEPARATORS_IN_HEADER.sub("_", text).strip("_")


# -- encoding ------------------------------------------------------------------------------------


def detect_encoding(path: Path, forced: str | None = None) -> str:
    """The forced encoding or the BOM's, checked end to end; else UTF-8 if the whole file is
    valid UTF-8; else Windows-1252. CsvError names the line and column of a byte that does not
    decode, so no reading later meets one.

    A file is often opened twice in a row (its kind from the header, then its rows): the answer
    is remembered while its size and modification time stay the same. (A file changed anyway
    still cannot slip a bad byte through: the reader refuses one where it meets it.)"""
    status = path.stat()
    return _detected(path.resolve(), status.st_size, status.st_mtime_ns, forced)


@lru_cache(maxsize=32)
def _detected(path: Path, size: int, mtime_ns: int, forced: str | None) -> str:
    del size, mtime_ns  # the key: the same file unchanged
    with path.open("rb") as handle:
        bom = bom_encoding(handle.read(4))
    if forced == "utf-8" and bom == "utf-8-sig":
        forced = "utf-8-sig"
    chosen = forced or bom
    if chosen == "utf-16" and bom != "utf-16":
        chosen = "utf-16-le"  # Python's utf-16 refuses a stream without BOM; Windows writes LE
    if chosen is not None:
        _check_all_decodes(path, chosen, forced, bom)
        return chosen
    if first_undecodable(path, "utf-8") is None:
        return "utf-8"
    bad = first_undecodable(path, "cp1252")
    if bad:
        raise CsvError(
            "The file is neither UTF-8 nor Windows-1252 (line {line}): save it again as"
            ' "CSV UTF-8" from your spreadsheet.',
            line=bad[0],
        )
    return "cp1252"


def _check_all_decodes(path: Path, encoding: str, forced: str | None, bom: str | None) -> None:
    bad = first_undecodable(path, encoding)
    if bad and forced:
        raise CsvError(
            "The file is not in {encoding}: line {line} holds a byte that this encoding"
            " cannot read (column {column}). Choose another encoding or leave it to detection.",
            line=bad[0],
            column=bad[1],
            encoding=forced,
        )
    if bad:
        raise CsvError(
            "The file starts with the mark of {encoding}, but line {line}, column {column}"
            ' holds a byte that {encoding} cannot read: save it again as "CSV UTF-8" from'
            " your spreadsheet.",
            line=bad[0],
            column=bad[1],
            encoding="UTF-16" if bom == "utf-16" else "UTF-8",
        )


# -- separator -----------------------------------------------------------------------------------


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for current in line:
        if current == '"':
            quoted = not quoted
        elif current == char and not quoted:
            count += 1
    return count


def detect_delimiter(header_line: str) -> str:
    """The candidate that splits the header into the most columns; `;` wins ties (French Excel)."""
    best, best_count = ";", 0
    for candidate in (";", "\t", ",", "|"):
        count = _count_outside_quotes(header_line, candidate)
        if count > best_count:
            best, best_count = candidate, count
    return best
