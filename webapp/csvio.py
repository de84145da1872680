"""CSV as shops and their programs write it (ECN-10): detected, bounded, read line by line, written safely.

Files come from Excel, web shops and old till software: UTF-8 with or without BOM or Windows-1252;
`;`, `,` or tab; decimal comma or point; French (DD/MM/YYYY) or ISO dates. Every choice is detected
and can be forced. Errors name the file's own line (the header is line 1) and the column.

Encoding is decided by a rule, not a statistical guess: a BOM wins; else a file that is valid UTF-8
from end to end is UTF-8; else Windows-1252. The whole file is checked (fast, in C), so a stray
Windows-1252 byte on line 180,000 is found before anything is imported, with its line number.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from webapp.csvencoding import bom_encoding, first_undecodable, utf8_with_accents

# The values' parsers live in csvvalues; they are re-exported here, where the readers import them.
from webapp.csvvalues import DATE_FORMATS as DATE_FORMATS
from webapp.csvvalues import ValueProblem as ValueProblem
from webapp.csvvalues import detect_date_format as detect_date_format
from webapp.csvvalues import detect_decimal as detect_decimal
from webapp.csvvalues import parse_date as parse_date
from webapp.csvvalues import parse_decimal as parse_decimal
from webapp.csvvalues import unguard_formula as unguard_formula

# The writer lives in csvwriter; it is re-exported here, where the exports import it.
from webapp.csvwriter import FORMULA_PREFIXES as FORMULA_PREFIXES
from webapp.csvwriter import CsvWriter as CsvWriter
from webapp.csvwriter import WriteFormat as WriteFormat
from webapp.csvwriter import format_value as format_value
from webapp.csvwriter import guard_formula as guard_formula
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
SAMPLE_ROWS = 2_000

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
    decode, so no reading later meets one."""
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
        self.warnings: list[CsvError] = []
        try:
            encoding = self._open()
        except OSError as exc:  # a folder named *.csv, a file deleted or locked meanwhile
            raise CsvError(
                "Cannot read the file {file}: {detail}",
                file=str(self.path),
                detail=exc.strerror or str(exc),
            ) from exc
        try:
            self._start(encoding, set(decimal_columns), set(date_columns))
        except BaseException:
            self._handle.close()
            raise

    def _open(self) -> str:
        self._check_size()
        encoding = detect_encoding(self.path, self.options.encoding)
        if encoding in ("cp1252", "latin-1", "iso-8859-15") and utf8_with_accents(self.path):
            self.warnings.append(
                CsvError(
                    "The file looks like UTF-8 but is read as {encoding}: accents may come out"
                    " wrong (Ã© for é). Leave the encoding to detection.",
                    encoding=encoding,
                )
            )
        self._handle: IO[str] = self.path.open("r", encoding=encoding, newline="")
        return encoding

    def _check_size(self) -> None:
        size = self.path.stat().st_size
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
        header = self._header_cells(header_line, delimiter)
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

    def _header_cells(self, line: str, delimiter: str) -> list[str]:
        limit = self.options.max_field_chars
        try:
            return next(csv.reader([line], delimiter=delimiter))
        except csv.Error as exc:
            if "field larger than field limit" not in str(exc):
                raise CsvError(
                    "The file cannot be read from line {line}: {detail}",
                    line=self._line_no,
                    detail=str(exc),
                ) from exc
            raise CsvError(
                "Line {line}, column {column}: a header cell is longer than {limit} characters;"
                " the header names the columns.",
                line=self._line_no,
                column=_long_cell(line, delimiter, limit),
                limit=limit,
            ) from exc

    def _next_nonblank_line(self) -> str | None:
        for empty, line in enumerate(self._physical_lines()):
            if line.strip():
                return line
            self._check_empty_run(empty + 1)
        return None

    def _check_empty_run(self, empty: int) -> None:
        """A bound on empty lines in a row, so a file of newlines is refused in seconds."""
        if empty > self.options.max_empty_lines:
            raise CsvError(
                "Line {line}: more than {limit} empty lines in a row; this is not a CSV file of"
                " business data.",
                line=self._line_no,
                limit=self.options.max_empty_lines,
            )

    def _physical_lines(self) -> Iterator[str]:
        limit = MAX_LINE_CHARS
        while True:
            try:
                line = self._handle.readline(limit + 1)
            except UnicodeError as exc:  # the file changed since its encoding was checked
                raise CsvError(
                    "The file cannot be read from line {line}: {detail}",
                    line=self._line_no + 1,
                    detail=str(exc),
                ) from exc
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
        empty = 0
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
                empty += 1
                self._check_empty_run(empty)
                continue
            empty = 0
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


def _long_cell(line: str, delimiter: str, limit: int) -> int:
    """The 1-based number of the first cell of `line` longer than `limit` characters."""
    column, length, quoted = 1, 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            column, length = column + 1, 0
            continue
        length += 1
        if length > limit:
            break
    return column


def _csv_error_text(exc: csv.Error, limit: int) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a field is longer than {limit} characters"
    return text
