"""Chunks sized by time (issue 14): a chunk's transaction aims at batch.TARGET_SECONDS, a document
is never split between two transactions, and a document integrated before is not checked again,
with the same outcome as when it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_econnector import drop, line
from tests.test_econnector_batch import CHOICES, contents, open_shop, results
from webapp.econnector import batch
from webapp.econnector.inbox import SourceDocument, SourceLine
from webapp.econnector.receive import receive


def document(ref: str, lines: int) -> SourceDocument:
    source = SourceDocument(ref, "f.csv", 1, {})
    source.lines = [
        SourceLine(no, no, "A", "", "x", None, "", None, "20")  # type: ignore[arg-type]
        for no in range(lines)
    ]
    return source


def test_the_next_chunk_aims_at_the_target_time() -> None:
    sizer = batch.ChunkSizer()
    assert sizer.lines == batch.FIRST_LINES
    sizer.took(batch.TARGET_SECONDS * 2, sizer.lines)  # twice too slow: half the lines
    assert sizer.lines == batch.FIRST_LINES // 2
    sizer.took(batch.TARGET_SECONDS / 10, sizer.lines)  # much faster: grows, at most doubled
    assert sizer.lines == batch.FIRST_LINES
    for _ in range(20):
        sizer.took(0.0, sizer.lines)
    assert sizer.lines == batch.MAX_LINES
    sizer.took(100.0, sizer.lines)
    assert sizer.lines == batch.MIN_LINES


def test_a_chunk_of_documents_integrated_before_leaves_the_size() -> None:
    sizer = batch.ChunkSizer()
    sizer.took(0.0001, 0)  # nothing written: it says nothing of the rate
    sizer.took(0.0001, batch.MIN_LINES - 1)
    assert sizer.lines == batch.FIRST_LINES


def test_a_document_is_never_split_between_chunks() -> None:
    sizer = batch.ChunkSizer()
    sizer.lines = 5
    documents = [document(f"D{n}", lines) for n, lines in enumerate((3, 9, 1, 1, 1, 2))]
    chunks = list(batch.chunks(documents, sizer))
    assert [[item.doc_ref for item in chunk] for chunk in chunks] == [
        ["D0", "D1"],
        ["D2", "D3", "D4"],
        ["D5"],
    ]
    sizer.lines = 1
    assert [len(chunk) for chunk in batch.chunks(documents, sizer)] == [1] * 6


def test_the_size_is_asked_as_each_chunk_begins() -> None:
    sizer = batch.ChunkSizer()
    sizer.lines = 1
    taken = []
    for chunk in batch.chunks([document(f"D{n}", 1) for n in range(6)], sizer):
        taken.append(len(chunk))
        sizer.lines = 100  # the first transaction was fast
    assert taken == [1, 5]


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "FIRST_LINES", 4)
    monkeypatch.setattr(batch, "MAX_LINES", 4)


@pytest.mark.usefixtures("tiny_chunks")
def test_documents_integrated_before_stay_so_whatever_changed(tmp_path: Path) -> None:
    """Not checked again: a correspondence removed since does not make them refused."""
    services, connector, inbox = open_shop(tmp_path)
    try:
        lines = [line(f"B{n}", f"C{n}", "Nom", 1, "P-VR1", "1", "15", "15") for n in range(5)]
        drop(inbox, "first.csv", lines)
        assert receive(services.store, connector).count("integrated") == 5
        with services.store.write() as db:
            db.execute("DELETE FROM connector_articles")
        more = [line(f"B{n}", f"C{n}", "Nom", 1, "P-VR1", "1", "15", "15") for n in range(5, 7)]
        drop(inbox, "again.csv", lines + more)
        before = contents(services)
        analysis = receive(services.store, connector, analyse_only=True, choices=CHOICES)
        assert contents(services) == before
        report = receive(services.store, connector, choices=CHOICES)
        for done in (analysis, report):
            statuses = [result["status"] for result in results(done)]
            assert statuses == ["already"] * 5 + ["not_integrated"] * 2
        assert report.articles_without_correspondence == analysis.articles_without_correspondence
        assert [entry["article_ref"] for entry in report.articles_without_correspondence] == [
            "P-VR1"
        ]
    finally:
        services.close()
