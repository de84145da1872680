"""Closures in a real Chromium: the sales screen of a new day offers to close the day before,
selling goes on, one click closes it, the closure is listed and its Z report opens.

The register is `relais serve --role register` in a child process, joined to the office's real
POS listener; yesterday's tickets are rows of its ticket chain, signed with its own key."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from tests.pos_fixtures import PASSPHRASE, Listener, fast_client, wait_for_articles
from tests.test_pos_closures import sell
from webapp.clock import to_iso
from webapp.config import resolve_data_dir
from webapp.pos import closures, register_config, trail_keys
from webapp.services import Services, open_services


def test_the_day_left_open_is_offered_closed_and_reported(
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
    signer = trail_keys.ensure_signer(till.vault)
    yesterday = closures.today() - timedelta(days=1)
    moment = to_iso(datetime.combine(yesterday, time(15)))
    sell(till.store, signer, moment, [("2", "10.00", "20")], [("CASH", "20.00")])
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
        offer = page.locator("#closure-banner-open")
        expect(offer).to_be_visible()
        expect(offer).to_contain_text(yesterday.strftime("%d/%m"))

        page.locator("#sell-q").fill("3700000000011")  # selling is not held up by the offer
        page.locator("#sell-q").press("Enter")
        expect(page.locator("#sell-lines tbody tr")).to_have_count(1)
        page.locator("#sell-checkout").click()
        expect(page.locator("#sell-saved")).to_be_visible()
        expect(offer).to_be_visible()  # still offered after the first sale of the day

        page.locator("#closure-banner-close").click()
        saved = page.locator("#closure-banner-saved")
        expect(saved).to_contain_text(yesterday.strftime("%d/%m/%Y"))
        expect(offer).to_have_count(0)

        saved.locator("a").click()
        expect(page.locator("#z-report")).to_be_visible()
        expect(page.locator("#z-tickets")).to_have_text("1")
        expect(page.locator("#z-total")).to_contain_text("20,00")
        expect(page.locator("#z-vat tr[data-rate='20']")).to_contain_text("16,67")
        expect(page.locator("#z-signature")).to_contain_text("…")

        page.goto(server.url + "/pos/closures")
        row = page.locator(f"#closures-table tr[data-closure='day-{yesterday.isoformat()}']")
        expect(row).to_be_visible()
        expect(page.locator("#closures-table tbody tr")).to_have_count(1)
        console.expect_status(r"/pos/closures$", 422)  # the second closure of today, refused
        page.locator("#close-day button").click()
        expect(page.locator("#closures-saved")).to_be_visible()
        page.locator("#close-day button").click()
        expect(page.locator("#closures-error")).to_be_visible()
        expect(page.locator("#closures-table tbody tr")).to_have_count(2)
        assert console.errors == []
    finally:
        context.close()
    assert "Traceback" not in server.output
