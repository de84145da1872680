"""CSV as shops and their programs write it (ECN-10): detected, bounded, read line by line, written safely.

Files come from Excel, web shops and old till software: UTF-8 with or without BOM or Windows-1252;
`;`, `,` or tab; decimal comma or point; French (DD/MM/YYYY) or ISO dates. Every choice is detected
and can be forced. Errors name the file's own line (the header is line 1) and the column.

Encoding is decided by a rule, not a statistical guess: a BOM wins; else a file that is valid UTF-8
from end to end is UTF-8; else Windows-1252. The whole file is checked (fast, in C), so a stray
Windows-1252 byte on line 180,000 is found before anything is imported, with its line number.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from webapp.files import atomic_open
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
DATE_FORMATS = {"dmy": "DD/MM/YYYY", "ymd": "YYYY-MM-DD", "mdy": "MM/DD/YYYY"}

MAX_FILE_BYTES = 2 * 1024**3
MAX_FIELD_CHARS = 100_000
MAX_LINE_CHARS = 1_000_000
SAMPLE_ROWS = 2_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+(?:Z|[+-]\d\d:?\d\d)?)?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?: [0-9:]+)?$")
_SIMPLE_NUMBER = {
    ",": re.compile(r"-?\d{1,15}(?:,\d{1,10})?"),
    ".": re.compile(r"-?\d{1,15}(?:\.\d{1,10})?"),
}
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_GROUPED_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_GROUPED_POINT = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACES = str.maketrans("", "", " \u00a0\u202f'")
_SEPARATORS_IN_HEADER = re.compile(r"[\s\-./()]+")


class CsvError(UserError):
    """A file that cannot be read; `line` is the file's own line number when known."""

    def __init__(self, message: str, *, line: int | None = None, **params: Any) -> None:
        if line is not None:
            params["line"] = line
        super().__init__(message, **params)
        self.line = line


class ValueProblem(ValueError):
    """One field that does not hold what its column needs; the message is a msgid."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class CsvOptions:
    """What the user forces; None means detect."""

    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    date_format: str | None = None
    max_field_chars: int = MAX_FIELD_CHARS
    max_file_bytes: int = MAX_FILE_BYTES

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


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _first_undecodable_line(path: Path, encoding: str) -> tuple[int, int] | None:
    """Line and byte column of the first byte that `encoding` cannot decode, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                decoder.decode(raw)
            except UnicodeDecodeError as exc:
                return number, exc.start + 1
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return number, 0
    return None


def detect_encoding(path: Path, forced: str | None = None) -> str:
    with path.open("rb") as handle:
        head = handle.read(4)
    bom = _bom_encoding(head)
    if forced is not None:
        if forced == "utf-8" and bom == "utf-8-sig":
            forced = "utf-8-sig"
        if forced.startswith("utf-16"):
            return forced
        bad = _first_undecodable_line(path, forced)
        if bad:
            raise CsvError(
                "The file is not in {encoding}: line {line} holds a byte that this encoding"
                " cannot read (column {column}). Choose another encoding or leave it to detection.",
                line=bad[0],
                encoding=forced,
                column=bad[1],
            )
        return forced
    if bom:
        return bom
    if _first_undecodable_line(path, "utf-8") is None:
        return "utf-8"
    bad = _first_undecodable_line(path, "cp1252")
    if bad:
        raise CsvError(
            "The file is neither UTF-8 nor Windows-1252 (line {line}): save it again as"
            ' "CSV UTF-8" from your spreadsheet.',
            line=bad[0],
        )
    return "cp1252"


def _utf8_with_accents(path: Path) -> bool:
    """Valid UTF-8 that holds non-ASCII bytes: read as Windows-1252 it would turn into mojibake."""
    with path.open("rb") as handle:
        has_non_ascii = any(not line.isascii() for line in handle)
    return has_non_ascii and _first_undecodable_line(path, "utf-8") is None


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


# -- values --------------------------------------------------------------------------------------


