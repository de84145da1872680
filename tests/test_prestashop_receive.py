"""The reception of a PrestaShop shop's orders (issue 15), against the simulator over real HTTP:
what the first receive integrates (totals to the cent with shipping, discounts and rounding,
variants through combination references, homonyms), that nothing is integrated twice, the
cursor, held-back orders, the analysis, the shop's errors and the key kept out of URLs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from webapp import i18n
from webapp.backoffice.importer import import_csv
from webapp.econnector import batch, connectors, mappings
from webapp.econnector import receive as receiving
from webapp.econnector.connectors import Connector
from webapp.econnector.prestashop.receive import cursor_of, held_order_ids, receive_orders
from webapp.econnector.report import Choices, ReceiveReport
from webapp.services import Services
from webapp.simulators.prestashop import Line, PrestaShopSimulator
from webapp.simulators.prestashop_orders import ROUND_LINE, ROUND_TOTAL

PASSPHRASE = "reception test passphrase"
STATES = (2, 3, 4)
ARTICLES = """code;label;unit;vat_rate;price_excl_vat;tags;stock
PN22;Pinot Noir 2022;BT;20;17,5;;
POM20;Pommard 2020;BT;20;48,33;;
CREB;Crémant brut;BT;20;13,75;;
CRER;Crémant rosé;BT;20;15;;
CH75;Chardonnay 75 cl;BT;20;12,5;;
CHMAG;Chardonnay magnum;BT;20;27,5;;
ALIG;Aligoté 2023;BT;20;9,17;;
JUS;Jus de raisin;BT;5,5;4,17;;
TIRE;Tire-bouchon;U;20;6,63;;
PORT;Frais de port;U;20;0;;
REM;Remise;U;20;0;;
"""
CORRESPONDENCES = (
    ("PN22", "", "PN22"),
    ("POM20", "", "POM20"),
    ("CREMANT", "CREMANT-BRUT", "CREB"),
    ("CREMANT", "CREMANT-ROSE", "CRER"),
    ("CHARD23", "CHARD23-75", "CH75"),
    ("CHARD23", "CHARD23-MAG", "CHMAG"),
    ("ALIG23", "", "ALIG"),
    ("JUS-RAISIN", "", "JUS"),
    ("TIRE-BOUCHON", "", "TIRE"),
    ("SHIPPING", "", "PORT"),
    ("DISCOUNT", "", "REM"),
)


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator(clock_offset_seconds=-7200) as shop:
        shop.populate_demo(orders=12)
        yield shop


def shop_connector(services: Services, sim: PrestaShopSimulator, tmp_path: Path) -> Connector:
    """A PRESTA connector on `sim`, its key in a new vault, the shop's articles imported and mapped."""
    services.vault.create(PASSPHRASE)
    source = tmp_path / "articles.csv"
    source.write_text(ARTICLES, encoding="utf-8")
    assert import_csv(services.store, "articles", source).committed
    assert sim.url is not None
    connector = connectors.save(
        services.store,
        Connector(
            code="PRESTA",
            partner="Prestashop",
            mode="webservice",
            shop_url=sim.url,
            order_states=",".join(str(state) for state in STATES),
        ),
        vault=services.vault,
        key=sim.api_key,
    )
    for external, variant, internal in CORRESPONDENCES:
        mappings.set_mapping(services.store, connector, "article", external, internal, variant)
    return connector


@pytest.fixture
def presta(services: Services, sim: PrestaShopSimulator, tmp_path: Path) -> Connector:
    return shop_connector(services, sim, tmp_path)


def run(services: Services, connector: Connector, **options: Any) -> ReceiveReport:
    return receive_orders(services.store, connector, vault=services.vault, **options)


def integrated(services: Services) -> dict[str, dict[str, Any]]:
    """doc_ref -> the document's total, customer and lines (article code, quantity, amount)."""
    with services.store.read() as db:
        documents = db.execute(
            "SELECT c.doc_ref, d.id, d.total_incl_vat, p.code AS customer, p.last_name"
            " FROM connector_documents c JOIN documents d ON d.id = c.document_id"
            " LEFT JOIN parties p ON p.id = d.party_id"
        ).fetchall()
        found = {}
        for row in documents:
            lines = db.execute(
                "SELECT a.code, l.quantity, l.total_incl_vat FROM document_lines l"
                " JOIN articles a ON a.id = l.article_id WHERE l.document_id = ?"
                " ORDER BY l.line_no",
                [row["id"]],
            ).fetchall()
            found[row["doc_ref"]] = {
                "total": Decimal(str(row["total_incl_vat"])).quantize(Decimal("0.01")),
                "customer": row["customer"],
                "last_name": row["last_name"],
                "lines": [(line[0], float(line[1]), float(line[2])) for line in lines],
            }
    return found


