"""The e-connecteur's screens a shopkeeper follows (issue 16), in a real browser (Debian chromium
+ Playwright) against `relais serve`: a disabled "Intégrer" says why, the homonym choice shows both
customers' e-mail, postcode and city, a send shows what it wrote with no second "Envoyer", the
wizard creates a missing folder, and step 3's selects stay inside their box at two window sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser_fixtures import Console, go
from tests.test_connector_browser import seed
from tests.test_connector_web import doc_line, drop
from webapp.config import resolve_data_dir
from webapp.store import Store

LONG = "Famille des clients particuliers venus de la boutique en ligne pendant les soldes d'été"


def long_labels(data_dir: Path) -> None:
    """Reference rows whose labels are longer than any select's box."""
    store = Store(resolve_data_dir(data_dir).database)
    try:
        with store.write() as db:
            db.execute(
                "INSERT INTO party_families (kind, code, label) VALUES ('customer', 'WEBSOLDES', ?)",
                [LONG],
            )
            db.execute(
                "INSERT INTO party_families (kind, code, label) VALUES ('supplier', 'IMPORT', ?)",
                [LONG],
            )
            db.execute("INSERT INTO carriers (code, name) VALUES ('EXPRESS', ?)", [LONG])
    finally:
        store.close()


def test_reception_says_why_it_cannot_integrate_then_compares_the_homonym(
    relais_server: Any,
    page: Page,
    console: Console,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    inbox, _outbox = seed(data, tmp_path, connector=True)
    waiting = drop(
        inbox, "orders.csv", [doc_line("D3", "W-79", "Autre", "Paul", "", article="NOPE")]
    )
    server = relais_server(data_dir=data)

    page.goto(server.url + "/connectors/sync")
    go(page, page.locator("#sync-WEB [data-action=receive]"))
    expect(page.locator("#connector-reception")).to_have_attribute("data-state", "analysed")
    button = page.locator("[data-action=integrate]")
    expect(button).to_be_disabled()
    expect(button).to_have_attribute("aria-describedby", "integrate-reason")
    reason = page.locator("#integrate-reason")
    expect(reason).to_be_visible()
    expect(reason).to_have_attribute("data-reason", "articles")
    expect(button).to_have_attribute("title", reason.inner_text())

    # The article is left aside; a homonym of ANDPA arrives: analysed again.
    waiting.unlink()
    drop(inbox, "orders.csv", [doc_line("D1", "W-77", "Andre", "Pat", "patrick@example.fr")])
    page.locator("[data-action=analyse]").click()
    expect(page.locator("#reception-homonyms")).to_be_visible()
    expect(page.locator("#homonym-default")).to_be_visible()
    received = page.locator("tr[data-customer='W-77'][data-side=received]")
    existing = page.locator("tr[data-customer='W-77'][data-code='ANDPA']")
    for row, values in (
        (received, ("Pat Andre", "patrick@example.fr", "62000", "Lens")),
        (existing, ("Patrick André", "patrick@example.fr", "59950", "Auby")),
    ):
        for name, value in zip(("name", "email", "postcode", "city"), values, strict=True):
            expect(row.locator(f"[data-field={name}]")).to_have_text(value)
    expect(received.locator("input[type=radio]")).to_be_checked()  # the default: a new customer
    expect(page.locator("#integrate-reason")).to_have_count(0)
    expect(page.locator("[data-action=integrate]")).to_be_enabled()

    page.locator("tr[data-customer='W-77']").get_by_label("Affecter à ANDPA").check()
    page.locator("[data-action=integrate]").click()
    expect(page.locator("#connector-reception")).to_have_attribute("data-state", "integrated")
    expect(page.locator("#connector-reception .summary")).to_have_attribute("data-integrated", "1")
    console.assert_clean()


def test_a_send_shows_what_it_wrote_and_offers_no_second_send(
    relais_server: Any,
    page: Page,
    console: Console,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    _inbox, outbox = seed(data, tmp_path, connector=True)
    server = relais_server(data_dir=data)

    page.goto(server.url + "/connectors/WEB/send")
    page.locator("#connector-send [data-action=send]").click()
    report = page.locator(".send-report[data-mode=csv]")
    expect(report).to_be_visible()
    names = sorted(path.name for path in outbox.iterdir())
    assert len(names) == 2
    expect(report.locator("[data-file-name]")).to_have_text(names)
    expect(report.locator("[data-summary]")).to_contain_text(str(outbox))
    expect(report.locator("tr[data-file-kind=articles]")).to_have_attribute("data-rows", "3")
    expect(page.locator("#connector-send [data-action=send]")).to_have_count(0)
    expect(page.locator("[data-action=back]")).to_be_visible()
    go(page, page.locator("[data-action=new-send]"))
    expect(page.locator("#connector-send [data-action=send]")).to_be_visible()
    console.assert_clean()


def boxes_inside(container: Locator, selects: Locator) -> None:
    """Each select's bounding box within its container's (a pixel of rounding allowed)."""
    outer = container.bounding_box()
    assert outer is not None
    assert selects.count() > 0
    for index in range(selects.count()):
        box = selects.nth(index).bounding_box()
        assert box is not None
        name = selects.nth(index).get_attribute("name")
        assert box["x"] >= outer["x"] - 1, name
        assert box["x"] + box["width"] <= outer["x"] + outer["width"] + 1, (name, box, outer)


def test_the_wizard_creates_a_missing_folder_and_step_3_fits(
    relais_server: Any,
    page: Page,
    console: Console,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    _inbox, outbox = seed(data, tmp_path, connector=False)
    long_labels(data)
    server = relais_server(data_dir=data)
    console.expect_status(r"/connectors/wizard$", 422)
    missing = tmp_path / "shop" / "incoming"

    page.goto(server.url + "/connectors/new")
    wizard = page.locator("#connector-wizard")
    wizard.locator("input[name=code]").fill("SOLDES")
    wizard.locator("input[name=partner]").fill("Boutique")
    wizard.locator("input[name=export_dir]").fill(str(outbox))
    wizard.locator("input[name=import_dir]").fill(str(missing))
    wizard.get_by_role("button", name="Étape suivante").click()
    offer = page.locator("[data-missing-folder=import_dir]")
    expect(offer).to_be_visible()
    assert not missing.exists()
    offer.locator("[data-action=create-folder]").click()
    expect(page.locator("[data-created-folder=import_dir]")).to_be_visible()
    assert missing.is_dir()
    expect(page.locator("#connector-wizard")).to_have_attribute("data-step", "1")
    expect(page.locator("[data-error-for=import_dir]")).to_have_count(0)

    page.get_by_role("button", name="Étape suivante").click()
    expect(page.locator("#connector-wizard")).to_have_attribute("data-step", "2")
    page.get_by_role("button", name="Étape suivante").click()
    expect(page.locator("#connector-wizard")).to_have_attribute("data-step", "3")
    page.locator("select[name=customer_family_id]").select_option(label=f"WEBSOLDES — {LONG}")
    page.locator("select[name=carrier_id]").select_option(label=f"EXPRESS — {LONG}")
    for width, height in ((1280, 800), (1024, 768)):
        page.set_viewport_size({"width": width, "height": height})
        fieldsets = page.locator("#connector-wizard fieldset")
        for index in range(fieldsets.count()):
            selects = fieldsets.nth(index).locator("select")
            if selects.count():
                boxes_inside(fieldsets.nth(index), selects)
        boxes_inside(page.locator("#connector-wizard"), page.locator("#connector-wizard select"))

    with page.expect_navigation():
        page.get_by_role("button", name="Terminer").click()
    expect(page.locator("#connector-list tr[data-code='SOLDES']")).to_be_visible()
    console.assert_clean()
