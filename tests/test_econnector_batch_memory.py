"""A reception's chunks are freed as soon as they are written: no reference cycle holds them for
the cyclic collector, whose full passes over every document alive took a fifth of a reception
(a refusal kept with its traceback held the frames that held the whole chunk)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import pytest

from tests.test_econnector import drop
from tests.test_econnector_batch import mixed_lines, open_shop
from tests.test_econnector_batch_cache import analysed_spill
from webapp.backoffice.document_types import DocumentError
from webapp.econnector import batch
from webapp.econnector.batch_checks import ReferenceAnswers
from webapp.econnector.batch_customers import NewParty, Pending
from webapp.econnector.inbox import SourceDocument, read_documents
from webapp.econnector.receive import ReceiveReport


def test_a_prepared_chunk_with_refusals_is_freed_without_the_collector(tmp_path: Path) -> None:
    services, connector, inbox = open_shop(tmp_path)
    path = drop(inbox, "mixed.csv", mixed_lines())
    report = ReceiveReport(connector.code, True)
    enabled = gc.isenabled()
    gc.disable()  # only reference counting frees what follows
    try:
        with services.store.read() as reader:
            resolver = report.resolver(reader, connector)
            documents = list(read_documents(path, connector))
            prepared = batch.prepare(reader, resolver, ReferenceAnswers(), connector, documents)
            refusals = [
                item.outcome
                for item in prepared
                if item.outcome is not None
                and (
                    isinstance(item.outcome.before, DocumentError)
                    or isinstance(item.outcome.after, DocumentError)
                )
            ]
            assert refusals, "the chunk holds a document refused by its checks"
            kept = [weakref.ref(item) for item in prepared] + [weakref.ref(d) for d in documents]
            del prepared, documents, refusals
        assert [ref for ref in kept if ref() is not None] == []
    finally:
        if enabled:
            gc.enable()
        services.close()


def test_a_chunks_layer_of_new_customers_is_freed_without_the_collector() -> None:
    reception = Pending()
    reception.add_party(NewParty(1, "W000001", {"email": "a@example.fr"}, "FR"))
    enabled = gc.isenabled()
    gc.disable()
    try:
        layer = reception.layer()
        layer.add_party(NewParty(2, "W000002", {"email": "a@example.fr"}, "FR"))
        assert layer.by_email_of("a@example.fr") == ["W000002", "W000001"]
        assert layer.party("w000001") is not None, "the layers under it are asked too"
        kept: list[weakref.ref[Any]] = [weakref.ref(layer), weakref.ref(layer.parties[0])]
        del layer
        assert [ref for ref in kept if ref() is not None] == []
    finally:
        if enabled:
            gc.enable()


def test_an_integration_decodes_the_analysis_spill_one_document_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documents decoded ahead of the integration are containers every young collection between
    two chunks walks: the rest of a spilled chunk waits as bytes, which it does not."""
    monkeypatch.setattr(batch, "CHUNK_DOCUMENTS", 50)
    services, connector, inbox = open_shop(tmp_path)
    try:
        kept = analysed_spill(services, connector, drop(inbox, "mixed.csv", mixed_lines()))
        gc.collect()
        before = len(gc.get_objects())
        first = next(kept)
        containers = len(gc.get_objects()) - before
        alive = [item for item in gc.get_objects() if isinstance(item, SourceDocument)]
        assert alive == [first.document]
        assert len(list(kept)) > 10, "the spilled chunk held more documents"
        # One document decoded is about 20 containers; the whole chunk decoded was over 250.
        assert containers < 50, f"{containers} containers for one document"
    finally:
        services.close()
