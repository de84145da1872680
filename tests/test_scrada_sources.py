"""Sources are independent: a Scrada account without the (assumed) partner feed is a normal state.

Against the simulator over real HTTP, in both modes: documented_only (the partner feed answers 404,
as the real service does) and full. The feed's absence is recorded per book, asked again only a
day later, and never stops the other books or companies; each book says which route delivers it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import relais
from tests.test_scrada_pull import (
    PASSPHRASE,
    _prepared,
    configure,
    delivered_files,
    run_pull,
)
from webapp import history_queries
from webapp.scrada import records, routes, source_state
from webapp.scrada.pull import NOT_OFFERED_ITEM, PARTNER_LIST_ITEM
from webapp.services import Services
from webapp.simulators.scrada import ScradaSimulator


@pytest.fixture
def documented() -> Iterator[ScradaSimulator]:
    sim = ScradaSimulator(rate_limit=None, documented_only=True)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def full() -> Iterator[ScradaSimulator]:
    sim = ScradaSimulator(rate_limit=None)
    sim.start()
    yield sim
    sim.stop()


def feed_calls(sim: ScradaSimulator, since: int = 0) -> list[str]:
    """The requests of the assumed partner feed (company list, document and statement lists)."""
    return [
        path
        for _method, path, _status in sim.requests[since:]
        if "/partner/company" in path or "/document?" in path or "/statement?" in path
    ]


def states(services: Services) -> dict[tuple[str, str, str, str], str]:
    with services.store.read() as db:
        return {
            (key.company_id, key.book_kind, key.book_id, key.source): value.state
            for key, value in source_state.all_states(db).items()
        }


def test_documented_only_account_pulls_peppol_and_records_the_feed_not_offered(
    services: Services, documented: ScradaSimulator, tmp_path: Path
) -> None:
    shop = documented.add_company("Boulangerie Dupont", documents=3, peppol=4)
    cafe = documented.add_company("Café du Centre", documents=2, peppol=2)
    root = tmp_path / "compta"
    configure(services, documented, root, company_ids=[shop.id, cafe.id])

    first = run_pull(services)
    assert first["status"] == "success", first
    assert not delivered_files(root), "no route yet: the feed is absent, Peppol is opt-in"
    found = states(services)
    assert found[("", "", "", "partner")] == "not-offered"
    for company in (shop, cafe):
        for book in (*company.journals, *company.cash_books):
            kind = "daily-receipts" if book in company.journals else "cash-book"
            assert found[(company.id, kind, book.id, "partner")] == "not-offered"
    items = history_queries.run_items(services.store, first["id"])
    assert {item["status"] for item in items} == {"skipped"}, "a missing feed is no error"
    messages = [item["message"] for item in items]
    assert messages.count(PARTNER_LIST_ITEM) == 1
    assert messages.count(NOT_OFFERED_ITEM) == 4

    book_routes = routes.routes_by_book(services.store, routes.SetUp())
    receipts = [r for r in book_routes if r.book_kind in ("daily-receipts", "cash-book")]
    assert len(receipts) == 4 and all(r.advice == routes.NO_ROUTE for r in receipts)
    peppol = [r for r in book_routes if r.book_kind == "peppol-inbound"]
    assert len(peppol) == 2 and all(r.advice == routes.PEPPOL_OPT_IN for r in peppol)

    for company in (shop, cafe):
        assert records.set_selected(services.store, company.id, True, ("peppol-inbound", "peppol"))
    asked = len(documented.requests)
    second = run_pull(services)
    assert second["status"] == "success", second
    assert not feed_calls(documented, asked), "not offered: not asked again within the day"
    assert len(delivered_files(root)) == 6
    assert documented.confirmed == {*shop.peppol, *cafe.peppol}
    assert not [
        i
        for i in history_queries.run_items(services.store, second["id"])
        if i["message"]
        in (
            NOT_OFFERED_ITEM,
            PARTNER_LIST_ITEM,
        )
    ], "the absence is said once, not on every pull"
    shop_peppol = next(
        r
        for r in routes.routes_by_book(services.store, routes.SetUp())
        if r.company_id == shop.id and r.book_kind == "peppol-inbound"
    )
    assert shop_peppol.route == "api" and shop_peppol.advice == routes.PEPPOL_CONSUMES
    assert shop_peppol.sources[0].delivered == 4

    with services.store.write() as db:
        db.execute("UPDATE scrada_sources SET checked_at = '2020-01-01T00:00:00Z'")
    asked = len(documented.requests)
    third = run_pull(services)
    assert third["status"] == "success", third
    calls = feed_calls(documented, asked)
    assert sum("/partner/company" in path for path in calls) == 1
    assert sum("/document?" in path or "/statement?" in path for path in calls) == 4
    asked = len(documented.requests)
    run_pull(services)
    assert not feed_calls(documented, asked), "stamped again: the next day's turn"


def test_documented_only_cli_pull_exits_0_and_status_says_the_route(
    documented: ScradaSimulator, tmp_path: Path
) -> None:
    shop = documented.add_company("Boulangerie Dupont", documents=2, peppol=1)
    data = _prepared(tmp_path, documented, company_ids=[shop.id])
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}
    done = relais("scrada", "pull", "--json", data_dir=data, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["not_offered"] == 2


def test_full_account_feed_is_offered_and_named_as_the_route(
    services: Services, full: ScradaSimulator, tmp_path: Path
) -> None:
    shop = full.add_company("Boulangerie Dupont", documents=2)
    root = tmp_path / "compta"
    configure(services, full, root)
    assert run_pull(services)["status"] == "success"
    assert len(delivered_files(root)) == 4
    found = states(services)
    assert found[("", "", "", "partner")] == "offered"
    assert found[(shop.id, "daily-receipts", shop.journals[0].id, "partner")] == "offered"
    by_kind = {r.book_kind: r for r in routes.routes_by_book(services.store, routes.SetUp())}
    assert by_kind["daily-receipts"].route == "partner"
    assert by_kind["daily-receipts"].advice is None
    assert by_kind["cash-book"].sources[0].delivered == 2
    lines = routes.routes_summary(list(by_kind.values()))
    assert any("flux partenaire" in line and "Boulangerie" in line for line in lines), lines


def test_a_book_without_the_feed_does_not_stop_the_others(
    services: Services, full: ScradaSimulator, tmp_path: Path
) -> None:
    first = full.add_company("Alpha", documents=2)
    second = full.add_company("Beta", documents=2)
    root = tmp_path / "compta"
    configure(services, full, root)
    journal = first.journals[0].id
    full.fail_next(1, status=404, path_contains=f"/journal/{journal}/document?")
    run = run_pull(services)
    assert run["status"] == "success", "not offered is a state, not an error"
    assert len(delivered_files(root)) == 2 + 4, "the other book and the other company went on"
    assert states(services)[(first.id, "daily-receipts", journal, "partner")] == "not-offered"
    assert states(services)[(first.id, "cash-book", first.cash_books[0].id, "partner")] == (
        "offered"
    )
    assert second.journals[0].id != journal


def test_a_failing_document_is_that_book_s_error_only(
    services: Services, full: ScradaSimulator, tmp_path: Path
) -> None:
    first = full.add_company("Alpha", documents=2)
    full.add_company("Beta", documents=2)
    root = tmp_path / "compta"
    configure(services, full, root)
    journal = first.journals[0].id
    document = first.journals[0].documents[0].id
    full.fail_next(1, status=404, path_contains=f"/journal/{journal}/document/{document}")
    run = run_pull(services)
    assert run["status"] == "warning", run
    assert len(delivered_files(root)) == 8 - 2, "only that journal stopped"
    errors = [
        i for i in history_queries.run_items(services.store, run["id"]) if i["status"] == "error"
    ]
    assert len(errors) == 1 and "Alpha" in json.dumps(errors[0]["params"])
    assert states(services)[(first.id, "daily-receipts", journal, "partner")] == "error"
    assert run_pull(services)["status"] == "success"
    assert len(delivered_files(root)) == 8, "the next pull takes it"


@pytest.mark.parametrize("status", [405, 501])
def test_405_and_501_of_the_feed_mean_not_offered_and_are_not_retried(
    services: Services, full: ScradaSimulator, tmp_path: Path, status: int
) -> None:
    shop = full.add_company("Alpha", documents=2)
    root = tmp_path / "compta"
    configure(services, full, root)
    cash_book = shop.cash_books[0].id
    full.fail_next(1, status=status, path_contains=f"/cashBook/{cash_book}/statement?")
    run = run_pull(services)
    assert run["status"] == "success", run
    asked = [p for _m, p, _s in full.requests if f"/cashBook/{cash_book}/statement?" in p]
    assert len(asked) == 1, "a missing route is not retried like a 5xx"
    assert states(services)[(shop.id, "cash-book", cash_book, "partner")] == "not-offered"
    assert len(delivered_files(root)) == 2, "the journal still came"
