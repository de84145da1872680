"""The till in a real Chromium: a register's menu, and its sign turning offline when the office
stops answering, then online again when it is back, without reloading the sales screen.

The register is `relais serve --role register` in a child process (its synchroniser every second);
the office is its real POS listener on a 127.0.0.1 socket, stopped and started on the same port.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.pos_fixtures import PASSPHRASE, Listener, fast_client, wait_for_articles
from webapp import settings
from webapp.config import resolve_data_dir
from webapp.pos import register_config
from webapp.services import Services, open_services

SIGN_WAIT_MS = 60_000  # a poll every 5 s after a round that may back off for a few seconds


def test_the_till_sign_follows_the_office_without_reload(
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
    till = open_services(resolve_data_dir(folder))
    till.vault.create(PASSPHRASE)
    register_config.join(till.store, till.vault, office_listener.url, 3, tokens[3], fast_client)
    settings.write_value(till.store, register_config.SYNC_INTERVAL, 1)
    till.close()
    server = relais_server(
        "--role", "register", data_dir=folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE
    )
    wait_for_articles(resolve_data_dir(folder).database)
    context = browser.new_context(locale="fr-BE")
    context.add_init_script(CSP_LISTENER)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    console = Console(page)
    try:
        page.goto(server.url + "/pos/sell")
        entries = page.locator("nav.nav a")
        expect(entries).to_have_count(6)
        names = [entries.nth(index).get_attribute("data-nav") for index in range(6)]
        assert names == ["sell", "tickets", "closures", "journal", "register", "settings"]
        expect(page.locator("nav.nav a[data-nav='sell']")).to_have_attribute("aria-current", "page")
        sign = page.locator("#till-status")
        expect(sign).to_have_attribute("data-state", "online")
        page.evaluate("window.tillNotReloaded = true")  # gone if the page were loaded again

        office_listener.stop()
        page.locator("#sell-q").fill("3700000000011")
        page.locator("#sell-q").press("Enter")
        expect(page.locator("#sell-lines tbody tr")).to_have_count(1)
        page.locator("#sell-checkout").click()  # wakes the synchroniser: its round fails
        expect(page.locator("#sell-saved")).to_contain_text("C3-000001")
        expect(sign).to_have_attribute("data-state", "offline", timeout=SIGN_WAIT_MS)
        expect(sign).to_have_attribute("data-waiting", "1")
        expect(page.locator("#till-since")).to_be_visible()

        office_listener.start()  # the office is back on the same port
        expect(sign).to_have_attribute("data-state", "online", timeout=SIGN_WAIT_MS)
        expect(sign).to_have_attribute("data-waiting", "0", timeout=SIGN_WAIT_MS)
        assert page.evaluate("window.tillNotReloaded") is True
        assert page.url == server.url + "/pos/sell"

        page.locator("nav.nav a[data-nav='tickets']").click()
        expect(page.locator("#till-tickets tr[data-ticket='C3-000001']")).to_have_attribute(
            "data-state", "sent"
        )
        console.expect_status(r"/scrada$", 404)  # refused on purpose: done at the office
        page.goto(server.url + "/scrada")
        expect(page.locator("#office-only")).to_be_visible()
        assert console.errors == []
    finally:
        context.close()
    assert "Traceback" not in server.output  # the outage was expected: no traceback logged