def orders_in_states(sim: PrestaShopSimulator) -> dict[str, Decimal]:
    return {
        str(order["reference"]): Decimal(str(order["total_paid_tax_incl"])).quantize(
            Decimal("0.01")
        )
        for order in sim.records("orders")
        if int(order["current_state"]) in STATES
    }


def count(services: Services, table: str) -> int:
    with services.store.read() as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_the_first_receive_integrates_the_orders_of_the_chosen_states(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    wanted = orders_in_states(sim)
    report = run(services, presta)
    assert report.count("not_integrated") == 0, [d.reasons for d in report.documents]
    assert report.count("integrated") == len(wanted)
    documents = integrated(services)
    assert {ref: item["total"] for ref, item in documents.items()} == wanted  # to the cent
    orders = {int(order["id"]): order for order in sim.records("orders")}
    # The rounding order: 3 x 15.004 billed 45.00, on the combination's article.
    rounding = documents[str(orders[1]["reference"])]
    assert rounding["total"] == Decimal("45.00")
    assert rounding["lines"] == [("CH75", 3.0, 45.0)]
    # Shipping and a discount as lines of their own; the rosé through its combination.
    third = documents[str(orders[3]["reference"])]
    assert [line[0] for line in third["lines"]][:4] == ["CRER", "JUS", "PORT", "REM"]
    assert third["lines"][2][1:] == (1.0, 9.9) and third["lines"][3][1:] == (-1.0, -5.0)
    assert third["last_name"] == "Dupont"
    # The cursor is the shop's own date_upd of the last order, not our clock.
    last = max(str(o["date_upd"]) for o in orders.values() if int(o["current_state"]) in STATES)
    assert cursor_of(services.store, presta) == last
    # The history has the run, closed with the summary.
    with services.store.read() as db:
        status = db.execute("SELECT status FROM runs WHERE id = ?", [report.run_id]).fetchone()[0]
    assert status == "success"

    again = run(services, presta)  # nothing new: nothing changes
    assert again.total == 0 and count(services, "connector_documents") == len(wanted)


def test_rounding_of_lines_and_totals_and_split_orders(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    ids = sim.demo_ids
    petit = ids["customer_petit"]
    chard = Line(ids["CHARD23"], 3, ids["CHARD23-75"])
    sim.add_order(petit, [chard], round_type=ROUND_TOTAL, reference="TOTALROUN")
    two = [Line(ids["CHARD23"], 1, ids["CHARD23-75"]), Line(ids["CHARD23"], 1, ids["CHARD23-75"])]
    sim.add_order(petit, two, round_type=ROUND_TOTAL, shipping_incl="14.50", reference="GAPROUNDS")
    sim.add_order(
        petit, [chard], round_type=ROUND_LINE, discount_incl="5.00", reference="SPLITCART"
    )
    sim.add_order(petit, [Line(ids["PN22"], 1)], reference="SPLITCART")
    report = run(services, presta)
    assert report.count("not_integrated") == 0
    documents = integrated(services)
    for order in sim.records("orders"):
        if int(order["current_state"]) in STATES and order["reference"] != "SPLITCART":
            paid = Decimal(str(order["total_paid_tax_incl"])).quantize(Decimal("0.01"))
            assert documents[str(order["reference"])]["total"] == paid
    assert documents["TOTALROUN"]["total"] == Decimal("45.01")
    # 15.00 + 15.00 per line, 30.01 on the total: one rounding line makes up the cent.
    assert documents["GAPROUNDS"]["total"] == Decimal("44.51")
    assert documents["GAPROUNDS"]["lines"][-1] == ("REM", 1.0, 0.01)
    # One cart split in two orders of one reference: the second is named -2, by id.
    assert documents["SPLITCART"]["total"] == Decimal("40.01")
    assert documents["SPLITCART-2"]["total"] == Decimal("21.00")


def test_later_orders_and_changed_states_are_never_integrated_twice(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    run(services, presta)
    before = integrated(services)
    orders = {int(order["id"]): order for order in sim.records("orders")}
    # An integrated order moves to another chosen state; one left out enters a chosen state.
    moved = next(i for i, o in orders.items() if int(o["current_state"]) == 2)
    entering = next(i for i, o in orders.items() if int(o["current_state"]) not in STATES)
    sim.set_order_state(moved, 3)
    sim.set_order_state(entering, 2)
    ids = sim.demo_ids
    new = sim.add_order(ids["customer_petit"], [Line(ids["ALIG23"], 2)], reference="LATERORDR")
    report = run(services, presta)
    assert report.count("integrated") == 2 and report.count("already") == 1
    after = integrated(services)
    assert set(after) - set(before) == {str(orders[entering]["reference"]), "LATERORDR"}
    assert after[str(orders[moved]["reference"])] == before[str(orders[moved]["reference"])]
    assert cursor_of(services.store, presta) == str(sim.record("orders", new)["date_upd"])


def test_homonyms_are_handled_as_for_csv(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    run(services, presta)
    ids = sim.demo_ids
    # Another Jean Dupont of Beaune (same name and postcode: a homonym as for CSV), new to the
    # shop, orders after the first one became a customer.
    other = sim.add_customer("Jean", "Dupont", "jd@example.fr")
    sim.add_address(other, "1 rue Neuve", "21200", "Beaune", "FR")
    sim.add_order(other, [Line(ids["PN22"], 1)], reference="DUPONTLUX")
    report = run(services, presta, analyse_only=True)
    result = next(d for d in report.documents if d.doc_ref == "DUPONTLUX")
    assert result.customer_status == "homonym" and result.status == "will_integrate"
    assert result.customer_ref == str(other)  # the page's links are keyed by it
    assert len(result.candidates) >= 1
    # What the homonym choice shows beside the name (an order has no file to read again).
    assert result.contact == {"email": "jd@example.fr", "postcode": "21200", "city": "Beaune"}
    with services.store.read() as db:
        query = "SELECT count(*) FROM parties WHERE last_name = 'Dupont'"
        before = db.execute(query).fetchone()[0]
    run(services, presta)
    with services.store.read() as db:
        after = db.execute(query).fetchone()[0]
    assert after == before + 1  # a new customer by default, as for CSV


def test_an_unmapped_article_holds_its_order_back_until_mapped(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    ids = sim.demo_ids
    product = sim.add_product("MARC-BOURG", "Marc de Bourgogne", "30.000000", quantity=5)
    held = sim.add_order(ids["customer_petit"], [Line(product, 1)], reference="HELDBACKK")
    report = run(services, presta)
    refused = [d for d in report.documents if d.status == "not_integrated"]
    assert [d.doc_ref for d in refused] == ["HELDBACKK"]
    assert "MARC-BOURG" in refused[0].reasons[0]
    assert held_order_ids(services.store, presta) == [held]
    assert "HELDBACKK" not in integrated(services)
    # The cursor went on past it: a later receive asks it again by id.
    assert cursor_of(services.store, presta) == str(sim.record("orders", held)["date_upd"])
    again = run(services, presta)
    assert again.count("not_integrated") == 1 and again.count("integrated") == 0
    mappings.set_mapping(services.store, presta, "article", "MARC-BOURG", "ALIG")
    last = run(services, presta)
    assert last.count("integrated") == 1 and last.count("not_integrated") == 0
    assert integrated(services)["HELDBACKK"]["total"] == Decimal("36.00")
    assert held_order_ids(services.store, presta) == []


def test_the_analysis_announces_what_the_integration_does_and_writes_nothing(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    product = sim.add_product("MARC-BOURG", "Marc de Bourgogne", "30.000000", quantity=5)
    sim.add_order(sim.demo_ids["customer_petit"], [Line(product, 1)], reference="HELDBACKK")
    tables = ("documents", "document_lines", "parties", "connector_documents", "runs")
    counts = {table: count(services, table) for table in tables}
    analysis = run(services, presta, analyse_only=True)
    assert {table: count(services, table) for table in tables} == counts
    assert cursor_of(services.store, presta) is None
    assert held_order_ids(services.store, presta) == []
    done = run(services, presta)
    announced = {d.doc_ref: (d.status, d.customer_status, d.total) for d in analysis.documents}
    did = {d.doc_ref: (d.status, d.customer_status, d.total) for d in done.documents}
    renamed = {"will_integrate": "integrated"}
    assert {ref: (renamed.get(s, s), c, t) for ref, (s, c, t) in announced.items()} == did


def test_an_error_between_chunks_loses_and_doubles_nothing(
    services: Services, presta: Connector, sim: PrestaShopSimulator, monkeypatch: Any
) -> None:
    monkeypatch.setattr(batch, "CHUNK_DOCUMENTS", 2)
    wanted = orders_in_states(sim)
    calls = []

    def fail_after_two_chunks(total: int) -> None:
        calls.append(total)
        if len(calls) == 2:
            raise RuntimeError("the machine stopped here")

    broken = run(services, presta, progress=fail_after_two_chunks, page_size=3)
    assert "error" in broken.files[0]
    assert count(services, "connector_documents") == 4  # the two committed chunks
    cursor = cursor_of(services.store, presta)
    assert cursor is not None
    with services.store.read() as db:
        status = db.execute("SELECT status FROM runs WHERE id = ?", [broken.run_id]).fetchone()
    assert status[0] == "warning"
    report = run(services, presta, page_size=3)
    assert report.count("integrated") == len(wanted) - 4
    assert {ref: item["total"] for ref, item in integrated(services).items()} == wanted


def test_an_unreachable_shop_or_a_refused_key_writes_nothing(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    sim.fail_next(3, status=503)  # every try of the first request
    with i18n.language("en"):
        report = run(services, presta)
    assert report.files[0]["error"].startswith("The shop did not answer properly")
    assert count(services, "connector_documents") == 0
    assert cursor_of(services.store, presta) is None
    with services.store.read() as db:
        item = db.execute(
            "SELECT status FROM run_items WHERE run_id = ?", [report.run_id]
        ).fetchone()
    assert item is not None and item[0] == "error"
    services.vault.set(connectors.key_name("PRESTA"), "Z" * 32)
    with i18n.language("en"):
        refused = run(services, presta)
    assert "refused the webservice key" in refused.files[0]["error"]
    assert count(services, "connector_documents") == 0 and cursor_of(services.store, presta) is None


def test_the_key_never_travels_in_a_url_or_a_log(
    services: Services, presta: Connector, sim: PrestaShopSimulator, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # quietened by any server started before
    sim.fail_next(1, status=500)  # a retried request is logged
    run(services, presta)
    assert sim.requests and all(request.auth == "basic" for request in sim.requests)
    assert all(sim.api_key not in request.path + request.query for request in sim.requests)
    assert sim.api_key not in caplog.text


def test_a_homonym_linked_by_its_customer_ref(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    run(services, presta)
    other = sim.add_customer("Jean", "Dupont", "jd@example.fr")
    sim.add_address(other, "1 rue Neuve", "21200", "Beaune", "FR")
    sim.add_order(other, [Line(sim.demo_ids["PN22"], 1)], reference="DUPONTTWO")
    analysis = run(services, presta, analyse_only=True)
    (result,) = [d for d in analysis.documents if d.doc_ref == "DUPONTTWO"]
    parties = count(services, "parties")
    report = run(services, presta, choices=Choices(links={str(other): result.candidates[0]}))
    assert report.documents[0].customer_status == "linked"
    assert count(services, "parties") == parties


def test_the_reception_entry_point_receives_the_shop_not_a_folder(
    services: Services,
    sim: PrestaShopSimulator,
    presta: Connector,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A webservice connector has no import folder: a CSV file in the working directory is not
    # its business (an empty folder setting once meant ".").
    monkeypatch.chdir(tmp_path)
    stray = tmp_path / "commandes.csv"
    stray.write_text("doc_ref;doc_date\nX1;01/01/2026\n", encoding="utf-8")
    report = receiving.receive(services.store, presta, vault=services.vault)
    assert set(integrated(services)) == set(orders_in_states(sim))
    assert report.count("not_integrated") == 0
    assert stray.exists()
