"""The Scrada page in a real browser (Debian chromium + Playwright) against `relais serve` and the
Scrada simulator: settings saved, Verify, the template help, "Synchroniser maintenant" with its live
progress, unticking a book, "Deliver again" for a deleted file, the log with its CSV export, and
the mailbox section (a refused port under its field, Verify against a real dovecot)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console
from tests.imap_server import HOST, ImapServer, start_dovecot
from tests.test_scrada_pull import PASSPHRASE
from webapp.config import resolve_data_dir
from webapp.services import open_services
from webapp.simulators.scrada import ScradaSimulator


@pytest.fixture
def simulator() -> Iterator[ScradaSimulator]:
    sim = ScradaSimulator(rate_limit=None)
    sim.add_company("Boulangerie Dupont", documents=3)
    sim.add_company("Café du Centre", documents=2)
    sim.start()
    yield sim
    sim.stop()


def test_configure_verify_and_synchronise(
    page: Page,
    console: Console,
    simulator: ScradaSimulator,
    relais_server: Any,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    services = open_services(resolve_data_dir(data), vault_backend="file")
    services.vault.create(PASSPHRASE)
    services.close()
    server = relais_server(data_dir=data, RELAIS_VAULT_PASSPHRASE=PASSPHRASE)
    root = tmp_path / "compta"

    page.goto(server.url + "/scrada")
    settings = page.locator("#scrada-settings")
    # A format spec is refused when saved, under the field; nothing is saved.
    console.expect_status(r"/scrada/settings$", 422)  # the refusal below, on purpose
    settings.locator("input[name=root]").fill(str(root))
    settings.locator("input[name=template]").fill("{company_number}/{year:>200}")
    settings.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#template-error")).to_contain_text("{year:>200}")
    expect(settings.locator("input[name=template]")).to_have_attribute("aria-invalid", "true")
    # The live preview shows the path the pull would write under a long root: shortened.
    settings.locator("input[name=template]").fill("{company_name}/{book}/{company_id}")
    settings.locator("input[name=root]").fill(str(tmp_path / ("r" * (140 - len(str(tmp_path))))))
    page.locator("#scrada-settings summary").click()
    expect(page.locator("[data-example-path]")).to_contain_text("~")
    page.locator("#scrada-settings summary").click()
    settings.locator("input[name=api_url]").fill(f"{simulator.url}/v1/")
    settings.locator("input[name=api_key]").fill(simulator.api_key)
    settings.locator("input[name=password]").fill("wrong password")
    settings.locator("input[name=root]").fill(str(root))
    template = settings.locator("input[name=template]")
    template.fill("{company_number}/{year}/{colour}")
    page.locator("#scrada-settings summary").click()
    expect(page.locator("#template-help")).to_contain_text("colour")
    template.fill("{company_number}/{book}")
    expect(page.locator("[data-example-path]")).to_have_text(
        "0403170701/Recettes boutique/2026-11-24_8c2d41e0.xml"
    )
    settings.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#scrada-settings [role=status]")).to_be_visible()

    page.locator("#scrada-verify-button").click()
    expect(page.locator("[data-verified]")).to_have_attribute("data-verified", "refused")
    page.locator("#scrada-settings input[name=password]").fill(simulator.password)
    page.locator("#scrada-settings").get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#scrada-settings [role=status]")).to_be_visible()
    page.locator("#scrada-verify-button").click()
    expect(page.locator("[data-verified]")).to_have_attribute("data-verified", "ok")

    page.locator("#scrada-pull-now").click()
    card = page.locator("#scrada-progress .progress-card")
    expect(card).to_have_attribute("data-status", "success")
    expect(card).to_contain_text("10")
    assert len([p for p in root.rglob("*") if p.is_file() and p.suffix in (".xml", ".cod")]) == 10

    page.goto(server.url + "/scrada")
    companies = page.locator("#scrada-companies")
    expect(companies).to_contain_text("Boulangerie Dupont")
    cash_book = companies.locator("input[data-book^='cash-book:']").first
    expect(cash_book).to_be_checked()
    cash_book.uncheck()
    expect(companies.locator("input[data-book^='cash-book:']").first).not_to_be_checked()

    # A file deleted by hand comes back from the archive with "Deliver again".
    delivered = sorted(p for p in root.rglob("*.xml") if p.is_file())
    delivered[0].unlink()
    page.goto(server.url + "/scrada")
    redeliver = page.locator("#scrada-redeliver")
    redeliver.locator("input[name=date_from]").fill("2000-01-01")
    redeliver.locator("input[name=date_to]").fill("2099-12-31")
    page.locator("#scrada-redeliver-button").click()
    card = page.locator("#scrada-redeliver-progress .progress-card")
    expect(card).to_have_attribute("data-status", "success")
    assert delivered[0].is_file()

    page.goto(server.url + "/scrada/log")
    expect(page.locator("#scrada-log tbody tr")).to_have_count(4)
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter en CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("run_id;started_at;company_name") and "Café du Centre" in text
    console.assert_clean()


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    with start_dovecot() as server:
        yield server


def test_mailbox_settings_and_verify(
    page: Page,
    console: Console,
    imap_server: ImapServer,
    relais_server: Any,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    services = open_services(resolve_data_dir(data), vault_backend="file")
    services.vault.create(PASSPHRASE)
    services.close()
    server = relais_server(data_dir=data, RELAIS_VAULT_PASSPHRASE=PASSPHRASE)
    account = imap_server.account()
    account.append(b"Subject: receipts\r\n\r\nhello\r\n")

    page.goto(server.url + "/scrada")
    box = page.locator("#scrada-mailbox")
    box.locator("input[name=mailbox_host]").fill(HOST)
    box.locator("select[name=mailbox_security]").select_option("none")
    box.locator("input[name=mailbox_port]").fill("99999")
    box.locator("input[name=mailbox_user]").fill(account.user)
    box.locator("input[name=mailbox_password]").fill(account.password)
    console.expect_status(r"/scrada/mailbox$", 422)  # the port refused below, on purpose
    box.locator("button.primary").click()
    expect(page.locator("#mailbox_port-error")).to_contain_text("99999")
    expect(box.locator("input[name=mailbox_port]")).to_have_attribute("aria-invalid", "true")
    box.locator("input[name=mailbox_port]").fill(str(imap_server.port))
    box.locator("input[name=mailbox_password]").fill(account.password)
    box.locator("button.primary").click()
    expect(box.locator("[role=status]")).to_be_visible()
    page.locator("#scrada-mailbox-verify-button").click()
    verified = page.locator("[data-mailbox-verified]")
    expect(verified).to_have_attribute("data-mailbox-verified", "ok")
    expect(verified).to_have_attribute("data-waiting", "1")
    console.assert_clean()
