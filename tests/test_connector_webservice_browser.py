"""The wizard's webservice mode in a real browser (Debian chromium + Playwright) against `relais
serve` and the PrestaShop simulator: choosing the mode shows its fields, "Test de connexion" says
what the key may do, and "Terminer" saves the connector with its key in the vault."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console, go
from webapp.config import resolve_data_dir
from webapp.econnector import connectors
from webapp.secrets import Vault
from webapp.simulators.prestashop import PrestaShopSimulator
from webapp.store import Store

PASSPHRASE = "webservice browser passphrase"


@pytest.fixture
def shop() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator() as sim:
        sim.populate_demo(orders=2)
        yield sim


def test_wizard_webservice_mode_with_connection_test(
    relais_server: Any,
    page: Page,
    console: Console,
    tmp_path: Path,
    shop: PrestaShopSimulator,
) -> None:
    assert shop.url is not None
    data = tmp_path / "data"
    server = relais_server(data_dir=data, RELAIS_VAULT_PASSPHRASE=PASSPHRASE)

    page.goto(server.url + "/connectors")
    go(page, page.locator("#connector-list a[data-action='new']"))
    wizard = page.locator("#connector-wizard")
    expect(wizard.locator("input[name=import_dir]")).to_be_visible()
    wizard.locator("input[name=code]").fill("PRESTA")
    wizard.locator("input[name=partner]").fill("Prestashop")
    wizard.locator("input[name=mode][value=webservice]").check()

    # The step comes back with the shop's fields, without the CSV folders.
    expect(page.locator("input[name=shop_url]")).to_be_visible()
    expect(page.locator("input[name=import_dir]")).to_be_hidden()
    expect(page.locator("input[name=code]")).to_have_value("PRESTA")
    page.locator("input[name=shop_url]").fill(shop.url)
    page.locator("input[name=key]").fill("B" * 32)
    page.locator("[data-action=connection-test]").click()
    expect(page.locator("#connection-result")).to_have_attribute("data-ok", "false")

    page.locator("input[name=key]").fill(shop.api_key)
    page.locator("input[name=order_states]").fill("2,3")
    page.locator("[data-action=connection-test]").click()
    result = page.locator("#connection-result")
    expect(result).to_have_attribute("data-ok", "true")
    expect(result).to_contain_text("stock_availables")
    expect(result).to_contain_text("Domaine du Relais")
    assert shop.api_key not in page.content()

    page.get_by_role("button", name="Étape suivante").click()
    expect(page.locator("#connector-wizard")).to_have_attribute("data-step", "2")
    page.get_by_role("button", name="Étape suivante").click()
    expect(page.locator("#connector-wizard")).to_have_attribute("data-step", "3")
    with page.expect_navigation():
        page.get_by_role("button", name="Terminer").click()
    expect(page.locator("#connector-list tr[data-code='PRESTA']")).to_be_visible()
    console.assert_clean()

    store = Store(resolve_data_dir(data).database)
    try:
        saved = connectors.get(store, "PRESTA")
    finally:
        store.close()
    assert (saved.mode, saved.shop_url, saved.order_states) == (
        "webservice",
        shop.url + "/",
        "2,3",
    )
    vault = Vault(data, service="unused", backend="file")
    vault.unlock(PASSPHRASE)
    assert connectors.shop_key(vault, "PRESTA") == shop.api_key
