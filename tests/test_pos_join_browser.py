"""A register joined without a terminal, in a real browser (Debian chromium + Playwright), between
two real `relais serve`: the office turns the registers' access on in Paramètres, adds a register
and shows its join code; the fresh install's "Join an office" page takes the pasted code (and the
new vault's passphrase); the office's table shows the register's contact without a reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console
from tests.test_pos_join_web import free_port
from webapp.config import resolve_data_dir
from webapp.services import open_services

PASSPHRASE = "join-browser-passphrase"


def test_office_adds_a_register_that_joins_from_its_page(
    page: Page,
    console: Console,
    relais_server: Any,
    tmp_path: Path,
) -> None:
    office_dir = tmp_path / "office"
    opened = open_services(resolve_data_dir(office_dir), vault_backend="file")
    opened.vault.create(PASSPHRASE)
    opened.close()
    office = relais_server(data_dir=office_dir, RELAIS_VAULT_PASSPHRASE=PASSPHRASE)
    shop = relais_server(data_dir=tmp_path / "register")

    page.goto(office.url + "/settings")
    access = page.locator("#settings-pos-api")
    access.locator("input[type=checkbox][name=pos_api_enabled]").check()
    port = free_port()
    access.locator("input[name=pos_api_port]").fill(str(port))
    access.locator("#pos-api-save").click()
    expect(page.locator("#settings-pos-api [role=status]").first).to_contain_text(
        f"127.0.0.1:{port}"
    )

    page.goto(office.url + "/pos")
    expect(page.locator("#pos-register-form")).to_contain_text(f"127.0.0.1:{port}")
    form = page.locator("#pos-register-form")
    form.locator("input[name=number]").fill("3")
    form.locator("#pos-add-register").click()
    expect(page.locator("#pos-join-qr svg")).to_be_visible()
    code = page.locator("#pos-join-code").input_value()
    assert code.startswith("RLS1-")
    row = page.locator('#pos-registers-table tr[data-register="3"]')
    expect(row).to_be_visible()  # the table refreshed when the register was added
    expect(row.locator("td").nth(3)).to_contain_text("jamais")

    register_page = page.context.new_page()
    register_console = Console(register_page)
    register_page.goto(shop.url + "/")
    register_page.locator('#join-offer a[href="/pos/join"]').click()
    join = register_page.locator("#pos-join")
    register_console.expect_status(r"/pos/join$", 422)  # the typo below, refused on purpose
    typo = code[:9] + ("A" if code[9] != "A" else "B") + code[10:]
    join.locator("textarea[name=code]").fill(typo)
    join.locator("#pos-join-submit").click()
    expect(join.locator("[role=alert]")).to_be_visible()
    expect(join.locator("textarea[name=code]")).to_have_attribute("aria-invalid", "true")
    join.locator("textarea[name=code]").fill(code)
    join.locator("input[name=passphrase]").fill(PASSPHRASE)
    join.locator("input[name=confirmation]").fill(PASSPHRASE)
    join.locator("#pos-join-submit").click()
    expect(register_page.locator("#pos-join-open")).to_be_visible()
    expect(register_page.locator("#pos-join [role=status]")).to_contain_text(f"127.0.0.1:{port}")

    # The office page was never reloaded: its table polls, and shows the register's contact.
    expect(row.locator("td").nth(3)).not_to_contain_text("jamais")
    expect(page.locator("#pos-join-code")).to_have_value(code)  # still the page it was
    console.assert_clean()
    register_console.assert_clean()
