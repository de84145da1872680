"""The Peppol inbox drained: list unconfirmed → download → write → confirm, in rounds until the list
is empty, bounded per company and per pull, exactly once across a kill -9.

The documented-only simulator lists at most PEPPOL_LIST_SIZE (25) documents at a time, as Scrada
lets the next ones be listed only once earlier ones are confirmed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_scrada_pull import (
    PASSPHRASE,
    _prepared,
    configure,
    delivered_files,
    kill_pull_after,
    open_services_at,
    run_pull,
)
from webapp import history_queries
from webapp.scrada import records, sources
from webapp.scrada.pull import PEPPOL_MORE_ITEM
from webapp.services import Services
from webapp.simulators.scrada import PEPPOL_LIST_SIZE, ScradaSimulator

DOCUMENTS = 60


class WatchedSimulator(ScradaSimulator):
    """Checks, when Scrada is asked to confirm a document, that its file is already written."""

    root: Path | None = None
    confirmed_before_written: list[str]

    def _record(self, method: str, target: str, status: int) -> None:
        if method == "PUT" and target.endswith("/confirm") and self.root is not None:
            document_id = target.rsplit("/", 2)[1]
            if not any(self.root.rglob(f"*_{document_id}.xml")):
                self.confirmed_before_written.append(document_id)
        super()._record(method, target, status)


@pytest.fixture
def watched() -> Iterator[WatchedSimulator]:
    sim = WatchedSimulator(rate_limit=None, documented_only=True)
    sim.confirmed_before_written = []
    sim.start()
    yield sim
    sim.stop()


def opted_in(services: Services, sim: ScradaSimulator, root: Path, company_id: str) -> None:
    """Configured, books read once (the inbox is unticked by default), then the inbox ticked."""
    configure(services, sim, root, company_ids=[company_id])
    assert run_pull(services)["status"] == "success"
    assert not sim.confirmed, "the Peppol inbox is opt-in"
    assert records.set_selected(services.store, company_id, True, ("peppol-inbound", "peppol"))


def test_sixty_documents_are_all_taken_in_one_pull(
    services: Services, watched: WatchedSimulator, tmp_path: Path
) -> None:
    shop = watched.add_company("Boulangerie Dupont", documents=0, peppol=DOCUMENTS)
    root = tmp_path / "compta"
    watched.root = root
    opted_in(services, watched, root, shop.id)
    assert DOCUMENTS > 2 * PEPPOL_LIST_SIZE, "more than two listings' worth"
    run = run_pull(services)
    assert run["status"] == "success", run
    assert watched.confirmed == set(shop.peppol), "every document taken in one pull"
    assert watched.confirmed_before_written == [], "confirmed only once its file was written"
    written = delivered_files(root)
    assert len(written) == DOCUMENTS
    assert set(written.values()) == {watched.peppol_bytes(shop.id, d) for d in shop.peppol}
    listings = [p for _m, p, _s in watched.requests if p.endswith("/unconfirmed")]
    assert len(listings) >= 4, "in rounds: 25, 25, 10, then an empty list"
    with services.store.read() as db:
        unconfirmed = db.execute(
            "SELECT count(*) FROM scrada_deliveries WHERE confirmed_at IS NULL"
        ).fetchone()[0]
    assert unconfirmed == 0


def test_the_drain_is_bounded_per_pull_and_goes_on_next_time(
    services: Services, watched: WatchedSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "PEPPOL_RUN_LIMIT", 40)
    shop = watched.add_company("Boulangerie Dupont", documents=0, peppol=DOCUMENTS)
    other = watched.add_company("Café du Centre", documents=0, peppol=3)
    root = tmp_path / "compta"
    configure(services, watched, root, company_ids=[shop.id, other.id])
    run_pull(services)
    for company in (shop, other):
        records.set_selected(services.store, company.id, True, ("peppol-inbound", "peppol"))
    run = run_pull(services)
    assert run["status"] == "success", run
    assert len(watched.confirmed & set(shop.peppol)) == 40
    assert set(other.peppol) <= watched.confirmed, "the bound of one company spares the others"
    items = history_queries.run_items(services.store, run["id"])
    assert [item["message"] for item in items].count(PEPPOL_MORE_ITEM) == 1
    run = run_pull(services)
    assert run["status"] == "success"
    assert watched.confirmed == {*shop.peppol, *other.peppol}
    assert len(delivered_files(root)) == DOCUMENTS + 3
    assert watched.confirmed_before_written == []


def test_kill_9_in_the_middle_of_the_drain_then_every_document_once(
    watched: WatchedSimulator, tmp_path: Path
) -> None:
    shop = watched.add_company("Boulangerie Dupont", documents=0, peppol=DOCUMENTS)
    root = tmp_path / "compta"
    watched.root = root
    data = _prepared(tmp_path, watched, company_ids=[shop.id])
    with open_services_at(data) as services:
        services.vault.unlock(PASSPHRASE)
        run_pull(services)
        records.set_selected(services.store, shop.id, True, ("peppol-inbound", "peppol"))
    watched.delay_next(10_000, 0.03, path_contains="/peppol/inbound/document/")
    kill_pull_after(data, root, 30)
    killed_at = len(watched.confirmed)
    assert 0 < killed_at < DOCUMENTS, "killed in the middle of the drain"
    watched.clear_injected()
    with open_services_at(data) as services:
        services.vault.unlock(PASSPHRASE)
        run = run_pull(services)
        assert run["status"] == "success", run
        with services.store.read() as db:
            rows = db.execute(
                "SELECT document_id, count(*), min(confirmed_at IS NOT NULL)"
                " FROM scrada_deliveries WHERE book_kind = 'peppol-inbound' GROUP BY document_id"
            ).fetchall()
    assert watched.confirmed == set(shop.peppol)
    assert watched.confirmed_before_written == []
    written = delivered_files(root)
    assert len(written) == DOCUMENTS, "nothing missing, nothing doubled"
    assert sorted(written.values()) == sorted(watched.peppol_bytes(shop.id, d) for d in shop.peppol)
    assert len(rows) == DOCUMENTS and all(row[1] == 1 for row in rows)
    # Scrada's answer to a confirmation and our note of it are not one transaction: a kill -9
    # between the two loses at most the note of the one confirmation in flight.
    assert sum(1 for row in rows if not row[2]) <= 1
