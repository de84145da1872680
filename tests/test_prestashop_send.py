"""The send of a webservice connector (issue 15) against the PrestaShop simulator over HTTP: stock
and prices written only where they differ, refused PUTs reported per article and written by the
next send, products missing in the shop reported, the key only ever in the Authorization header."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from webapp.backoffice.importer import import_csv
from webapp.econnector import connectors, mappings
from webapp.econnector.connectors import Connector
from webapp.econnector.prestashop.send import ShopSendReport
from webapp.econnector.send import send
from webapp.services import Services
from webapp.simulators.prestashop import PrestaShopSimulator

PASSPHRASE = "shop send passphrase"
ARTICLES = """code;label;unit;vat_rate;price_excl_vat;tags;stock
PN;Pinot noir;BT;20;12,4;promo;30
ROSE;Crémant rosé;BT;20;15;;7
SAME;Pareil;BT;20;12,4;;5
GONE;Disparu;BT;20;9;;1
LOOSE;Sans correspondance;BT;20;3;;2
"""


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator() as simulator:
        simulator.populate_demo(orders=1)
        simulator.add_product("SAME", "Pareil", "12.400000", quantity=5)
        yield simulator


def set_up(services: Services, sim: PrestaShopSimulator, tmp_path: Path) -> Connector:
    source = tmp_path / "articles.csv"
    source.write_text(ARTICLES, encoding="utf-8")
    assert import_csv(services.store, "articles", source).committed
    services.vault.create(PASSPHRASE)
    assert sim.url is not None
    connector = connectors.save(
        services.store,
        Connector(code="PRESTA", partner="Prestashop", mode="webservice", shop_url=sim.url),
        vault=services.vault,
        key=sim.api_key,
    )
    for external, internal, variant in (
        ("PN22", "PN", ""),
        ("CREMANT", "ROSE", "CREMANT-ROSE"),
        ("SAME", "SAME", ""),
        ("NOT-IN-SHOP", "GONE", ""),
    ):
        mappings.set_mapping(services.store, connector, "article", external, internal, variant)
    return connector


@pytest.fixture
def presta(services: Services, sim: PrestaShopSimulator, tmp_path: Path) -> Connector:
    return set_up(services, sim, tmp_path)


def shop_send(services: Services, connector: Connector, **options: Any) -> ShopSendReport:
    report = send(services.store, connector, vault=services.vault, **options)
    assert isinstance(report, ShopSendReport)
    return report


def puts(sim: PrestaShopSimulator) -> list[str]:
    return [r.path.split("/api/")[1] for r in sim.requests if r.method == "PUT"]


def statuses(report: ShopSendReport) -> dict[str, str]:
    return {entry["article"]: entry["status"] for entry in report.articles}


def history_items(services: Services, run_id: int | None) -> list[dict[str, Any]]:
    with services.store.read() as db:
        rows = db.execute(
            "SELECT status, reference, message, params FROM run_items WHERE run_id = ? ORDER BY id",
            [run_id],
        ).fetchall()
    return [dict(row) for row in rows]


def test_stock_and_price_written_only_where_they_differ(
    services: Services, sim: PrestaShopSimulator, presta: Connector
) -> None:
    ids = sim.demo_ids
    same = next(p for p in sim.records("products") if p["reference"] == "SAME")
    report = shop_send(services, presta)
    assert report.counts == {
        "written": 2,
        "unchanged": 1,
        "refused": 0,
        "not_found": 1,
        "not_mapped": 1,
    }
    assert statuses(report) == {"PN": "written", "ROSE": "written", "GONE": "not_found"}
    assert not report.ok and not report.error
    # The product's price excl. VAT and its stock; the combination's own stock row.
    assert sim.record("products", ids["PN22"])["price"] == "12.400000"
    assert sim.stock(ids["PN22"]) == 30
    assert sim.stock(ids["CREMANT"], ids["CREMANT-ROSE"]) == 7
    # A combination's price is an impact on its product's: left to the shop.
    assert sim.record("products", ids["CREMANT"])["price"] == "13.750000"
    pn_row = sim.stock_row(ids["PN22"])["id"]
    rose_row = sim.stock_row(ids["CREMANT"], ids["CREMANT-ROSE"])["id"]
    assert sorted(puts(sim)) == sorted(
        [f"stock_availables/{pn_row}", f"stock_availables/{rose_row}", f"products/{ids['PN22']}"]
    )
    assert not any(f"/{same['id']}" in path for path in puts(sim))  # 12.40 is 12.400000
    items = history_items(services, report.run_id)
    assert [(i["status"], i["reference"]) for i in items] == [
        ("error", "PRESTA:GONE"),
        ("sent", "PRESTA:PN"),
        ("sent", "PRESTA:ROSE"),
    ]
    assert "NOT-IN-SHOP" in items[0]["params"]
    # A second send finds everything as it should be and PUTs nothing.
    sim.requests.clear()
    again = shop_send(services, presta)
    assert again.counts["written"] == 0 and again.counts["unchanged"] == 3
    assert puts(sim) == []


def test_the_key_travels_only_in_the_authorization_header(
    services: Services,
    sim: PrestaShopSimulator,
    presta: Connector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim.fail_next(1, status=503, path_contains="stock_availables", method="PUT")  # a retry logs
    with caplog.at_level(logging.DEBUG):
        report = shop_send(services, presta)
    assert report.counts["written"] == 2
    assert caplog.records and sim.api_key not in caplog.text
    assert sim.requests and all(r.auth == "basic" for r in sim.requests)
    assert not any(sim.api_key in f"{r.path}?{r.query}" for r in sim.requests)
    assert sim.api_key not in json.dumps(report.as_dict())
    assert sim.api_key not in json.dumps(history_items(services, report.run_id))


def test_a_refused_put_is_reported_per_article_and_written_next_time(
    services: Services, sim: PrestaShopSimulator, presta: Connector
) -> None:
    ids = sim.demo_ids
    sim.block_put = True
    blocked = shop_send(services, presta)
    assert blocked.counts["refused"] == 2 and blocked.counts["written"] == 0
    assert statuses(blocked) == {"PN": "refused", "ROSE": "refused", "GONE": "not_found"}
    assert all("405" in e["detail"] for e in blocked.articles if e["status"] == "refused")
    assert sim.stock(ids["PN22"]) == 120 and sim.record("products", 1)["price"] == "17.500000"
    items = history_items(services, blocked.run_id)
    assert {i["status"] for i in items} == {"error"}  # nothing reported done
    sim.block_put = False
    later = shop_send(services, presta)
    assert statuses(later) == {"PN": "written", "ROSE": "written", "GONE": "not_found"}
    assert sim.stock(ids["PN22"]) == 30 and sim.stock(ids["CREMANT"], ids["CREMANT-ROSE"]) == 7


def test_half_written_is_refused_and_the_rest_written_next_time(
    services: Services, sim: PrestaShopSimulator, presta: Connector
) -> None:
    ids = sim.demo_ids
    sim.fail_next(1, status=403, path_contains="/products/", method="PUT")
    first = shop_send(services, presta)
    pn = next(e for e in first.articles if e["article"] == "PN")
    assert pn["status"] == "refused" and pn["written"] == "stock" and "403" in pn["detail"]
    assert sim.stock(ids["PN22"]) == 30 and sim.record("products", 1)["price"] == "17.500000"
    sim.requests.clear()
    second = shop_send(services, presta)
    assert statuses(second)["PN"] == "written"
    assert puts(sim) == [f"products/{ids['PN22']}"]  # the stock was already right
    assert sim.record("products", ids["PN22"])["price"] == "12.400000"


def test_overrides_choose_the_articles_for_one_send(
    services: Services, sim: PrestaShopSimulator, presta: Connector
) -> None:
    report = shop_send(
        services, presta, overrides={"send_articles": "filter", "article_filter": "promo"}
    )
    assert statuses(report) == {"PN": "written"}
    assert report.counts["unchanged"] == 0 and report.ok
    assert connectors.get(services.store, "PRESTA").send_articles == presta.send_articles


def test_a_shop_that_stops_answering_ends_the_send_with_its_reason(
    services: Services, sim: PrestaShopSimulator, presta: Connector
) -> None:
    sim.stop()
    report = shop_send(services, presta)
    assert report.error and not report.ok and report.counts["written"] == 0
    with services.store.read() as db:
        run = db.execute("SELECT status FROM runs WHERE id = ?", [report.run_id]).fetchone()
    assert run["status"] == "failed"


def test_a_locked_vault_is_a_clear_error(
    services: Services, sim: PrestaShopSimulator, presta: Connector
) -> None:
    services.vault.lock()
    with pytest.raises(connectors.ConnectorError, match="vault"):
        send(services.store, presta, vault=services.vault)
    assert sim.requests == []
