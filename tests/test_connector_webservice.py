"""The connector's webservice mode (issue 15): its settings through the wizard and the command
line, the key in the vault only, and the connection test against the PrestaShop simulator."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Client, relais
from webapp.econnector import connectors
from webapp.econnector.connectors import Connector, ConnectorError
from webapp.secrets import Vault
from webapp.services import Services
from webapp.simulators.prestashop import PrestaShopSimulator
from webapp.sockets import bind_socket

PASSPHRASE = "webservice test passphrase"


@pytest.fixture
def shop() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator() as sim:
        sim.populate_demo(orders=3)
        yield sim


@pytest.fixture
def unlocked(services: Services) -> Services:
    services.vault.create(PASSPHRASE)
    return services


def table_text(services: Services) -> str:
    with services.store.read() as db:
        return json.dumps([dict(row) for row in db.execute("SELECT * FROM connectors")])


def wizard_form(url: str, **changes: str) -> dict[str, str]:
    values = {
        "original": "",
        "code": "PRESTA",
        "partner": "Prestashop",
        "mode": "webservice",
        "shop_url": url,
        "order_states": "2, 3",
        "import_dir": "",
        "export_dir": "",
        "send_articles": "export",
        "send_customers": "all",
        "doc_type": "order",
        "reception_update": "manual",
        "step": "1",
        "action": "next",
    }
    values.update(changes)
    return values


# -- the settings ------------------------------------------------------------------------------


def test_a_webservice_connector_keeps_its_key_in_the_vault_only(
    unlocked: Services, shop: PrestaShopSimulator, tmp_path: Path
) -> None:
    assert shop.url is not None
    wanted = Connector(code="presta", partner="Prestashop", mode="webservice", shop_url=shop.url)
    saved = connectors.save(
        unlocked.store, replace_states(wanted, " 3;2 2 "), vault=unlocked.vault, key=shop.api_key
    )
    assert saved.shop_url == shop.url + "/" and saved.order_states == "3,2"
    assert saved.import_dir == saved.export_dir == ""  # no folders needed in this mode
    assert connectors.shop_key(unlocked.vault, "PRESTA") == shop.api_key
    assert shop.api_key not in table_text(unlocked)
    # Editing without a key keeps it (no vault needed); a new code moves it (the vault is).
    edited = connectors.save(
        unlocked.store, connectors.replace(saved, partner="PS 8"), code="presta"
    )
    assert edited.partner == "PS 8"
    assert connectors.shop_key(unlocked.vault, "PRESTA") == shop.api_key
    with pytest.raises(ConnectorError):
        connectors.save(unlocked.store, replace_code(edited, "SHOP2"), code="presta")
    connectors.save(
        unlocked.store, replace_code(edited, "SHOP2"), code="presta", vault=unlocked.vault
    )
    assert connectors.shop_key(unlocked.vault, "SHOP2") == shop.api_key
    assert connectors.shop_key(unlocked.vault, "PRESTA") is None
    # Back to CSV files: the key goes.
    csv = connectors.replace(
        edited, code="SHOP2", mode="csv", import_dir=str(tmp_path), export_dir=str(tmp_path)
    )
    connectors.save(unlocked.store, csv, code="SHOP2", vault=unlocked.vault)
    assert unlocked.vault.names() == []


def replace_states(connector: Connector, states: str) -> Connector:
    return connectors.replace(connector, order_states=states)


def replace_code(connector: Connector, code: str) -> Connector:
    return connectors.replace(connector, code=code, id=None)


@pytest.mark.parametrize(
    ("changes", "key", "field"),
    [
        ({"shop_url": "ftp://example.org/"}, "K" * 32, "shop_url"),
        ({"shop_url": ""}, "K" * 32, "shop_url"),
        ({"order_states": "2,x"}, "K" * 32, "order_states"),
        ({"order_states": "0"}, "K" * 32, "order_states"),
        ({}, "", "key"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_saved(
    unlocked: Services, changes: dict[str, str], key: str, field: str
) -> None:
    values: dict[str, Any] = {"shop_url": "https://example.org/boutique", **changes}
    wanted = Connector(code="BAD", partner="Prestashop", mode="webservice", **values)
    with pytest.raises(ConnectorError) as refused:
        connectors.save(unlocked.store, wanted, vault=unlocked.vault, key=key)
    assert refused.value.field == field
    assert connectors.list_all(unlocked.store) == []
    assert unlocked.vault.names() == []


def test_a_locked_vault_refuses_the_key_and_saves_nothing(services: Services) -> None:
    wanted = Connector(
        code="LOCKED", partner="Prestashop", mode="webservice", shop_url="https://example.org"
    )
    with pytest.raises(ConnectorError) as refused:
        connectors.save(services.store, wanted, vault=services.vault, key="K" * 32)
    assert refused.value.field == "key" and "vault" in refused.value.message
    assert connectors.list_all(services.store) == []


# -- the wizard --------------------------------------------------------------------------------


def test_wizard_saves_a_webservice_connector_without_showing_the_key(
    client: Client, unlocked: Services, shop: PrestaShopSimulator
) -> None:
    assert shop.url is not None
    page = client.get("/connectors/new").text
    assert 'value="webservice"' in page and 'value="webservice" disabled' not in page
    switched = client.post_form("/connectors/wizard", wizard_form("", action="refresh"))
    assert switched.status_code == 200
    assert 'name="shop_url"' in switched.text
    assert '<input type="hidden" name="import_dir"' in switched.text  # carried, not asked
    assert 'type="password"' in switched.text and 'data-action="connection-test"' in switched.text

    no_key = client.post_form("/connectors/wizard", wizard_form(shop.url))
    assert no_key.status_code == 422 and 'data-error-for="key"' in no_key.text
    bad_url = client.post_form("/connectors/wizard", wizard_form("mailto:x", key=shop.api_key))
    assert bad_url.status_code == 422 and 'data-error-for="shop_url"' in bad_url.text
    bad_states = client.post_form(
        "/connectors/wizard", wizard_form(shop.url, key=shop.api_key, order_states="2,-3")
    )
    assert bad_states.status_code == 422 and 'data-error-for="order_states"' in bad_states.text
    assert connectors.list_all(unlocked.store) == []

    step2 = client.post_form("/connectors/wizard", wizard_form(shop.url, key=shop.api_key))
    assert step2.status_code == 200 and 'data-step="2"' in step2.text
    assert shop.api_key not in step2.text
    token = _token(step2.text)
    saved = client.post_form(
        "/connectors/wizard", wizard_form(shop.url, step="3", action="save", key_token=token)
    )
    assert saved.status_code == 200 and saved.headers["HX-Redirect"] == "/connectors?saved=PRESTA"
    connector = connectors.get(unlocked.store, "PRESTA")
    assert connector.mode == "webservice" and connector.order_states == "2,3"
    assert connectors.shop_key(unlocked.vault, "PRESTA") == shop.api_key
    assert shop.api_key not in table_text(unlocked)

    # Editing: the key field comes empty, and empty keeps the stored key.
    edit = client.get("/connectors/PRESTA/edit").text
    assert shop.api_key not in edit
    assert 'name="key" type="password" value=""' in edit
    again = client.post_form(
        "/connectors/wizard",
        wizard_form(shop.url, original="PRESTA", action="save", order_states="5"),
    )
    assert again.status_code == 200
    assert connectors.get(unlocked.store, "PRESTA").order_states == "5"
    assert connectors.shop_key(unlocked.vault, "PRESTA") == shop.api_key


def _token(page: str) -> str:
    marker = 'name="key_token" value="'
    start = page.index(marker) + len(marker)
    token = page[start : page.index('"', start)]
    assert token
    return token


def test_wizard_connection_test_says_what_the_key_may_do(
    client: Client, unlocked: Services, shop: PrestaShopSimulator
) -> None:
    assert shop.url is not None
    test = wizard_form(shop.url, action="test", key=shop.api_key)
    answer = client.post_form("/connectors/wizard", test)
    assert answer.status_code == 200
    assert 'id="connection-result"' in answer.text and 'data-ok="true"' in answer.text
    assert "stock_availables" in answer.text and "Domaine du Relais" in answer.text
    assert shop.api_key not in answer.text
    assert [r.auth for r in shop.requests] == ["basic"]

    refused = client.post_form("/connectors/wizard", {**test, "key": "B" * 32})
    assert refused.status_code == 200 and 'data-ok="false"' in refused.text
    no_key = client.post_form("/connectors/wizard", {**test, "key": ""})
    assert no_key.status_code == 422 and 'data-error-for="key"' in no_key.text
    assert connectors.list_all(unlocked.store) == []


def test_wizard_post_without_csrf_is_refused(client: Client, shop: PrestaShopSimulator) -> None:
    assert shop.url is not None
    answer = client.post("/connectors/wizard", data=wizard_form(shop.url, action="test"))
    assert answer.status_code == 403
    assert shop.requests == []


# -- the command line --------------------------------------------------------------------------


def run(data: Path, *args: str, stdin: str = "", passphrase: bool = True) -> Any:
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE} if passphrase else {}
    return relais("connector", *args, data_dir=data, input=stdin, **env)


def test_cli_adds_and_tests_a_webservice_connector(
    tmp_path: Path, shop: PrestaShopSimulator
) -> None:
    assert shop.url is not None
    data = tmp_path / "data"
    common = ("--mode", "webservice", "--doc-type", "orders", "--key", "-")
    added = run(data, "add", "PRESTA", *common, "--url", shop.url, "--order-states", "2,3",
                stdin=shop.api_key + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert shop.api_key not in added.stdout + added.stderr

    tested = run(data, "test", "PRESTA", "--json")
    assert tested.returncode == 0, tested.stderr
    result = json.loads(tested.stdout)
    assert result["ok"] and "orders" in result["readable"] and result["exit_code"] == 0
    assert result["writable"] == ["products", "stock_availables"]
    assert shop.api_key not in tested.stdout + tested.stderr
    assert all(r.auth == "basic" and shop.api_key not in r.query for r in shop.requests)

    # The key is in the vault, not in the database.
    vault = Vault(data, service="unused", backend="file")
    vault.unlock(PASSPHRASE)
    assert vault.get("econnector.PRESTA.key") == shop.api_key
    with sqlite3.connect(data / "relais.sqlite") as db:
        assert shop.api_key not in json.dumps(db.execute("SELECT * FROM connectors").fetchall())

    wrong = run(data, "add", "WRONG", *common, "--url", shop.url, stdin="B" * 32 + "\n")
    assert wrong.returncode == 0, wrong.stderr
    refused = run(data, "test", "WRONG", "--json")
    assert refused.returncode == 3 and json.loads(refused.stdout)["key_refused"]

    with bind_socket("127.0.0.1", 0, fallback=False) as sock:
        port = sock.getsockname()[1]
        far = run(data, "add", "FAR", *common, "--url", f"http://127.0.0.1:{port}/shop",
                  stdin="K" * 32 + "\n")  # fmt: skip
        assert far.returncode == 0, far.stderr
        unreachable = run(data, "test", "FAR", "--json")
    assert unreachable.returncode == 1 and not json.loads(unreachable.stdout)["ok"]

    locked = run(data, "test", "PRESTA", passphrase=False)
    assert locked.returncode == 3 and "RELAIS_VAULT_PASSPHRASE" in locked.stderr


def test_cli_refuses_bad_input_and_saves_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    base = ("add", "BAD", "--mode", "webservice", "--key", "-")
    bad_url = run(data, *base, "--url", "ftp://example.org", stdin="K" * 32 + "\n")
    assert bad_url.returncode == 2 and "(shop_url)" in bad_url.stderr
    no_key = run(data, *base, "--url", "https://example.org", stdin="\n")
    assert no_key.returncode == 2 and "(key)" in no_key.stderr
    bad_states = run(data, *base, "--url", "https://example.org", "--order-states", "a",
                     stdin="K" * 32 + "\n")  # fmt: skip
    assert bad_states.returncode == 2 and "(order_states)" in bad_states.stderr
    listed = run(data, "list", "--json")
    assert json.loads(listed.stdout) == []


def test_a_copy_takes_the_key_and_a_deleted_connector_leaves_none(unlocked: Services) -> None:
    wanted = Connector(
        code="ONE", partner="Prestashop", mode="webservice", shop_url="https://example.org"
    )
    connectors.save(unlocked.store, wanted, vault=unlocked.vault, key="K" * 32)
    with pytest.raises(ConnectorError) as refused:  # without the vault, no key for the copy
        connectors.duplicate(unlocked.store, "ONE", "TWO")
    assert refused.value.field == "key"
    connectors.duplicate(unlocked.store, "ONE", "TWO", vault=unlocked.vault)
    assert connectors.shop_key(unlocked.vault, "TWO") == "K" * 32
    connectors.delete(unlocked.store, "ONE", vault=unlocked.vault)
    assert unlocked.vault.names() == ["econnector.TWO.key"]
