"""The import page in a real browser: a multipart upload through htmx under the CSP, the analysis
with its bad rows, the confirmation, and the live progress until the import is done. Each step is
a run whose id the address bar carries: a reload shows the same step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console
from tests.test_backoffice_import import ARTICLES, BAD_ARTICLES


def test_import_in_two_steps(
    page: Page,
    console: Console,
    relais_server: Any,
    tmp_path: Path,
) -> None:
    server = relais_server(data_dir=tmp_path / "data")
    bad = tmp_path / "mauvais.csv"
    bad.write_text(BAD_ARTICLES, encoding="utf-8")
    good = tmp_path / "articles.csv"
    good.write_text(ARTICLES, encoding="cp1252")

    page.goto(server.url + "/backoffice/files")
    form = page.locator("#import-form")
    form.locator("select[name=kind]").select_option("articles")
    form.locator("input[type=file]").set_input_files(str(bad))
    form.get_by_role("button", name=re.compile("Suivant|Next")).click()
    page.locator("#import-mapping").get_by_role("button", name=re.compile("^Analys")).click()
    task = page.locator("#import-task .import-task")
    expect(task).to_have_attribute("data-state", "analysed")
    expect(task.locator("table.errors tbody tr")).to_have_count(10)
    expect(task).to_contain_text("dix")
    expect(task.get_by_role("button")).to_have_count(0)

    form.locator("input[type=file]").set_input_files(str(good))
    form.get_by_role("button", name=re.compile("Suivant|Next")).click()
    page.locator("#import-mapping").get_by_role("button", name=re.compile("^Analys")).click()
    expect(task).to_have_attribute("data-state", "analysed")
    expect(task).to_contain_text("windows-1252")
    analysis = task.get_attribute("data-run")
    expect(page).to_have_url(re.compile(f"/backoffice/import/{analysis}$"))

    page.reload()  # the same analysis, found by its run id, still ready to import
    task = page.locator("#import-task .import-task")
    expect(task).to_have_attribute("data-run", str(analysis))
    expect(task).to_have_attribute("data-state", "analysed")
    task.get_by_role("button", name="Importer 3 lignes").click()
    expect(task).to_have_attribute("data-state", "imported")
    integration = task.get_attribute("data-run")
    assert integration != analysis, "the integration is a run of its own"
    expect(page).to_have_url(re.compile(f"/backoffice/import/{integration}$"))
    page.reload()
    expect(page.locator("#import-task .import-task")).to_have_attribute("data-state", "imported")
    page.locator("#import-task").get_by_role("link", name="Détails dans l’historique").click()
    expect(page).to_have_url(re.compile(f"/runs/{integration}$"))

    page.goto(server.url + "/articles?q=bourgogne")
    expect(page.locator("#article-results")).to_contain_text("VR1")
    console.assert_clean()
