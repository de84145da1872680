"""The integration that follows an analysis takes the documents the analysis read and checked
(webapp/econnector/reception_cache.py, issue 14), and writes what an integration that reads the
file itself writes; anything changed since the analysis (a correspondence, the file) or a
damaged spill, and the file is read and checked again."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_econnector import drop, line
from tests.test_econnector_batch import (
    CHOICES,
    contents,
    drop_with_a_boom,
    mixed_lines,
    open_shop,
    results,
)
from webapp.econnector import batch, mappings, reception, reception_cache
from webapp.econnector.batch_plan import Prepared
from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import read_documents
from webapp.econnector.receive import receive
from webapp.services import Services


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "CHUNK_DOCUMENTS", 3)


def analysed_spill(services: Services, connector: Connector, path: Path) -> Iterator[Prepared]:
    """`path` analysed: what the integration that follows takes from the spill."""
    receive(services.store, connector, analyse_only=True, choices=CHOICES)
    kept = reception_cache.checked(services.store, connector, path)
    assert kept is not None, "the analysis keeps what it checked"
    return kept


def spills(root: Path) -> list[Path]:
    return sorted((root / "data" / "reception-cache").glob("*.pickle"))


def test_the_integration_after_an_analysis_writes_what_a_reading_one_writes(
    tmp_path: Path,
) -> None:
    analysed, read = tmp_path / "analysed", tmp_path / "read"
    for root in (analysed, read):
        root.mkdir()
    first, connector, inbox = open_shop(analysed)
    second, connector_b, inbox_b = open_shop(read)
    try:
        shutil.copy2(drop(inbox, "orders.csv", mixed_lines()), inbox_b / "orders.csv")
        receive(first.store, connector, analyse_only=True, choices=CHOICES)
        assert len(spills(analysed)) == 1, "the analysis keeps what it checked"
        kept = reception_cache.checked(first.store, connector, inbox / "orders.csv")
        assert kept is not None, "nothing changed since: the integration takes it"
        read_refs = [
            document.doc_ref for document in read_documents(inbox / "orders.csv", connector)
        ]
        assert [item.document.doc_ref for item in kept] == read_refs
        report = receive(first.store, connector, choices=CHOICES)
        assert spills(analysed) == [], "the integration leaves no spill behind"
        expected = receive(second.store, connector_b, choices=CHOICES)
        assert results(report) == results(expected)
        assert report.counts == expected.counts
        assert report.correspondences_to_give == expected.correspondences_to_give
        assert contents(first) == contents(second)
    finally:
        first.close()
        second.close()


def test_a_correspondence_given_after_the_analysis_is_used(tmp_path: Path) -> None:
    services, connector, inbox = open_shop(tmp_path)
    try:
        drop(inbox, "orders.csv", mixed_lines())
        analysis = receive(services.store, connector, analyse_only=True, choices=CHOICES)
        refused = {r.doc_ref for r in analysis.documents if r.status == "not_integrated"}
        assert "M6" in refused  # P-UNKNOWN has no correspondence
        mappings.set_mapping(services.store, connector, "article", "P-UNKNOWN", "VR1")
        report = receive(services.store, connector, choices=CHOICES)
        assert next(r for r in report.documents if r.doc_ref == "M6").status == "integrated"
    finally:
        services.close()


def test_a_file_changed_after_the_analysis_is_read_again(tmp_path: Path) -> None:
    services, connector, inbox = open_shop(tmp_path)
    try:
        drop(inbox, "orders.csv", mixed_lines())
        receive(services.store, connector, analyse_only=True, choices=CHOICES)
        drop(inbox, "orders.csv", [line("N1", "NEWZ", "Nouveau", 1, "P-VR1", "1", "15", "15")])
        report = receive(services.store, connector, choices=CHOICES)
        assert [(r.doc_ref, r.status) for r in report.documents] == [("N1", "integrated")]
    finally:
        services.close()


def test_a_damaged_spill_is_not_read(tmp_path: Path) -> None:
    services, connector, inbox = open_shop(tmp_path)
    try:
        drop(inbox, "orders.csv", mixed_lines())
        analysis = receive(services.store, connector, analyse_only=True, choices=CHOICES)
        (spill,) = spills(tmp_path)
        spill.write_bytes(b"not a spill")
        report = receive(services.store, connector, choices=CHOICES)
        announced = [r.doc_ref for r in analysis.documents if r.status == "will_integrate"]
        assert [r.doc_ref for r in report.documents if r.status == "integrated"] == announced
        assert spills(tmp_path) == []
    finally:
        services.close()


def test_an_analysis_that_cannot_spill_still_analyses(tmp_path: Path) -> None:
    services, connector, inbox = open_shop(tmp_path)
    try:
        (tmp_path / "data" / "reception-cache").write_text("a file where the folder would be")
        drop(inbox, "orders.csv", mixed_lines())
        analysis = receive(services.store, connector, analyse_only=True, choices=CHOICES)
        assert all("error" not in entry for entry in analysis.files)
        report = receive(services.store, connector, choices=CHOICES)
        announced = [r.doc_ref for r in analysis.documents if r.status == "will_integrate"]
        assert [r.doc_ref for r in report.documents if r.status == "integrated"] == announced
    finally:
        services.close()


def test_a_spilled_document_makes_its_lines_when_they_are_read(tmp_path: Path) -> None:
    services, connector, inbox = open_shop(tmp_path)
    try:
        path = drop(inbox, "orders.csv", mixed_lines())
        kept = list(analysed_spill(services, connector, path))
        read = list(read_documents(path, connector))
        assert any(item.articles for item in kept) and not all(item.articles for item in kept)
        for item, document in zip(kept, read, strict=True):
            spilled = item.document
            assert isinstance(spilled, reception_cache.SpilledDocument)
            assert spilled.line_count == len(document.lines)
            # counted without being made, unless its unmapped articles are reported with them
            assert (spilled._made is None) == (not item.articles)
            assert spilled.lines == document.lines  # values, Decimals with their exponent
            assert [str(line.quantity) for line in spilled.lines] == [
                str(line.quantity) for line in document.lines
            ]
            assert (spilled.doc_ref, spilled.header) == (document.doc_ref, document.header)
    finally:
        services.close()


def test_a_chunk_replayed_after_an_analysis_writes_the_spilled_lines(tmp_path: Path) -> None:
    # The replay (a chunk failing in a way no check foresaw) takes the per-document path, which
    # reads each document's lines: a spilled document makes them then.
    analysed, read = tmp_path / "analysed", tmp_path / "read"
    shops = []
    for root in (analysed, read):
        root.mkdir()
        services, connector, inbox = open_shop(root)
        shops.append((services, connector, inbox))
        drop_with_a_boom(services, inbox)
    (first, connector, inbox), (second, connector_b, _inbox_b) = shops
    try:
        receive(first.store, connector, analyse_only=True, choices=CHOICES)
        assert reception_cache.checked(first.store, connector, inbox / "orders.csv") is not None
        report = receive(first.store, connector, choices=CHOICES)
        expected = receive(second.store, connector_b, choices=CHOICES)
        statuses = {result.doc_ref: result.status for result in report.documents}
        assert statuses.pop("R4") == "not_integrated"
        assert set(statuses.values()) == {"integrated"}
        assert results(report) == results(expected)
        assert contents(first) == contents(second)
    finally:
        first.close()
        second.close()


def test_the_analysis_keeps_each_detailed_document_s_customer_code(tmp_path: Path) -> None:
    # The page's homonym links are keyed by the outside customer code, which the analysis keeps
    # for every document it details, refused ones and the file's last ones too.
    services, connector, inbox = open_shop(tmp_path)
    try:
        path = drop(inbox, "orders.csv", mixed_lines())
        analysis = receive(services.store, connector, analyse_only=True, choices=CHOICES)
        codes = {
            document.doc_ref: str(document.header.get("customer_ref") or "")
            for document in read_documents(path, connector)
        }
        assert {r.status for r in analysis.documents} >= {"will_integrate", "not_integrated"}
        assert reception._customer_refs(analysis) == codes
        assert all("customer_ref" not in entry for entry in analysis.as_dict()["documents"])
    finally:
        services.close()
