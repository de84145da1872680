"""CSV habits (ECN-10): encoding, separator, decimal mark and date detection; limits; safe writing."""

from __future__ import annotations

import codecs
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from webapp.csvio import (
    MAX_EMPTY_LINES,
    CsvError,
    CsvOptions,
    CsvReader,
    CsvWriter,
    ValueProblem,
    WriteFormat,
    detect_date_format,
    detect_decimal,
    detect_delimiter,
    normalise_header,
    parse_date,
    parse_decimal,
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def read_all(path: Path, **options: str) -> tuple[CsvReader, list[tuple[int, list[str]]]]:
    with CsvReader(path, CsvOptions(**options), decimal_columns={"price"}) as reader:  # type: ignore[arg-type]
        return reader, [(record.line, record.values) for record in reader]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("cp1252", "cp1252")],
)
def test_encoding_is_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    path = write(tmp_path / "a.csv", "code;libellé\nA1;Crémant rosé\n", encoding)
    reader, rows = read_all(path)
    assert reader.format.encoding == expected
    assert reader.header == ["code", "libelle"]
    assert rows == [(2, ["A1", "Crémant rosé"])]


def test_windows_1252_found_far_into_the_file(tmp_path: Path) -> None:
    lines = ["code;label"] + [f"A{i};plain" for i in range(5000)] + ["Z;Côte-d'Or"]
    path = write(tmp_path / "late.csv", "\n".join(lines) + "\n", "cp1252")
    reader, rows = read_all(path)
    assert reader.format.encoding == "cp1252"
    assert rows[-1] == (5002, ["Z", "Côte-d'Or"])


def test_forced_utf8_on_a_windows_1252_file_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "code;label\nA1;ok\nA2;Mâcon\n", "cp1252")
    with pytest.raises(CsvError) as caught:
        CsvReader(path, CsvOptions(encoding="utf-8"))
    assert caught.value.line == 3
    assert "utf-8" in caught.value.translated()


def test_forced_windows_1252_on_a_utf8_file_warns_of_mojibake(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "code;label\nA1;Mâcon\n")
    reader, rows = read_all(path, encoding="windows-1252")
    assert rows[0][1][1] == "MÃ¢con"
    assert reader.warnings, "reading UTF-8 as Windows-1252 must be flagged"


def test_neither_utf8_nor_windows_1252_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"code;label\nA1;ok\nA2;\x81\x8d\xff\n")
    with pytest.raises(CsvError) as caught:
        CsvReader(path)
    assert caught.value.line == 3


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "code\tlabel\r\nA1\tÉté\r\n".encode("utf-16-le"))
    reader, rows = read_all(path)
    assert reader.format.delimiter == "\t"
    assert rows == [(2, ["A1", "Été"])]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("a;b;c", ";"), ("a,b,c", ","), ("a\tb\tc", "\t"), ("a|b|c", "|"), ('"x;y",b,c', ",")],
)
def test_delimiter_detection(header: str, expected: str) -> None:
    assert detect_delimiter(header) == expected


def test_delimiter_can_be_forced(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "code,label;x\nA1,B;C\n")
    reader, rows = read_all(path, delimiter=";")
    assert reader.header == ["code,label", "x"]
    assert rows == [(2, ["A1,B", "C"])]


def test_unknown_options_are_refused() -> None:
    for options in (
        CsvOptions(encoding="ebcdic"),
        CsvOptions(delimiter="#"),
        CsvOptions(decimal=":"),
        CsvOptions(date_format="YY.MM"),
    ):
        with pytest.raises(CsvError):
            options.checked()


def test_decimal_detection() -> None:
    assert detect_decimal(["12,50", "3", "1 234,5"], ";") == ","
    assert detect_decimal(["12.50", "3", "1,234.5"], ",") == "."
    assert detect_decimal(["1.234", "12"], ";") == ","  # ambiguous: the French default for ';'
    assert detect_decimal(["1.234", "12"], ",") == "."


def test_decimal_mark_is_detected_from_the_values(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "code;price\nA;12.5\nB;3.75\n")
    reader, _rows = read_all(path)
    assert reader.format.decimal == "."


@pytest.mark.parametrize(
    ("raw", "mark", "expected"),
    [
        ("12,50", ",", "12.50"),
        ("1 234,50", ",", "1234.50"),
        ("1.234,50", ",", "1234.50"),
        ("1\u202f234,5 €", ",", "1234.5"),
        ("-3", ",", "-3"),
        ("1,234.50", ".", "1234.50"),
        ("0.5", ".", "0.5"),
    ],
)
def test_parse_decimal(raw: str, mark: str, expected: str) -> None:
    assert parse_decimal(raw, mark) == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "mark"), [("abc", ","), ("12.5", ","), ("1,2,3", "."), ("12,5", "."), ("1e5", ",")]
)
def test_parse_decimal_refuses(raw: str, mark: str) -> None:
    with pytest.raises(ValueProblem):
        parse_decimal(raw, mark)