def _decimal_vote(value: str) -> str | None:
    """The decimal mark one value shows, or None when it cannot tell ('1.234' or '12')."""
    commas, points = value.count(","), value.count(".")
    if commas and points:
        return "," if value.rfind(",") > value.rfind(".") else "."
    for mark, count in ((",", commas), (".", points)):
        if count > 1:
            return "." if mark == "," else ","  # repeated: a thousands separator
        if count == 1:
            digits_after = len(value) - value.index(mark) - 1
            return None if digits_after == 3 else mark
    return None


def detect_decimal(samples: Iterable[str], delimiter: str) -> str:
    votes = {",": 0, ".": 0}
    for raw in samples:
        value = raw.translate(_SPACES).replace("€", "").replace("%", "")
        if value and re.fullmatch(r"[+-]?[\d.,]+", value):
            mark = _decimal_vote(value)
            if mark:
                votes[mark] += 1
    if votes[","] != votes["."]:
        return "," if votes[","] > votes["."] else "."
    return "," if delimiter != "," else "."


def detect_date_format(samples: Iterable[str]) -> str:
    day_first = month_first = iso = 0
    for raw in samples:
        value = raw.strip()
        if _ISO_DATE.match(value):
            iso += 1
            continue
        match = _NUMERIC_DATE.match(value)
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            day_first += first > 12
            month_first += second > 12 and first <= 12
    if month_first and not day_first:
        return "mdy"
    if iso and not (day_first or month_first):
        return "ymd"
    return "dmy"


def parse_decimal(raw: str, decimal_mark: str) -> Decimal:
    """'1 234,50', '1.234,50', '12,5 €' (comma files) or '1,234.50' (point files) → Decimal."""
    if _SIMPLE_NUMBER[decimal_mark].fullmatch(raw):  # the common case, without the general rules
        return Decimal(raw.replace(",", ".") if decimal_mark == "," else raw)
    value = raw.translate(_SPACES).replace("€", "")
    other = "." if decimal_mark == "," else ","
    if other in value:
        grouped = _GROUPED_COMMA if decimal_mark == "," else _GROUPED_POINT
        if not grouped.match(value):
            raise ValueProblem(
                "{value} is not a number with a decimal {mark} (the decimal mark of this file)",
                value=raw,
                mark=decimal_mark,
            )
        value = value.replace(other, "")
    value = value.replace(decimal_mark, ".")
    if not _PLAIN_NUMBER.match(value):
        raise ValueProblem("{value} is not a number", value=raw)
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already rules this out
        raise ValueProblem("{value} is not a number", value=raw) from exc


def parse_date(raw: str, date_format: str) -> date:
    value = raw.strip()
    iso = _ISO_DATE.match(value)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        match = _NUMERIC_DATE.match(value)
        if not match or date_format == "ymd":
            raise ValueProblem(
                "{value} is not a date (expected {format})",
                value=raw,
                format=DATE_FORMATS[date_format if date_format != "ymd" else "dmy"],
            )
        first, second, year = (int(part) for part in match.groups())
        year += 2000 if len(match.group(3)) == 2 else 0
        day, month = (second, first) if date_format == "mdy" else (first, second)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueProblem("{value} is not a real date", value=raw) from exc


