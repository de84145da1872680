"""The e-connecteur in a real browser (Debian chromium + Playwright) against `relais serve`: the
wizard refuses a step in place and completes, and a reception goes through its two steps with a
VAT correspondence given on the analysis screen and a homonym given to the existing customer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console, go
from tests.test_connector_web import ARTICLES, CUSTOMERS, doc_line, drop
from webapp.backoffice.importer import import_csv
from webapp.config import resolve_data_dir
from webapp.econnector import connectors, mappings
from webapp.store import Store


def seed(data_dir: Path, tmp_path: Path, *, connector: bool) -> tuple[Path, Path]:
    """Articles and customers imported as a user would, the folders, and maybe a connector."""
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    store = Store(resolve_data_dir(data_dir).database)
    try:
        for kind, text in (("articles", ARTICLES), ("customers", CUSTOMERS)):
            source = tmp_path / f"{kind}.csv"
            source.write_text(text, encoding="utf-8")
            assert import_csv(store, kind, source).committed
        if connector:
            saved = connectors.save(
                store,
                connectors.Connector(
                    code="WEB",
                    partner="Prestashop",
                    import_dir=str(inbox),
                    export_dir=str(outbox),
                ),
            )
            mappings.set_mapping(store, saved, "article", "P-VR1", "VR1")
    finally:
        store.close()
    return inbox, outbox


def test_wizard_refuses_a_step_then_creates_the_connector(
    relais_server: Any,
    page: Page,
    console: Console,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    inbox, outbox = seed(data, tmp_path, connector=False)
    server = relais_server(data_dir=data)
    console.expect_status(r"/connectors/wizard$", 422)

    page.goto(server.url + "/connectors")
    expect(page.locator("h1")).to_have_text("Connecteurs")
    go(page, page.locator("#connector-list a[data-action='new']"))
    wizard = page.locator("#connector-wizard")
    expect(wizard).to_have_attribute("data-step", "1")
    expect(wizard.locator("input[name=mode][value=webservice]")).to_be_enabled()
    wizard.locator("input[name=code]").fill("FACIL")
    wizard.locator("input[name=partner]").fill("SuiviETA")
    wizard.locator("input[name=export_dir]").fill(str(outbox))
    wizard.locator("input[name=import_dir]").fill(str(tmp_path / "missing"))
    wizard.get_by_role("button", name="Étape suivante").click()

    # Refused in place: still step 1, the error under the import folder.
    expect(page.locator("[data-error-for=import_dir]")).to_contain_text("missing")
    expect(page.locator("#connector-wizard")).to_have_attribute("data-step", "1")
    expect(page.locator("input[name=import_dir]")).to_have_attribute("aria-invalid", "true")
    page.locator("input[name=import_dir]").fill(str(inbox))
    page.get_by_role("button", name="Étape suivante").click()
    expect(page.locator("#connector-wizard")).to_have_attribute("data-step", "2")

    page.get_by_label("Envoyer les articles correspondant au filtre personnalisé").check()
    page.get_by_role("button", name="Étape suivante").click()
    expect(page.locator("[data-error-for=article_filter]")).to_be_visible()
    expect(page.locator("#connector-wizard")).to_have_attribute("data-step", "2")
    page.locator("input[name=article_filter]").fill("pub")
    page.get_by_label("Envoyer les contacts associés aux clients").check()
    page.get_by_role("button", name="Étape suivante").click()
    expect(page.locator("#connector-wizard")).to_have_attribute("data-step", "3")

    page.get_by_label("Livraisons").check()
    page.get_by_label("À l'ouverture de l'application", exact=False).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Terminer").click()
    expect(page.locator("h1")).to_have_text("Connecteurs")
    row = page.locator("#connector-list tr[data-code='FACIL']")
    expect(row).to_contain_text("SuiviETA")
    expect(row).to_contain_text("Filtre : pub")
    expect(row).to_contain_text("Tous les clients + Contacts")
    expect(row).to_contain_text("Livraisons")
    console.assert_clean()

    store = Store(resolve_data_dir(data).database)
    try:
        saved = connectors.get(store, "FACIL")
    finally:
        store.close()
    assert (saved.import_dir, saved.export_dir) == (str(inbox), str(outbox))
    assert (saved.doc_type, saved.reception_update, saved.send_contacts) == (
        "delivery",
        "startup",
        True,
    )


def test_reception_with_a_vat_correspondence_and_a_homonym(
    relais_server: Any,
    page: Page,
    console: Console,
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    inbox, _outbox = seed(data, tmp_path, connector=True)
    drop(
        inbox,
        "orders.csv",
        [
            doc_line("D1", "W-77", "Andre", "Pat", "patrick@example.fr"),
            doc_line("D2", "W-78", "Neuf", "Jean", "jean@example.fr", vat="V2 - 20 %"),
        ],
    )
    server = relais_server(data_dir=data)

    page.goto(server.url + "/connectors/sync")
    row = page.locator("#sync-WEB")
    expect(row).to_have_attribute("data-files", "1")
    expect(row).to_contain_text("100 documents")
    # A file arriving meanwhile: the refresh button scans the folder again.
    drop(inbox, "later.csv", [doc_line("D3", "W-79", "Autre", "Paul", "")], age=0)
    row.locator("[data-action=refresh]").click()
    expect(page.locator("#sync-WEB")).to_contain_text("later.csv")
    (inbox / "later.csv").unlink()

    go(page, page.locator("#sync-WEB [data-action=receive]"))
    reception = page.locator("#connector-reception")
    expect(reception).to_have_attribute("data-state", "analysed")
    expect(page.locator("tr[data-doc=D2]")).to_have_attribute("data-status", "not_integrated")
    codes = page.locator("#reception-codes tr[data-kind=vat]")
    expect(codes).to_have_attribute("data-external", "V2 - 20 %")
    codes.locator("select").select_option("FR20")
    page.locator("#reception-codes [data-action=codes]").click()
    expect(page.locator("tr[data-doc=D2]")).to_have_attribute("data-status", "will_integrate")
    expect(page.locator("#connector-reception")).to_have_attribute("data-state", "analysed")
    expect(page.locator("#reception-codes")).to_have_count(0)

    homonym = page.locator("#reception-homonyms tr[data-customer='W-77']")
    homonym.get_by_label("Affecter à ANDPA").check()
    page.locator("[data-action=integrate]").click()
    expect(page.locator("#connector-reception")).to_have_attribute("data-state", "integrated")
    summary = page.locator("#connector-reception .summary")
    expect(summary).to_have_attribute("data-integrated", "2")
    expect(summary).to_have_attribute("data-refused", "0")
    expect(page.locator("[data-file='orders.csv']")).to_have_attribute("data-file-state", "bak")
    console.assert_clean()

    store = Store(resolve_data_dir(data).database)
    try:
        with store.read() as db:
            rows = db.execute(
                "SELECT c.doc_ref, p.code, d.total_incl_vat, l.vat_rate FROM connector_documents c"
                " JOIN documents d ON d.id = c.document_id JOIN parties p ON p.id = d.party_id"
                " JOIN document_lines l ON l.document_id = d.id ORDER BY c.doc_ref"
            ).fetchall()
            customers = db.execute(
                "SELECT count(*) FROM parties WHERE kind = 'customer'"
            ).fetchone()[0]
    finally:
        store.close()
    assert tuple(rows[0]) == ("D1", "ANDPA", 30.0, 20.0)
    assert rows[1][0] == "D2" and rows[1][1] != "ANDPA" and rows[1][3] == 20.0
    assert customers == 2  # ANDPA and the new Jean Neuf; W-77 went to ANDPA
    assert (inbox / "orders.bak").exists()

    # The sync screen now says when the last reception was, with no error.
    page.goto(server.url + "/connectors/sync")
    expect(page.locator("#sync-WEB")).to_have_attribute("data-files", "0")
    expect(page.locator("#sync-WEB [data-sync-state=ok]")).to_be_visible()
