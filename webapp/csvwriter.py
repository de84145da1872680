"""CSV written for spreadsheets (ECN-10): UTF-8 with BOM, `;` and decimal comma by default,
formulas neutralised, and written atomically (a reader sees the old file or the whole new one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from webapp.files import atomic_open


class WriteOptions(Protocol):
    """What a writer takes from `csvio.CsvOptions` (csvio builds on this module, not the reverse)."""

    @property
    def encoding(self) -> str | None: ...
    @property
    def delimiter(self) -> str | None: ...
    @property
    def decimal(self) -> str | None: ...
    @property
    def date_format(self) -> str | None: ...
    def checked(self) -> WriteOptions: ...


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class WriteFormat:
    encoding: str = "utf-8-sig"
    delimiter: str = ";"
    decimal: str = ","
    date_format: str = "dmy"

    @classmethod
    def from_options(cls, options: WriteOptions) -> WriteFormat:
        checked = options.checked()  # unknown names refused as on reading
        encoding = checked.encoding or "utf-8-sig"
        return cls(
            encoding="utf-8-sig" if encoding == "utf-8-sig" else encoding,
            delimiter=checked.delimiter or ";",
            decimal=checked.decimal or ("," if (checked.delimiter or ";") != "," else "."),
            date_format=checked.date_format or "dmy",
        )


def guard_formula(text: str) -> str:
    """Spreadsheets run a cell that starts with = + - @ as a formula: make it plain text."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def format_value(value: Any, fmt: WriteFormat) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(str(value)).normalize()
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", fmt.decimal)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        if fmt.date_format == "ymd":
            return value.isoformat()
        if fmt.date_format == "mdy":
            return value.strftime("%m/%d/%Y")
        return value.strftime("%d/%m/%Y")
    return guard_formula(str(value))


class CsvWriter:
    """Writes a CSV file atomically: readers see the old file or the whole new one, never a part."""

    def __init__(self, path: Path, fmt: WriteFormat | None = None) -> None:
        self.path = Path(path)
        self.format = fmt or WriteFormat()
        self.rows = 0

    def __enter__(self) -> CsvWriter:
        self._atomic = atomic_open(self.path)
        binary = self._atomic.__enter__()
        self._text = io.TextIOWrapper(
            binary, encoding=self.format.encoding, newline="", errors="replace"
        )
        self._writer = csv.writer(
            self._text, delimiter=self.format.delimiter, lineterminator="\r\n"
        )
        return self

    def header(self, names: Sequence[str]) -> None:
        self._writer.writerow(names)

    def row(self, values: Sequence[Any]) -> None:
        fmt = self.format
        self._writer.writerow([format_value(value, fmt) for value in values])
        self.rows += 1

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        try:
            self._text.flush()
            self._text.detach()
        finally:
            self._atomic.__exit__(exc_type, exc, traceback)
