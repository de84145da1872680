"""The Scrada page's choices in a real browser (Debian chromium + Playwright) against `relais serve`
and the Scrada simulator: "all companies" mode with its disabled ticks and the switch to "selected";
Verify listing the companies and their books; a company's folder (link, copied path) and its last
files, one downloaded; a new template, the move of the delivered files and its history run."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console
from tests.test_scrada_pull import PASSPHRASE
from webapp import history_queries
from webapp.config import resolve_data_dir
from webapp.scrada import config as scrada_config
from webapp.scrada.delivery import JOB_NAME as PULL_JOB
from webapp.services import open_services
from webapp.simulators.scrada import ScradaSimulator


@pytest.fixture
def simulator() -> Iterator[ScradaSimulator]:
    sim = ScradaSimulator(rate_limit=None)
    sim.add_company("Boulangerie Dupont", documents=2)
    sim.add_company("Café du Centre", documents=2)
    sim.start()
    yield sim
    sim.stop()


def _pulled(data: Path, root: Path, simulator: ScradaSimulator) -> None:
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        services.vault.create(PASSPHRASE)
        change = scrada_config.ConfigChange(
            api_url=f"{simulator.url}/v1/",
            root=str(root),
            api_key=simulator.api_key,
            password=simulator.password,
        )
        scrada_config.apply(services.store, services.vault, change, services.data_dir)
        run_id = services.runner.run(PULL_JOB, origin="command")
        assert (history_queries.get_run(services.store, run_id) or {})["status"] == "success"
    finally:
        services.close()


def _files(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and not path.relative_to(root).as_posix().startswith(("_", "."))
    }


def test_company_choices_verify_files_and_the_move(
    page: Page,
    console: Console,
    simulator: ScradaSimulator,
    relais_server: Any,
    tmp_path: Path,
) -> None:
    data, root = tmp_path / "data", tmp_path / "compta"
    _pulled(data, root, simulator)
    before = _files(root)
    assert len(before) == 8
    server = relais_server(data_dir=data, RELAIS_VAULT_PASSPHRASE=PASSPHRASE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)

    # "All companies": each company is pulled, its tick disabled, and "selected" one click away.
    page.goto(server.url + "/scrada")
    companies = page.locator("#scrada-companies")
    company_boxes = companies.locator("tr[data-company] td:first-child input[type=checkbox]")
    expect(company_boxes).to_have_count(2)
    expect(company_boxes.first).to_be_disabled()
    expect(company_boxes.first).to_be_checked()
    expect(page.locator("#scrada-all-mode")).to_be_visible()
    page.locator("#scrada-switch-selected").click()
    expect(page.locator("#scrada-all-mode")).to_have_count(0)
    expect(company_boxes.first).to_be_enabled()
    expect(company_boxes.first).to_be_checked()
    expect(page.locator("#scrada-settings input[name=scope][value=selected]")).to_be_checked()

    # Verify: the companies the key reaches, with their journals and cash books.
    page.locator("#scrada-verify-button").click()
    expect(page.locator("[data-verified]")).to_have_attribute("data-verified", "ok")
    found = page.locator("#scrada-verify-companies tr[data-verified-company]")
    expect(found).to_have_count(2)
    expect(found.first.locator("[data-verified-book=journal]")).to_have_count(1)
    expect(found.first.locator("[data-verified-book=cash-book]")).to_have_count(1)

    # A company's folder and its last files: a link, the path copied, a file downloaded.
    row = companies.locator("tr[data-company]", has_text="Boulangerie Dupont")
    row.locator("[data-files-link]").click()
    links = row.locator("a[href^='/scrada/files/']")
    expect(links).to_have_count(4)
    folder_link = row.locator("[data-folder-link]")
    expect(folder_link).to_have_attribute(
        "href", re.compile("^" + re.escape(root.resolve().as_uri() + "/") + ".+")
    )
    row.locator("button[data-copy]").click()
    expect(row.locator("button[data-copy]")).to_have_attribute("data-copied", "yes")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == row.locator("input[readonly]").input_value()
    assert Path(copied).is_dir() and Path(copied).is_relative_to(root.resolve())
    with page.expect_download() as download:
        links.first.click()
    name = download.value.suggested_filename
    assert name in {Path(path).name for path in before}

    # A new template: the files stay, the move is offered, done, and logged in the history.
    settings = page.locator("#scrada-settings")
    settings.locator("input[name=template]").fill("{company_number}/{book}")
    settings.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#scrada-template-changed")).to_be_visible()
    expect(page.locator("#scrada-moves [data-moves-count]")).to_have_attribute(
        "data-moves-count", "8"
    )
    assert _files(root) == before, "saving moved nothing"
    page.locator("#scrada-move-button").click()
    expect(page.locator("#scrada-moves [data-moved]")).to_have_attribute("data-moved", "8")
    after = _files(root)
    assert sorted(after.values()) == sorted(before.values()) and after.keys() != before.keys()
    page.locator("#scrada-moves a[href^='/runs/']").click()
    expect(page.locator("h1")).not_to_contain_text("scrada_move")
    page.goto(server.url + "/history")
    option = page.locator("select[name=job] option[value=scrada_move]")
    expect(option).to_have_count(1)
    assert option.inner_text().strip() not in ("", "scrada_move")
    console.assert_clean()
