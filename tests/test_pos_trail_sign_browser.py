"""Signed tickets in a real Chromium (issue 17): a register started with its vault locked asks
for the passphrase beside the ticket, sells once unlocked, then prints the ticket: the original
first, then "DUPLICATA n° 1".

The register is `relais serve --role register` in a child process, joined to a real office
listener on 127.0.0.1 (the fixtures of test_pos_register)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.pos_fixtures import PASSPHRASE, Listener, fast_client, wait_for_articles
from webapp.config import resolve_data_dir
from webapp.pos import register_config, synchroniser
from webapp.services import Services, open_services


def test_unlock_sell_and_print_a_duplicate(
    tmp_path: Path,
    browser: Any,
    relais_server: Any,
    office_services: Services,
    office_listener: Listener,
    tokens: dict[int, str],
) -> None:
    from playwright.sync_api import expect

    from tests.browser_fixtures import CSP_LISTENER, WAIT_MS, Console

    folder = tmp_path / "till"
    till = open_services(resolve_data_dir(folder), vault_backend="file")
    till.vault.create(PASSPHRASE)
    register_config.join(till.store, till.vault, office_listener.url, 3, tokens[3], fast_client)
    synchroniser.sync_once(till.store, till.vault, fast_client)
    till.close()
    server = relais_server("--role", "register", data_dir=folder)  # no passphrase: locked
    wait_for_articles(resolve_data_dir(folder).database)
    context = browser.new_context(locale="fr-BE")
    context.add_init_script(CSP_LISTENER)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    console = Console(page)
    try:
        console.expect_status(r"/pos/sell/checkout$", 422)  # refused on purpose: locked
        page.goto(server.url + "/pos/sell")
        expect(page.locator("#sell-vault input[name=passphrase]")).to_be_visible()
        page.locator("#sell-q").fill("3700000000011")
        page.locator("#sell-q").press("Enter")
        expect(page.locator("#sell-lines tbody tr")).to_have_count(1)
        page.locator("#sell-checkout").click()
        expect(page.locator("#sell-error")).to_be_visible()
        vault = page.locator("#sell-vault")
        vault.locator("input[name=passphrase]").fill(PASSPHRASE)
        vault.locator("button[type=submit]").click()
        expect(vault.locator(".notice")).to_be_visible()
        page.locator("#sell-checkout").click()
        expect(page.locator("#sell-saved")).to_contain_text("C3-000001")

        page.goto(server.url + "/pos/tickets")
        button = page.locator("button[data-print='C3-000001']")
        with context.expect_page() as opened:
            button.click()
        original = opened.value
        expect(original.locator("#ticket-print")).to_have_attribute("data-copy", "0")
        expect(original.locator("#ticket-duplicate")).to_have_count(0)
        with context.expect_page() as opened_again:
            button.click()
        duplicate = opened_again.value
        expect(duplicate.locator("#ticket-print")).to_have_attribute("data-copy", "1")
        expect(duplicate.locator("#ticket-duplicate")).to_contain_text("1")
        console.assert_clean()
    finally:
        context.close()
    with sqlite3.connect(resolve_data_dir(folder).database) as db:
        printed = db.execute(
            "SELECT kind, fields FROM pos_trail WHERE chain = 'duplicate' ORDER BY seq"
        ).fetchall()
    assert [(kind, json.loads(fields)["reprint"]) for kind, fields in printed] == [
        ("original", 0),
        ("duplicate", 1),
    ]
