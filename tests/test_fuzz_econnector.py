"""Fuzzing the e-connecteur's readers (Hypothesis): a file dropped in the import folder ends in
documents (each with its problems) or in one clean error for that file, never another exception.

The files mostly keep the real header, so the values reach the column parsers and the grouping
of lines into documents. `make fuzz` runs each property 100,000 times.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.test_fuzz_csv import _NUMBER, csv_files
from webapp.econnector.columns import DOCUMENTS, PARTIES
from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import file_kind, read_documents
from webapp.econnector.receive_parties import read_parties
from webapp.i18n import UserError

# Cheap to draw (a row has 21 cells): valid values of each column, and the usual wrong ones.
_VALUES = [
    *("23/01/2026", "2026-01-23", "31/02/2026", "01/13/2026", "2026-1-1T10:00Z", "99/99/99"),
    *("FR", "BE", "Belgique", "ZZ", "U", "BT", "20", "5,5", "FR20", "CARD", "x@y.fr", "P-VR1"),
    *("", " ", "'=1+1", '"', "a;b", "\x00", "é" * 201, "1" * 61),
    *("1", "15", "14,50", "1 234,50", "12,5 €", "1.234,56", "1,234.56", "-2", "0", "1e3", "NaN"),
    *("1" * 26, "0,12345678901", "5,5 %", "+3", "D1", "D2", " D1 "),
]
_DOCUMENT_HEADER = [column.name for column in DOCUMENTS.columns]
_PARTY_HEADER = [column.name for column in PARTIES.columns]
_CONNECTORS = st.builds(
    Connector,
    code=st.just("FUZZ"),
    csv_encoding=st.sampled_from(["", "utf-8", "windows-1252"]),
    csv_delimiter=st.sampled_from(["", ";", ","]),
    csv_decimal=st.sampled_from(["", ",", "."]),
    csv_date_format=st.sampled_from(["", "dmy", "ymd"]),
)


@st.composite
def connector_files(draw: st.DrawFn, header: list[str]) -> bytes:
    names = list(header)
    if draw(st.booleans()):
        names = draw(st.permutations(names))
        names = names[: draw(st.integers(len(names) - 2, len(names)))]
    refs = st.sampled_from(["D1", "D2", "D3", "", " D1 "])
    value = st.sampled_from(_VALUES)  # cheap draws: a row has about 21 cells
    rows = draw(
        st.lists(st.lists(value, min_size=len(names) - 1, max_size=len(names) + 1), max_size=4)
    )
    for row in rows:
        if draw(st.booleans()) and row:
            row[0] = draw(refs)  # documents of several lines, together or scattered
        if draw(st.booleans()) and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(_NUMBER)  # one number the shop way
    text = "\n".join(";".join(row) for row in [names, *rows])
    data = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])), errors="replace")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=4)) + data[cut:]
    return data


@pytest.fixture(scope="module")
def inbox_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inbox") / "received.csv"


def _documents(path: Path, connector: Connector) -> int:
    lines = 0
    for document in read_documents(path, connector):
        assert all(isinstance(problem, str) for problem in document.problems)
        lines += len(document.lines)
    return lines


@given(
    data=st.one_of(connector_files(_DOCUMENT_HEADER), csv_files()),
    connector=_CONNECTORS,
)
@example(
    data=codecs.BOM_UTF8 + (";".join(_DOCUMENT_HEADER) + "\nD1;Mâcon\n").encode("cp1252"),
    connector=Connector(code="FUZZ"),
)
@example(
    data=(";".join(_DOCUMENT_HEADER) + "\n" + "D1;" * 15 + "1" * 26 + ";U;1;20;CARD;1\n").encode(),
    connector=Connector(code="FUZZ"),
)
def test_the_document_reader_ends_in_documents_or_a_clean_error(
    inbox_file: Path, data: bytes, connector: Connector
) -> None:
    inbox_file.write_bytes(data)
    try:
        if file_kind(inbox_file, connector) == "documents":
            _documents(inbox_file, connector)
    except UserError as error:
        error.translated()


@given(data=st.one_of(connector_files(_PARTY_HEADER), csv_files()), connector=_CONNECTORS)
def test_the_party_reader_ends_in_parties_or_a_clean_error(
    inbox_file: Path, data: bytes, connector: Connector
) -> None:
    inbox_file.write_bytes(data)
    try:
        for party in read_parties(inbox_file, connector):
            assert all(isinstance(problem, str) for problem in party.problems)
    except UserError as error:
        error.translated()
