"""The import's mapping step in a real browser (issue 16): a till export with French headings,
the fields suggested, a required one left out then chosen again, the profile saved, the analysis
with its preview, and the confirmation without sending the file again."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console
from tests.test_backoffice_import_profiles import CAISSE


def test_map_save_analyse_and_import(
    page: Page,
    console: Console,
    relais_server: Any,
    tmp_path: Path,
) -> None:
    server = relais_server(data_dir=tmp_path / "data")
    file = tmp_path / "caisse.csv"
    file.write_text(CAISSE, encoding="utf-8")

    page.goto(server.url + "/backoffice/files")
    form = page.locator("#import-form")
    form.locator("select[name=kind]").select_option("articles")
    form.locator("input[type=file]").set_input_files(str(file))
    form.get_by_role("button", name=re.compile("Suivant|Next")).click()

    mapping = page.locator("#import-mapping")
    expect(mapping.get_by_label("Désignation")).to_have_value("label")
    expect(mapping.get_by_label("Prix de vente HT")).to_have_value("price_excl_vat")
    expect(mapping.get_by_label("Remarque")).to_have_value("")
    analyse = mapping.get_by_role("button", name=re.compile("^Analys"))
    expect(analyse).to_be_enabled()

    mapping.get_by_label("Prix de vente HT").select_option("")  # a required field left out
    expect(page.locator("#mapping-missing")).to_contain_text("Prix HT")
    expect(
        page.locator("#import-mapping").get_by_role("button", name=re.compile("^Analys"))
    ).to_be_disabled()
    page.locator("#import-mapping").get_by_label("Prix de vente HT").select_option("price_excl_vat")
    expect(page.locator("#mapping-missing")).to_have_count(0)

    mapping = page.locator("#import-mapping")
    mapping.locator("input[name=profile_name]").fill("Export caisse Lightspeed")
    mapping.get_by_role("button", name=re.compile("Enregistrer le profil|Save the profile")).click()
    expect(page.locator("#import-mapping [role=status]")).to_be_visible()
    expect(page.locator("#import-mapping select[name=profile] option:checked")).to_have_text(
        "Export caisse Lightspeed"
    )
    expect(page.locator("#import-mapping").get_by_label("Prix de vente HT")).to_have_value(
        "price_excl_vat"
    )

    page.locator("#import-mapping").get_by_role("button", name=re.compile("^Analys")).click()
    task = page.locator("#import-task .import-task")
    expect(task).to_have_attribute("data-state", "analysed")
    expect(task.locator("[data-codes=created]")).to_contain_text("VR1")
    expect(task.locator("table.preview tbody tr")).to_have_count(2)
    expect(task.locator("table.preview thead")).to_contain_text("Libellé")
    expect(task.locator("table.preview tbody")).to_contain_text("15,00")
    analysis = task.get_attribute("data-run")
    expect(page).to_have_url(re.compile(f"/backoffice/import/{analysis}$"))

    task.get_by_role("button", name="Importer 2 lignes").click()
    expect(task).to_have_attribute("data-state", "imported")
    expect(task.locator(".summary")).to_have_attribute("data-created", "2")

    page.goto(server.url + "/articles?q=cremant")
    expect(page.locator("#article-results")).to_contain_text("NEW1")
    console.assert_clean()
