"""CSV as shops and their programs write it (ECN-10): detected, bounded, read line by line, written safely.

The reader is here; what is forced or detected before reading (encoding, separator, the limits)
is in `csvformat`, the values' parsers in `csvvalues`, the writer in `csvwriter`. They are
re-exported here, where the importers and exports import them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from webapp.csvencoding import utf8_with_accents
from webapp.csvformat import DECIMAL_MARKS as DECIMAL_MARKS
from webapp.csvformat import DELIMITERS as DELIMITERS
from webapp.csvformat import ENCODINGS as ENCODINGS
from webapp.csvformat import MAX_EMPTY_LINES as MAX_EMPTY_LINES
from webapp.csvformat import MAX_FIELD_CHARS as MAX_FIELD_CHARS
from webapp.csvformat import MAX_FILE_BYTES as MAX_FILE_BYTES
from webapp.csvformat import MAX_LINE_CHARS as MAX_LINE_CHARS
from webapp.csvformat import CsvError as CsvError
from webapp.csvformat import CsvFormat as CsvFormat
from webapp.csvformat import CsvOptions as CsvOptions
from webapp.csvformat import detect_delimiter as detect_delimiter
from webapp.csvformat import detect_encoding as detect_encoding
from webapp.csvformat import normalise_header as normalise_header
from webapp.csvvalues import DATE_FORMATS as DATE_FORMATS
from webapp.csvvalues import ValueProblem as ValueProblem
from webapp.csvvalues import detect_date_format as detect_date_format
from webapp.csvvalues import detect_decimal as detect_decimal
from webapp.csvvalues import parse_date as parse_date
from webapp.csvvalues import parse_decimal as parse_decimal
from webapp.csvvalues import unguard_formula as unguard_formula
from webapp.csvwriter import FORMULA_PREFIXES as FORMULA_PREFIXES
from webapp.csvwriter import CsvWriter as CsvWriter
from webapp.csvwriter import WriteFormat as WriteFormat
from webapp.csvwriter import format_value as format_value
from webapp.csvwriter import guard_formula as guard_formula

# Rows read ahead of the first record handed out, to detect the decimal mark and the date format.
SAMPLE_ROWS = 2_000


# -- reader --------------------------------------------------------------------------------------


@dataclass(slots=True)
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
            # no value but blanks (joined: one C call), unless the first says otherwise
            if (
                not (values and values[0] and not values[0].isspace())
                and not "".join(values).strip()
            ):
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