def test_date_detection() -> None:
    assert detect_date_format(["03/04/2024", "25/12/2024"]) == "dmy"
    assert detect_date_format(["2024-04-03"]) == "ymd"
    assert detect_date_format(["04/25/2024"]) == "mdy"
    assert detect_date_format(["03/04/2024"]) == "dmy"  # ambiguous: French first


@pytest.mark.parametrize(
    ("raw", "order", "expected"),
    [
        ("03/04/2024", "dmy", date(2024, 4, 3)),
        ("3.4.24", "dmy", date(2024, 4, 3)),
        ("2024-04-03", "dmy", date(2024, 4, 3)),
        ("2024-04-03T10:00:00Z", "ymd", date(2024, 4, 3)),
        ("04/03/2024", "mdy", date(2024, 4, 3)),
    ],
)
def test_parse_date(raw: str, order: str, expected: date) -> None:
    assert parse_date(raw, order) == expected


@pytest.mark.parametrize("raw", ["31/02/2024", "2024-13-01", "demain", "12/2024"])
def test_parse_date_refuses(raw: str) -> None:
    with pytest.raises(ValueProblem):
        parse_date(raw, "dmy")


def test_headers_are_normalised() -> None:
    assert normalise_header(" Libellé ") == "libelle"
    assert normalise_header("\ufeffPrix HT") == "prix_ht"
    assert normalise_header("VAT-Rate") == "vat_rate"


def test_empty_file_is_refused(tmp_path: Path) -> None:
    for content in (b"", codecs.BOM_UTF8, b"\r\n\r\n"):
        path = tmp_path / "empty.csv"
        path.write_bytes(content)
        with pytest.raises(CsvError) as caught:
            CsvReader(path)
        assert "empty" in caught.value.message


def test_blank_lines_are_skipped_and_lines_keep_their_numbers(tmp_path: Path) -> None:
    text = 'code;label\n\nA1;"two\nlines"\n;;\nA2;x\n'
    _reader, rows = read_all(write(tmp_path / "a.csv", text))
    assert rows == [(3, ["A1", "two\nlines"]), (6, ["A2", "x"])]


def test_a_row_is_blank_only_when_every_cell_is(tmp_path: Path) -> None:
    text = "code;label\n ;\t\n;x\n\u00a0;y\n  ;  \nA3;\n"
    _reader, rows = read_all(write(tmp_path / "a.csv", text))
    assert rows == [(3, ["", "x"]), (4, ["\u00a0", "y"]), (6, ["A3", ""])]


def test_a_10_mb_field_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("code;label\nA1;ok\nA2;" + "x" * 10_000_000 + "\n", encoding="utf-8")
    with pytest.raises(CsvError) as caught, CsvReader(path) as reader:
        list(reader)
    assert caught.value.line == 3


def test_a_10_mb_quoted_field_over_many_lines_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text('code;label\nA1;"' + "word\n" * 2_000_000 + '"\n', encoding="utf-8")
    with pytest.raises(CsvError) as caught, CsvReader(path) as reader:
        list(reader)
    assert caught.value.line == 2
    assert "100000" in caught.value.translated()


def test_file_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "code;label\n" + "A;b\n" * 100)
    with pytest.raises(CsvError) as caught:
        CsvReader(path, CsvOptions(max_file_bytes=100))
    assert "too large" in caught.value.message


