"""Real-browser tests: Debian's chromium driven by Playwright against a real `relais serve`.

They prove what the HTTP tests cannot: htmx really runs under the Content-Security-Policy
(script-src 'self', style-src 'self'), the swaps land where they should, and a user can move
through the French and English interface without dead links or console errors.

No skip when chromium is missing: `make test` installs it, so its absence must fail loudly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from playwright.sync_api import Page, expect

from tests.browser_fixtures import WAIT_MS, Console, go
from tests.conftest import add_error_item

# data-nav key -> (French h1, English h1); the order is the menu's.
NAV = {
    "dashboard": ("Tableau de bord", "Dashboard"),
    "backoffice": ("Articles", "Articles"),
    "scrada": ("Scrada", "Scrada"),
    "pos": ("Caisses", "Cash registers"),
    "connectors": ("Connecteurs", "Connectors"),
    "processes": ("Processus", "Processes"),
    "history": ("Historique", "History"),
    "settings": ("Paramètres", "Settings"),
}


def check_links(page: Page, base: str, seen: set[str]) -> None:
    """Every link of our own on the page answers 200 (fragments stripped, each URL once)."""
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    for href in hrefs:
        url = urldefrag(urljoin(page.url, href)).url
        if urlsplit(url).netloc != urlsplit(base).netloc or url in seen:
            continue
        seen.add(url)
        response = page.request.get(url)
        assert response.status == 200, f"dead link {href} on {page.url}: {response.status}"


def nav(page: Page, key: str) -> None:
    go(page, page.locator(f".nav a[data-nav='{key}']"))


def assert_page(page: Page, key: str, language: str) -> None:
    french, english = NAV[key]
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("h1")).to_have_text(french if language == "fr" else english)
    current = page.locator(".nav a[aria-current='page']")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-nav", key)


def test_navigation_languages_and_csp(relais_server: Any, page: Page, console: Console) -> None:
    """French by default, every menu entry reachable and marked current, no dead link, FR ↔ EN."""
    server = relais_server()
    response = page.goto(server.url + "/")
    assert response is not None and response.status == 200
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert_page(page, "dashboard", "fr")
    expect(page.get_by_role("button", name="FR", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    # htmx loaded under the CSP (a blocked script would leave window.htmx undefined).
    assert page.evaluate("typeof window.htmx") == "object"

    # No dead entry in the menu: every one answers 200 (same cookies as the page).
    hrefs = page.locator(".nav a[data-nav]").evaluate_all(
        "links => links.map(a => [a.dataset.nav, a.getAttribute('href')])"
    )
    assert [key for key, _ in hrefs] == list(NAV)
    for _, href in hrefs:
        assert page.request.get(server.url + href).status == 200, href

    # Click through the menu: each page has its title and marks its own entry as current,
    # and no link on any of them is dead.
    seen: set[str] = set()
    for key, href in hrefs:
        nav(page, key)
        assert_page(page, key, "fr")
        assert urlsplit(page.url).path == href
        check_links(page, server.url, seen)

    # English from the header's EN button, on the page we are on; the menu follows.
    go(page, page.get_by_role("button", name="EN", exact=True))
    assert_page(page, "settings", "en")
    expect(page.get_by_role("button", name="EN", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    expect(page.locator(".nav a[data-nav='history']")).to_have_text("History")
    nav(page, "dashboard")
    assert_page(page, "dashboard", "en")
    expect(page.get_by_role("heading", name="Errors to review")).to_be_visible()
    nav(page, "history")
    assert_page(page, "history", "en")

    # The choice is remembered across pages (cookie), and FR brings French back.
    page.goto(server.url + "/processes")
    assert_page(page, "processes", "en")
    expect(page.get_by_role("button", name="Run now").first).to_be_visible()
    go(page, page.get_by_role("button", name="FR", exact=True))
    assert_page(page, "processes", "fr")
    expect(page.get_by_role("button", name="Lancer maintenant").first).to_be_visible()
    nav(page, "dashboard")
    assert_page(page, "dashboard", "fr")
    expect(page.locator(".nav a[data-nav='history']")).to_have_text("Historique")

    console.assert_clean()


def test_run_backup_then_filter_history(relais_server: Any, page: Page, console: Console) -> None:
    """Run now → live progress → success with its summary; then find and filter it in history."""
    server = relais_server()
    page.goto(server.url + "/processes")
    assert_page(page, "processes", "fr")
    process = page.locator("article[data-process='database_backup']")
    process.get_by_role("button", name="Lancer maintenant").click()

    card = page.locator("#progress-database_backup .progress-card")
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-status", "success", timeout=WAIT_MS)
    expect(card.locator(".progress-head strong")).to_have_text("réussi")
    expect(card.locator(".progress-result")).to_contain_text(
        # French counts zero in the singular (ngettext's fr plural rule).
        re.compile(
            r"Sauvegarde relais-\d{8}-\d{6}\.sqlite écrite ; 0 ancienne sauvegarde supprimée"
        )
    )
    run_id = card.get_attribute("data-run")
    assert run_id and run_id.isdigit()
    backups = list((server.data_dir / "backups").glob("relais-*.sqlite"))
    assert len(backups) == 1, backups

    # The link under the result opens the run detail, whose item is the backup written.
    go(page, card.get_by_role("link", name="Détails dans l’historique"))
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}$"))
    expect(page.locator("h1")).to_contain_text(f"Sauvegarde de la base — exécution #{run_id}")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody tr")).to_contain_text(backups[0].name)

    # History: the item is listed, linked to its run.
    nav(page, "history")
    assert_page(page, "history", "fr")
    results = page.locator("#history-results")
    row = results.locator("tbody tr", has=page.locator(f"a[href='/runs/{run_id}']"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Sauvegarde de la base")
    expect(row).to_contain_text(backups[0].name)
    expect(row.locator(".status")).to_have_text("fait")

    # Filter by process, then by status: htmx replaces #history-results and pushes the URL.
    filters = page.locator("form.filters")
    filters.locator("select[name='job']").select_option("database_backup")
    expect(page).to_have_url(re.compile(r"[?&]job=database_backup"))
    expect(results.locator("tbody tr")).to_have_count(1)
    filters.locator("select[name='status']").select_option("error")
    expect(page).to_have_url(re.compile(r"[?&]status=error"))
    expect(page.locator("#history-results .empty")).to_have_text(
        "Aucune entrée de l’historique ne correspond à ces filtres."
    )
    filters.locator("select[name='status']").select_option("done")
    expect(page).to_have_url(re.compile(r"[?&]status=done"))
    filtered = page.locator("#history-results tbody tr")
    expect(filtered).to_have_count(1)
    expect(filtered.locator(f"a[href='/runs/{run_id}']")).to_have_count(1)
    # A purge of history is another process: filtering on it hides the backup item.
    filters.locator("select[name='job']").select_option("history_purge")
    expect(page).to_have_url(re.compile(r"[?&]job=history_purge"))
    expect(page.locator("#history-results .empty")).to_be_visible()
    # The swaps were partial: still one page, one form, one results section.
    expect(page.locator("form.filters")).to_have_count(1)
    expect(page.locator("#history-results")).to_have_count(1)

    console.assert_clean()


def test_failed_run_and_resolve_error_item(
    relais_server: Any, page: Page, console: Console, tmp_path: Path
) -> None:
    """A failing process shows as failed; an error is resolved only with a justification."""
    data_dir = tmp_path / "data"
    item_id = add_error_item(
        data_dir,
        reference="relais-20240101-020000.sqlite",
        message="The process failed: {error}",
        params={"error": "disk full"},
    )
    (data_dir / "backups").write_text("a file where the backups folder should be\n")
    server = relais_server(data_dir=data_dir)

    # The backup cannot write into data/backups: the run is recorded as failed, with the reason.
    page.goto(server.url + "/processes")
    page.locator("article[data-process='database_backup']").get_by_role(
        "button", name="Lancer maintenant"
    ).click()
    card = page.locator("#progress-database_backup .progress-card")
    expect(card).to_have_attribute("data-status", "failed", timeout=WAIT_MS)
    expect(card.locator(".progress-head strong")).to_have_text("échec")
    expect(card.locator(".progress-result")).to_contain_text("Le processus a échoué :")

    # The dashboard counts the unresolved error and links to it.
    nav(page, "dashboard")
    alert = page.locator(".card.alert")
    expect(alert.locator(".big")).to_have_text("1")
    go(page, alert.get_by_role("link", name="Les examiner"))
    assert_page(page, "history", "fr")
    expect(page.locator("select[name='status']")).to_have_value("unresolved")
    row = page.locator(f"#item-{item_id}")
    expect(row).to_be_visible()
    expect(row.locator(".status")).to_have_text("erreur")
    expect(row).to_contain_text("Le processus a échoué : disk full")

    posted: list[str] = []
    page.on(
        "request",
        lambda request: posted.append(request.url) if request.method == "POST" else None,
    )
    # The form is loaded on demand into the row.
    row.get_by_role("button", name="Marquer comme résolue").click()
    justification = row.locator("textarea[name='justification']")
    resolve = row.get_by_role("button", name="Résoudre")

    # Empty: the browser itself refuses to send the form (required).
    justification.fill("")
    resolve.click()
    assert justification.evaluate("element => element.validity.valueMissing")
    expect(row.locator(".resolution")).to_have_count(0)
    assert posted == []

    # Too short once trimmed (passes minlength=3 in the browser): the server refuses, in French.
    console.expect_status(r"/history/items/\d+/resolve", 422)
    justification.fill("ok ")
    resolve.click()
    alert_text = page.locator(f"#item-{item_id} .error[role='alert']")
    expect(alert_text).to_have_text(
        "Une justification est obligatoire pour marquer une erreur comme résolue."
    )
    expect(page.locator(f"#item-{item_id} .resolution")).to_have_count(0)
    expect(page.locator(f"#item-{item_id} form.resolve")).to_have_count(1)
    assert posted == [f"{server.url}/history/items/{item_id}/resolve"]

    # With a justification: resolved, by whom and why, and the form is gone.
    row = page.locator(f"#item-{item_id}")
    row.locator("textarea[name='justification']").fill("Sauvegarde refaite à la main")
    row.locator("input[name='who']").fill("Marie")
    row.get_by_role("button", name="Résoudre").click()
    resolution = page.locator(f"#item-{item_id} .resolution")
    expect(resolution).to_contain_text(re.compile(r"^Résolue le \d{2}/\d{2}/\d{4} \d{2}:\d{2}"))
    expect(resolution).to_contain_text("par Marie : Sauvegarde refaite à la main")
    expect(page.locator(f"#item-{item_id} form")).to_have_count(0)

    # It no longer counts as an error to review.
    nav(page, "dashboard")
    expect(page.locator(".card.alert")).to_have_count(0)
    expect(page.locator(".card .big").nth(1)).to_have_text("0")

    console.assert_clean()
