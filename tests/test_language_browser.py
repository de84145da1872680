"""The three languages in a real browser (Debian chromium + Playwright) against `relais serve`:
the NL button turns the dashboard and the settings into Dutch, the default-language setting offers
Nederlands, an open vault reads "Ouvert" / "Open", and an amount shows with a decimal comma in
French and Dutch and a decimal point in English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console, go
from tests.test_backoffice_browser import seed

PASSPHRASE = "correct horse battery"


def switch(tab: Page, code: str) -> None:
    go(tab, tab.locator(f"form.language button[value='{code}']"))
    expect(tab.locator("html")).to_have_attribute("lang", code)


def test_dutch_dashboard_and_settings_then_amounts_in_three_languages(
    relais_server: Any,
    page: Page,
    console: Console,
    tmp_path: Path,
) -> None:
    seed(tmp_path / "data")
    server = relais_server(data_dir=tmp_path / "data")
    page.goto(server.url + "/")
    expect(page.locator("h1")).to_have_text("Tableau de bord")
    expect(page.locator("form.language button")).to_have_text(["FR", "NL", "EN"])

    # Dutch from the header's NL button: the menu, the dashboard and its cards follow.
    switch(page, "nl")
    expect(page.locator("h1")).to_have_text("Overzicht")
    expect(page.locator(".nav a[data-nav='history']")).to_have_text("Geschiedenis")
    expect(page.get_by_role("heading", name="Na te kijken fouten")).to_be_visible()
    expect(page.get_by_role("heading", name="Kluis")).to_be_visible()

    # The settings page in Dutch, and Nederlands among the default languages.
    go(page, page.locator(".nav a[data-nav='settings']"))
    expect(page.locator("h1")).to_have_text("Instellingen")
    expect(page.locator("select[name='language'] option[value='nl']")).to_have_text("Nederlands")

    # A vault made open: "Open" in Dutch, "Ouvert" in French (not the verb "Ouvrir").
    vault = page.locator("#vault")
    vault.locator("input[name='passphrase']").fill(PASSPHRASE)
    vault.locator("input[name='confirmation']").fill(PASSPHRASE)
    vault.locator("button[type='submit']").click()
    expect(page.locator("#vault .status-line")).to_have_text("De kluis is open (0 geheimen).")
    go(page, page.locator(".nav a[data-nav='dashboard']"))
    vault_card = page.locator("article.card", has=page.get_by_role("heading", name="Kluis"))
    expect(vault_card.locator(".big")).to_have_text("Open")
    switch(page, "fr")
    vault_card = page.locator("article.card", has=page.get_by_role("heading", name="Coffre"))
    expect(vault_card.locator(".big")).to_have_text("Ouvert")

    # The same price: 1,20 in French and Dutch, 1.20 in English.
    page.goto(server.url + "/articles?q=COCA33")
    price = page.locator("#article-results tr[data-code='COCA33'] td.price")
    expect(price).to_have_text("1,20")
    switch(page, "nl")
    expect(price).to_have_text("1,20")
    switch(page, "en")
    expect(price).to_have_text("1.20")

    console.assert_clean()
