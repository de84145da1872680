"""A document's line made at once from cells met valid before (inbox_lines) is the line the cell by
cell reading makes, and every line it cannot vouch for (a new or refused text, a document column
that changed, a row of another width) is read cell by cell, with the same problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_econnector import drop, line
from webapp.econnector import inbox_lines
from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import SourceDocument, read_documents
from webapp.econnector.inbox_lines import KnownLines


def rows() -> list[str]:
    def doc(ref: str, count: int, **extra: str) -> list[str]:
        articles = ("VR1", "MI1", "SV1")
        return [
            line(ref, "C1", "Durand", no, articles[no % 3], "2", "15,00", "90,00", **extra)
            for no in range(1, count + 1)
        ]

    tricky = doc("D3", 6)
    tricky[1] = tricky[1].replace(";2;;15,00;", "; 2;;15,00;")  # a new text of a known value
    tricky[2] = tricky[2].replace(";2;;15,00;", ";deux;;15,00;")  # refused
    tricky[3] = tricky[3].replace(";Lens;", ";Arras;")  # a document column changed
    tricky[4] += ";"  # one cell more, empty
    tricky[5] = tricky[5].rsplit(";", 1)[0]  # one cell less
    return [
        *doc("D1", 4),
        *doc("D2", 5),
        *tricky,
        *doc("D4", 3, variant="V", unit="BT"),  # optional cells given
        *doc("D5", 3),
        *doc("D1", 1),  # a document met again further on
    ]


def read(path: Path, monkeypatch: pytest.MonkeyPatch, *, known: bool) -> list[SourceDocument]:
    if not known:
        monkeypatch.setattr(KnownLines, "of", classmethod(lambda cls, fields, make: None))
    connector = Connector(code="WEB", partner="Shop", import_dir=str(path.parent))
    try:
        return list(read_documents(path, connector))
    finally:
        monkeypatch.undo()


def test_lines_made_at_once_are_those_read_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = drop(tmp_path, "orders.csv", rows())
    made: list[Any] = []
    maker = inbox_lines._maker

    def counting(*args: Any) -> Any:
        line_at_once = maker(*args)

        def counted(at: int, cells: list[str]) -> Any:
            found = line_at_once(at, cells)
            made.append(at)
            return found

        return counted

    monkeypatch.setattr(inbox_lines, "_maker", counting)
    at_once = list(read_documents(path, Connector(code="WEB", partner="Shop")))
    monkeypatch.undo()
    cell_by_cell = read(path, monkeypatch, known=False)
    assert at_once == cell_by_cell
    second = next(document for document in at_once if document.doc_ref == "D2")
    assert [item.line for item in second.lines if item.line in made] == [
        item.line for item in second.lines[1:4]
    ], "D2's lines 2 to 4 repeat D1's cells; its line 5 is a new line number"
    tricky = next(document for document in at_once if document.doc_ref == "D3")
    assert not set(made) & set(range(tricky.first_line, tricky.first_line + 6))
    first = tricky.first_line
    named = [(f" {first + 2}" in p and "quantity" in p) for p in tricky.problems]
    assert sum(named) == 1, tricky.problems
    assert sum((f" {first + 3}" in p and "city" in p) for p in tricky.problems) == 1
    assert any(f" {first + 5}" in p for p in tricky.problems), "the short row is refused"
    assert [item.line for item in tricky.lines] == [first, first + 1, first + 4]
    given = next(document for document in at_once if document.doc_ref == "D4")
    assert {(item.variant_ref, item.unit) for item in given.lines} == {("V", "BT")}
