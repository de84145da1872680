"""The PrestaShop reception from every entry point (issue 15, "Receive"), against the simulator
over real HTTP: `relais connector receive` in a child process (vault unlocked, locked, no key),
the browser's two steps (analysis then integration, a homonym linked on the page), the wizard and
`connector add` keeping the shipping and discount codes, the start-up banner, and duplication."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Client, relais
from tests.test_connector_web import post, run_of, wait_state
from tests.test_prestashop_receive import PASSPHRASE, shop_connector
from webapp import history_queries
from webapp.econnector import connectors
from webapp.econnector.connectors import Connector
from webapp.econnector.prestashop.receive import receive_orders
from webapp.services import Services
from webapp.simulators.prestashop import Line, PrestaShopSimulator


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator(clock_offset_seconds=-7200) as shop:
        shop.populate_demo(orders=6)
        yield shop


@pytest.fixture
def presta(services: Services, sim: PrestaShopSimulator, tmp_path: Path) -> Connector:
    return shop_connector(services, sim, tmp_path)


def count(services: Services, table: str) -> int:
    with services.store.read() as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def receive_cli(data: Path, *args: str, passphrase: bool = True) -> Any:
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE} if passphrase else {}
    return relais("connector", "receive", "PRESTA", *args, data_dir=data, **env)


# -- the command line --------------------------------------------------------------------------


def test_cli_receives_the_shop_with_the_vault_unlocked_only(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    data, runs = services.data_dir.path, count(services, "runs")  # the articles' import
    locked = receive_cli(data, "--json", passphrase=False)
    assert locked.returncode == 3 and "RELAIS_VAULT_PASSPHRASE" in locked.stdout
    assert count(services, "runs") == runs and count(services, "documents") == 0

    analysed = receive_cli(data, "--analyse-only", "--json")
    assert analysed.returncode == 0, analysed.stderr
    report = json.loads(analysed.stdout)
    assert report["files"][0]["state"] == "shop" and report["will_integrate"] > 0
    assert count(services, "documents") == 0  # an analysis writes nothing

    received = receive_cli(data, "--json")
    assert received.returncode == 0, received.stderr
    report = json.loads(received.stdout)
    assert report["not_integrated"] == 0
    assert count(services, "connector_documents") == report["integrated"] > 0
    assert sim.api_key not in received.stdout + received.stderr

    # An order on an article without correspondence is held back: exit 1, as for CSV.
    product = sim.add_product("MARC-BOURG", "Marc de Bourgogne", "30.000000", quantity=5)
    sim.add_order(sim.demo_ids["customer_petit"], [Line(product, 1)], reference="NOMAP1")
    held = receive_cli(data)
    assert held.returncode == 1, held.stderr
    assert "NOMAP1" in held.stdout
    again = receive_cli(data, "--json")
    assert again.returncode == 1 and json.loads(again.stdout)["not_integrated"] == 1


def test_cli_without_a_key_or_connector_says_so_and_starts_nothing(
    services: Services, presta: Connector
) -> None:
    assert services.vault.delete("econnector.PRESTA.key")
    data, runs = services.data_dir.path, count(services, "runs")
    no_key = receive_cli(data, "--json")
    assert no_key.returncode == 3 and "PRESTA" in json.loads(no_key.stdout)["error"]
    unknown = relais("connector", "receive", "NOPE", data_dir=data)
    assert unknown.returncode == 2
    assert count(services, "runs") == runs


def test_cli_add_sets_the_shipping_and_discount_codes(
    tmp_path: Path, sim: PrestaShopSimulator
) -> None:
    assert sim.url is not None
    data = tmp_path / "cli-data"
    added = relais(
        "connector", "add", "SHOP", "--mode", "webservice", "--url", sim.url, "--key", "-",
        "--shipping-ref", " PORT ", "--discount-ref", "REMISE", "--json",
        data_dir=data, input=sim.api_key + "\n", RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    saved = json.loads(added.stdout)
    assert saved["shipping_ref"] == "PORT" and saved["discount_ref"] == "REMISE"
    default = relais(
        "connector", "add", "SHOP2", "--mode", "webservice", "--url", sim.url, "--key", "-",
        "--json", data_dir=data, input=sim.api_key + "\n", RELAIS_VAULT_PASSPHRASE=PASSPHRASE,
    )  # fmt: skip
    assert json.loads(default.stdout)["shipping_ref"] == "SHIPPING"


# -- the browser's two steps -------------------------------------------------------------------


def test_the_two_steps_in_the_browser_with_a_homonym_linked_on_the_page(
    client: Client, services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    receive_orders(services.store, presta, vault=services.vault)  # Jean Dupont is a customer
    other = sim.add_customer("Jean", "Dupont", "jd@example.fr")
    sim.add_address(other, "1 rue Neuve", "21200", "Beaune", "FR")
    sim.add_order(other, [Line(sim.demo_ids["PN22"], 1)], reference="DUPONTWEB")
    documents, parties = count(services, "documents"), count(services, "parties")

    response = post(client, "/connectors/PRESTA/receive", {}, htmx=False)
    assert response.status_code == 303
    analysis = run_of(response)
    page = wait_state(client, analysis, "analysed", "failed")
    assert 'data-state="analysed"' in page
    assert 'data-shop="1"' in page and "data-files=" not in page  # the shop's orders, no file
    assert 'data-doc="DUPONTWEB" data-status="will_integrate"' in page
    candidate = page.split(f'name="link:{other}" value="', 2)[2].split('"')[0]
    assert candidate and candidate != "new"
    assert count(services, "documents") == documents  # the analysis wrote nothing

    url = f"/connectors/reception/{analysis}"
    refused = post(client, f"{url}/integrate", {f"link:{other}": "SOMEONE"})
    assert refused.status_code == 422 and count(services, "documents") == documents
    response = post(client, f"{url}/integrate", {f"link:{other}": candidate})
    assert response.status_code == 200
    page = wait_state(client, run_of(response), "integrated", "failed")
    assert 'data-integrated="1"' in page and 'data-file-state="shop"' in page
    assert ".bak" not in page
    assert count(services, "documents") == documents + 1
    assert count(services, "parties") == parties  # given to the existing customer


def test_a_locked_vault_ends_the_analysis_with_its_reason(
    client: Client, services: Services, presta: Connector
) -> None:
    services.vault.lock()
    response = post(client, "/connectors/PRESTA/receive", {}, htmx=False)
    analysis = run_of(response)
    page = wait_state(client, analysis, "failed", "analysed")
    assert 'data-state="failed"' in page
    run = history_queries.get_run(services.store, analysis) or {}
    assert run["status"] == "failed"
    assert run["message"] == "Unlock the secrets vault before receiving from the shop."
    assert count(services, "documents") == 0


def test_the_shops_error_reads_as_the_shops(
    client: Client, services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    assert sim.url is not None
    connectors.save(
        services.store,
        connectors.replace(presta, shop_url=sim.url + "/nowhere"),
        code="PRESTA",
        vault=services.vault,
    )
    response = post(client, "/connectors/PRESTA/receive", {}, htmx=False)
    page = wait_state(client, run_of(response), "analysed", "failed")
    assert 'data-file-error="orders"' in page and 'data-shop="0"' in page
    assert count(services, "documents") == 0


# -- the wizard, the list, the start-up banner -------------------------------------------------


def wizard_save(url: str, **changes: str) -> dict[str, str]:
    values = {
        "original": "PRESTA",
        "code": "PRESTA",
        "partner": "Prestashop",
        "mode": "webservice",
        "shop_url": url,
        "order_states": "2,3,4",
        "import_dir": "",
        "export_dir": "",
        "send_articles": "export",
        "send_customers": "all",
        "doc_type": "order",
        "reception_update": "manual",
        "step": "3",
        "action": "save",
    }
    values.update(changes)
    return values


def test_the_wizard_shows_and_keeps_the_shipping_and_discount_codes(
    client: Client, services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    assert sim.url is not None
    connectors.save(
        services.store,
        connectors.replace(presta, shipping_ref="PORT", discount_ref="REMISE"),
        code="PRESTA",
        vault=services.vault,
    )
    edit = client.get("/connectors/PRESTA/edit").text
    assert '<input type="hidden" name="shipping_ref" value="PORT">' in edit
    step3 = client.post_form("/connectors/wizard", wizard_save(sim.url, action="next", step="2",
                             shipping_ref="PORT", discount_ref="REMISE"))  # fmt: skip
    assert step3.status_code == 200 and 'data-step="3"' in step3.text
    assert 'name="shipping_ref" value="PORT" placeholder="SHIPPING"' in step3.text

    saved = client.post_form(
        "/connectors/wizard", wizard_save(sim.url, shipping_ref="PORT", discount_ref="REMISE")
    )
    assert saved.status_code == 200
    kept = connectors.get(services.store, "PRESTA")
    assert (kept.shipping_ref, kept.discount_ref) == ("PORT", "REMISE")

    # Bad input elsewhere on the form: refused, nothing saved, the codes unchanged.
    bad = client.post_form(
        "/connectors/wizard",
        wizard_save(sim.url, order_states="2,-3", shipping_ref="X", discount_ref="Y"),
    )
    assert bad.status_code == 422
    kept = connectors.get(services.store, "PRESTA")
    assert (kept.shipping_ref, kept.discount_ref) == ("PORT", "REMISE")

    # Emptied: back to the defaults the mapping expects.
    client.post_form("/connectors/wizard", wizard_save(sim.url, shipping_ref=" ", discount_ref=""))
    kept = connectors.get(services.store, "PRESTA")
    assert (kept.shipping_ref, kept.discount_ref) == ("SHIPPING", "DISCOUNT")


def test_the_list_shows_the_shop_and_warns_before_a_copy(
    client: Client, services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    listing = client.get("/connectors").text
    assert f"<small data-shop-url>{presta.shop_url}</small>" in listing
    assert "hx-confirm=" in listing.split('data-action="duplicate"')[0].rsplit("<form", 1)[1]
    response = post(client, "/connectors/PRESTA/duplicate", {"new_code": "COPY"})
    assert response.status_code == 200 and "data-copy-warning" in response.text
    assert connectors.shop_key(services.vault, "COPY") == sim.api_key
    refused = post(client, "/connectors/PRESTA/duplicate", {"new_code": "bad code!"})
    assert refused.status_code == 422 and "data-copy-warning" not in refused.text


def test_a_shop_received_at_start_up_is_not_in_the_banner(
    client: Client, services: Services, presta: Connector
) -> None:
    runs = count(services, "runs")
    connectors.save(
        services.store,
        connectors.replace(presta, reception_update="startup"),
        code="PRESTA",
        vault=services.vault,
    )
    banner = client.get("/connectors/banner")
    assert banner.status_code == 200 and 'data-waiting="PRESTA"' not in banner.text
    assert count(services, "runs") == runs  # nothing is received without a click


def test_the_sync_screen_says_where_a_shops_orders_come_from(
    client: Client, presta: Connector
) -> None:
    screen = client.get("/connectors/sync").text
    row = screen.split('id="sync-PRESTA"')[1].split("</tr>")[0]
    assert "<p data-shop-url>" in row and str(presta.shop_url) in row
    assert 'class="error"' not in row and "/connectors/spec" not in row