def test_writer_is_excel_friendly_and_formula_safe(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with CsvWriter(path) as writer:
        writer.header(["code", "label", "price", "day"])
        writer.row(["=1+1", "+33 6 12", Decimal("12.50"), date(2024, 4, 3)])
        writer.row(["@SUM(A1)", "-x", -3, None])
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[1] == "'=1+1;'+33 6 12;12,50;03/04/2024"
    assert lines[2] == "'@SUM(A1);'-x;-3;"
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file is left behind"


def test_writer_other_format(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    fmt = WriteFormat.from_options(CsvOptions(encoding="utf-8", delimiter=",", date_format="iso"))
    with CsvWriter(path, fmt) as writer:
        writer.row(["a,b", Decimal("1.5"), date(2024, 4, 3)])
    assert path.read_bytes() == b'"a,b",1.5,2024-04-03\r\n'


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = write(tmp_path / "out.csv", "old\n")
    with pytest.raises(RuntimeError), CsvWriter(path) as writer:
        writer.row(["new"])
        raise RuntimeError("disk full")
    assert path.read_text() == "old\n"


# -- files that used to crash the reader (fuzzing): each ends in a CsvError naming line and column --


@pytest.mark.parametrize(
    ("content", "line", "column"),
    [
        # a UTF-8 BOM, then a Windows-1252 "é" on line 3, 7th character
        (codecs.BOM_UTF8 + b"code;label\nA1;ok\nA2;Caf\xe9\n", 3, 7),
        # a UTF-16 BOM and an odd number of bytes: the last character is cut in half
        (codecs.BOM_UTF16_LE + "code;label\nA1;ok\n".encode("utf-16-le") + b"A", 3, 1),
        # a UTF-16 lone surrogate on line 2
        (codecs.BOM_UTF16_LE + "code;label\nA".encode("utf-16-le") + b"\x00\xdcB\x00", 2, 2),
    ],
)
def test_a_bom_then_bytes_that_do_not_decode_is_refused(
    tmp_path: Path, content: bytes, line: int, column: int
) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(content)
    with pytest.raises(CsvError) as caught, CsvReader(path) as reader:
        list(reader)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert f"colonne {column}" in caught.value.translated()  # French first


def test_forced_utf16_on_a_file_that_is_not_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "code;label\nA;b\n")  # 15 bytes: not UTF-16
    with pytest.raises(CsvError) as caught:
        CsvReader(path, CsvOptions(encoding="utf-16"))
    assert caught.value.line is not None


@pytest.mark.parametrize("cell", ["x" * 200_000, '"' + "x" * 200_000 + '"'])
def test_a_header_cell_over_the_field_limit_is_refused(tmp_path: Path, cell: str) -> None:
    path = write(tmp_path / "a.csv", f"code;{cell};price\nA;b;1\n")
    with pytest.raises(CsvError) as caught:
        CsvReader(path)
    assert (caught.value.line, caught.value.column) == (1, 2)
    assert "100000" in caught.value.translated()


@pytest.mark.parametrize("blank", [b"\n", b"\r\n", b"\r", b";;\n"])
def test_a_run_of_empty_lines_past_the_limit_is_refused(tmp_path: Path, blank: bytes) -> None:
    for content in (b"code;label\nA;b\n" + blank * 1500, blank * 1500 + b"code;label\n"):
        path = tmp_path / "blank.csv"
        path.write_bytes(content)
        with (
            pytest.raises(CsvError) as caught,
            CsvReader(path, CsvOptions(max_empty_lines=1000)) as reader,
        ):
            list(reader)
        assert "empty lines" in caught.value.message


def test_millions_of_empty_lines_are_refused_in_seconds(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_bytes(b"code;label\nA;b\n" + b"\n" * 3_000_000 + b"B;c\n")
    started = time.monotonic()
    with pytest.raises(CsvError) as caught, CsvReader(path) as reader:
        list(reader)
    assert time.monotonic() - started < 20
    assert caught.value.line == MAX_EMPTY_LINES + 3


def test_some_empty_lines_are_still_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "code;label\n" + "\n" * 5000 + "A;b\n")
    _reader, rows = read_all(path)
    assert rows == [(5002, ["A", "b"])]


@pytest.mark.parametrize(
    "raw", ["1234567890123456789012345", "-12345678901234567890123456", "1 000 000 000 000 000"]
)
def test_parse_decimal_refuses_numbers_over_the_limit(raw: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_decimal(raw, ",")
    assert "limit" in caught.value.message


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "1e3", "1_000", "0,12345678901", "1,2,3"])
def test_parse_decimal_refuses_what_decimal_would_take(raw: str) -> None:
    with pytest.raises(ValueProblem):
        parse_decimal(raw, ",")


def test_a_folder_or_a_missing_file_is_a_csv_error(tmp_path: Path) -> None:
    (tmp_path / "folder.csv").mkdir()
    for path in (tmp_path / "folder.csv", tmp_path / "missing.csv"):
        with pytest.raises(CsvError) as caught:
            CsvReader(path)
        assert "Cannot read the file" in caught.value.message


def test_a_file_unchanged_is_scanned_for_its_encoding_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webapp import csvencoding, csvformat

    scanned: list[str] = []
    scan = csvencoding.first_undecodable

    def counted(path: Path, encoding: str) -> tuple[int, int] | None:
        scanned.append(encoding)
        return scan(path, encoding)

    monkeypatch.setattr(csvformat, "first_undecodable", counted)
    path = write(tmp_path / "a.csv", "code;label\nA1;élan\n")
    assert [csvformat.detect_encoding(path) for _ in range(3)] == ["utf-8"] * 3
    assert scanned == ["utf-8"]
    path.write_bytes("code;label\nA1;élan, été\n".encode("cp1252"))  # another size: changed
    assert csvformat.detect_encoding(path) == "cp1252"
    assert scanned == ["utf-8", "utf-8", "cp1252"]