def unguard_formula(value: str) -> str:
    """Undo our own export guard: a leading apostrophe before = + - @ is not part of the value."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        return value[1:]
    return value


# -- reader --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    line: int
    values: list[str]


class CsvReader:
    """Opens a file, detects its format from the header and a sample, then yields its records.

    `decimal_columns` and `date_columns` (normalised header names) tell which values to look at
    when detecting the decimal mark and the date format.
    """

    def __init__(
        self,
        path: Path,
        options: CsvOptions | None = None,
        *,
        decimal_columns: Iterable[str] = (),
        date_columns: Iterable[str] = (),
    ) -> None:
        self.path = Path(path)
        self.options = (options or CsvOptions()).checked()
        self._check_size()
        encoding = detect_encoding(self.path, self.options.encoding)
        self.warnings: list[CsvError] = []
        if encoding in ("cp1252", "latin-1", "iso-8859-15") and _utf8_with_accents(self.path):
            self.warnings.append(
                CsvError(
                    "The file looks like UTF-8 but is read as {encoding}: accents may come out"
                    " wrong (Ã© for é). Leave the encoding to detection.",
                    encoding=encoding,
                )
            )
        self._handle: IO[str] = self.path.open("r", encoding=encoding, newline="")
        try:
            self._start(encoding, set(decimal_columns), set(date_columns))
        except BaseException:
            self._handle.close()
            raise

    def _check_size(self) -> None:
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            raise CsvError(
                "Cannot read the file {file}: {detail}",
                file=str(self.path),
                detail=exc.strerror or str(exc),
            ) from exc
        if size > self.options.max_file_bytes:
            raise CsvError(
                "The file is too large ({size} bytes; the limit is {limit}).",
                size=size,
                limit=self.options.max_file_bytes,
            )

    def _start(self, encoding: str, decimal_columns: set[str], date_columns: set[str]) -> None:
        self._line_no = 0
        header_line = self._next_nonblank_line()
        if header_line is None:
            raise CsvError("The file is empty: it needs a header row naming its columns.", line=1)
        delimiter = self.options.delimiter or detect_delimiter(header_line)
        csv.field_size_limit(self.options.max_field_chars)
        self._rows = csv.reader(self._physical_lines(), delimiter=delimiter)
        self._row_start = self._line_no
        header = next(csv.reader([header_line], delimiter=delimiter))
        self.raw_header = [name.strip().lstrip("\ufeff") for name in header]
        self.header = [normalise_header(name) for name in self.raw_header]
        self.header_line = self._row_start
        self._sample = self._read_sample(SAMPLE_ROWS)
        decimal = self.options.decimal or detect_decimal(
            self._column_values(decimal_columns), delimiter
        )
        date_format = self.options.date_format or detect_date_format(
            self._column_values(date_columns)
        )
        self.format = CsvFormat(encoding, delimiter, decimal, date_format)

    def _next_nonblank_line(self) -> str | None:
        for line in self._physical_lines():
            if line.strip():
                return line
        return None

    def _physical_lines(self) -> Iterator[str]:
        limit = MAX_LINE_CHARS
        while True:
            line = self._handle.readline(limit + 1)
            if not line:
                return
            self._line_no += 1
            if len(line) > limit and not line.endswith(("\n", "\r")):
                raise CsvError(
                    "Line {line} is longer than {limit} characters: this is not a CSV file of"
                    " business data, or a field was not closed by its quote.",
                    line=self._line_no,
                    limit=limit,
                )
            yield line

    def _read_records(self) -> Iterator[Record]:
        while True:
            start = self._line_no + 1
            try:
                values = next(self._rows)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CsvError(
                    "The file cannot be read from line {line}: {detail}",
                    line=start,
                    detail=_csv_error_text(exc, self.options.max_field_chars),
                ) from exc
            if not any(value.strip() for value in values):
                continue
            yield Record(start, values)

    def _read_sample(self, count: int) -> list[Record]:
        sample = []
        records = self._read_records()
        for record in records:
            sample.append(record)
            if len(sample) >= count:
                break
        self._rest = records
        return sample

    def _column_values(self, names: set[str]) -> Iterator[str]:
        indexes = [index for index, name in enumerate(self.header) if name in names]
        for record in self._sample:
            for index in indexes:
                if index < len(record.values):
                    yield record.values[index]

    def __iter__(self) -> Iterator[Record]:
        yield from self._sample
        self._sample = []
        yield from self._rest

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _csv_error_text(exc: csv.Error, limit: int) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than {limit} characters"
    return text


# -- writer --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteFormat:
    encoding: str = "utf-8-sig"
    delimiter: str = ";"
    decimal: str = ","
    date_format: str = "dmy"

    @classmethod
    def from_options(cls, options: CsvOptions) -> WriteFormat:
        checked = options.checked()
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
