"""Fuzzing the CSV reader and the values of the back office's columns (Hypothesis).

Any file ends in rows or in a `CsvError` naming the line; any cell ends in a value or in a
`ValueProblem`; never another exception (a fuzzer found UnicodeDecodeError, _csv.Error and
decimal.InvalidOperation before). `make fuzz` runs each property 100,000 times.
"""

from __future__ import annotations

import codecs
import contextlib
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from webapp.backoffice.column_values import value_parser
from webapp.backoffice.columns import KINDS
from webapp.backoffice.importer import ImportProblem, import_csv
from webapp.csvio import CsvError, CsvOptions, CsvReader, ValueProblem, parse_decimal
from webapp.numbers import MAX_INTEGER_DIGITS
from webapp.services import Services

_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=28)
_NUMBER = st.one_of(
    st.tuples(
        st.sampled_from(["", "-", "+", " "]),
        _DIGITS,
        st.sampled_from(["", ",", ".", " ", "\u00a0", "'"]),
        st.text(alphabet="0123456789", max_size=14),
        st.sampled_from(["", "€", " €", "%", " %", "e5"]),
    ).map("".join),
    st.sampled_from(["NaN", "-Infinity", "1e400", "sNaN", "1_000", "٣", "0x10", "+", "-", ",5"]),
)
_DATE = st.tuples(_DIGITS, st.sampled_from("-/."), _DIGITS, st.sampled_from("-/."), _DIGITS).map(
    "".join
)
_CELL = st.one_of(
    _NUMBER,
    _DATE,
    st.text(max_size=20),
    st.text(alphabet=";,|\t\"'\r\n =+-@ \ufeff\x00", max_size=12),
)
_ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-be", "latin-1")


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A file as a shop's program might write it, or break it: cells, separators, quotes, blank
    lines, then an encoding, a BOM and stray or cut bytes."""
    delimiter = draw(st.sampled_from(";,\t|"))
    rows = draw(st.lists(st.lists(_CELL, max_size=7), max_size=6))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(delimiter.join(row) for row in rows)
    encoding = draw(st.sampled_from(_ENCODINGS))
    data = codecs.encode(text, encoding, errors="replace")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=6)) + data[cut:]
    prefix = draw(st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]))
    return prefix + data


_OPTIONS = st.builds(
    CsvOptions,
    encoding=st.sampled_from([None, "utf-8", "windows-1252", "latin-1", "utf-16", "ebcdic"]),
    delimiter=st.sampled_from([None, ";", ",", "tab", "|", "::"]),
    decimal=st.sampled_from([None, ",", ".", "x"]),
    date_format=st.sampled_from([None, "dmy", "YYYY-MM-DD", "us", "julian"]),
    max_field_chars=st.integers(1, 40),  # small limits reach the limit paths with small files
    max_empty_lines=st.integers(1, 5),
    max_file_bytes=st.just(1_000_000),
)


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "fuzz.csv"


def read_every_value(path: Path, options: CsvOptions, kind_name: str) -> int:
    """Read the file and parse each cell with the column of the same position; the rows read."""
    kind = KINDS[kind_name]
    columns = list(kind.columns)
    rows = 0
    with CsvReader(
        path, options, decimal_columns=kind.decimal_columns, date_columns=kind.date_columns
    ) as reader:
        parsers = [value_parser(column, reader.format) for column in columns]
        for record in reader:
            rows += 1
            for raw, parse in zip(record.values, parsers, strict=False):
                with contextlib.suppress(ValueProblem):
                    parse(raw)
    return rows


@given(
    data=st.one_of(csv_files(), st.binary(max_size=400)),
    options=st.one_of(st.just(CsvOptions()), _OPTIONS),
    kind=st.sampled_from(sorted(KINDS)),
)
@example(data=codecs.BOM_UTF8 + b"code;label\nA;caf\xe9\n", options=CsvOptions(), kind="articles")
@example(data=codecs.BOM_UTF16_LE + b"c\x00o\x00d\x00", options=CsvOptions(), kind="articles")
@example(
    data=b"code;" + b"x" * 200_000 + b"\nA;b\n",
    options=CsvOptions(),
    kind="articles",
)
@example(
    data=b"code;label;unit;vat_rate;price_excl_vat;stock\nA;x;U;20;1;12345678901234567890123456\n",
    options=CsvOptions(),
    kind="articles",
)
def test_the_csv_reader_ends_in_rows_or_a_csv_error(
    csv_path: Path, data: bytes, options: CsvOptions, kind: str
) -> None:
    csv_path.write_bytes(data)
    try:
        read_every_value(csv_path, options, kind)
    except CsvError as error:
        assert error.message  # a msgid, with the line when the file itself is at fault
        error.translated()  # and its fields fill the message


@given(raw=st.one_of(_NUMBER, st.text(max_size=40)), mark=st.sampled_from([",", "."]))
@example(raw="1234567890123456789012345", mark=",")
@example(raw="12345678901234567890123456", mark=".")
def test_a_decimal_cell_is_a_bounded_number_or_a_value_problem(raw: str, mark: str) -> None:
    try:
        value = parse_decimal(raw, mark)
    except ValueProblem as problem:
        assert problem.message and "value" in problem.params
        return
    assert value.is_finite() and abs(value) < Decimal(10) ** MAX_INTEGER_DIGITS
    # What the handlers do with a price or a quantity must not overflow.
    value.quantize(Decimal("0.000001"), ROUND_HALF_UP)


@given(
    value=st.decimals(
        min_value=-(10**14), max_value=10**14, places=2, allow_nan=False, allow_infinity=False
    ),
    mark=st.sampled_from([",", "."]),
    grouping=st.sampled_from(["", " ", "\u00a0", "'", "group-mark"]),
    suffix=st.sampled_from(["", " €", "€"]),
)
def test_a_number_written_the_shop_way_reads_back(
    value: Decimal, mark: str, grouping: str, suffix: str
) -> None:
    """The CSV habits survive the strict parser: grouping '1 234,50', '12,5 €', either mark."""
    separator = ("." if mark == "," else ",") if grouping == "group-mark" else grouping
    digits = f"{abs(value):,.2f}".replace(",", "\x00").replace(".", mark).replace("\x00", separator)
    written = ("-" if value < 0 else "") + digits + suffix
    assert parse_decimal(written, mark) == value


# -- the whole back-office import, on a real store (dry runs: each one rolled back) --------------

_SHARED_FIXTURES = settings(
    suppress_health_check=[*settings().suppress_health_check, HealthCheck.function_scoped_fixture]
)
_IMPORT_VALUES = st.one_of(
    _NUMBER,
    st.sampled_from(
        ["U", "BT", "20", "5,5", "FR20", "FR", "Belgique", "oui", "x@y.fr", "15/03/2024", "", "A1"]
    ),
    st.text(max_size=12),
)


@st.composite
def import_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """A file of one kind with its real header (so rows reach the handlers), in any order."""
    kind = draw(st.sampled_from(["articles", "customers", "vat_rates", "units", "contacts"]))
    names = draw(st.permutations([column.name for column in KINDS[kind].columns]))
    rows = draw(
        st.lists(st.lists(_IMPORT_VALUES, min_size=len(names), max_size=len(names)), max_size=5)
    )
    text = "\n".join(";".join(row) for row in [names, *rows])
    return kind, text.encode(
        draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])), errors="replace"
    )


@_SHARED_FIXTURES
@given(file=import_files(), skip_bad=st.booleans())
@example(
    file=(
        "articles",
        b"code;label;unit;vat_rate;price_excl_vat\nA;x;U;20;1234567890123456789012345\n",
    ),
    skip_bad=False,
)
def test_a_back_office_import_ends_in_a_report_or_a_clean_error(
    services: Services, csv_path: Path, file: tuple[str, bytes], skip_bad: bool
) -> None:
    kind, data = file
    csv_path.write_bytes(data)
    try:
        report = import_csv(
            services.store, kind, csv_path, skip_bad=skip_bad, dry_run=True, record_history=False
        )
    except (CsvError, ImportProblem) as error:
        error.translated()
        return
    assert report.rows >= report.rejected and not report.committed
    for row_error in report.errors:
        row_error.translated()
