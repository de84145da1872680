"""The back office in a real browser (Debian's chromium through Playwright) against `relais serve`.

What the HTTP tests cannot show: the search box, filters, sort headers and pager swap the results
under the CSP and keep everything in the URL (back button included), and the edit forms show the
server's refusals (422) in place.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from tests.browser_fixtures import Console, go
from webapp.config import resolve_data_dir
from webapp.store import Store

NOW = "2024-05-01T10:00:00.000000Z"


def seed(data_dir: Path) -> None:
    """Sixty articles (two pages), a few customers, written through the store before the start."""
    store = Store(resolve_data_dir(data_dir).database)
    try:
        with store.write() as db:
            family = db.execute(
                "INSERT INTO article_families (code, label) VALUES ('BOI', 'Boissons')"
            ).lastrowid
            rows = [("COCA33", "Coca-Cola 33cl", family, 1.2), ("EAU150", "Eau plate", family, 0.6)]
            rows += [(f"P{n:03d}", f"Produit {n:03d}", None, n + 0.5) for n in range(60)]
            for code, label, family_id, price in rows:
                article = db.execute(
                    "INSERT INTO articles (code, label, family_id, unit_id, vat_rate_id,"
                    " created_at, updated_at) VALUES (?, ?, ?, 1, 1, ?, ?)",
                    [code, label, family_id, NOW, NOW],
                ).lastrowid
                db.execute("INSERT INTO article_prices VALUES (?, 1, ?)", [article, price])
            for code, last, first, city in (
                ("C001", "Dupont", "Marie", "Liège"),
                ("C002", "Martin", "Jean", "Lille"),
            ):
                db.execute(
                    "INSERT INTO parties (kind, code, last_name, first_name, city, country,"
                    " created_at, updated_at) VALUES ('customer', ?, ?, ?, ?, 'BE', ?, ?)",
                    [code, last, first, city, NOW, NOW],
                )
    finally:
        store.close()


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def rows(page: Page, section: str) -> Any:
    return page.locator(f"#{section} tbody tr")


def test_search_open_edit_price_and_find_it_in_the_list(
    relais_server: Any, page: Page, console: Console, tmp_path: Path
) -> None:
    seed(tmp_path / "data")
    server = relais_server(data_dir=tmp_path / "data")
    page.goto(server.url + "/")
    go(page, page.locator(".nav a[data-nav='backoffice']"))
    expect(page.locator("h1")).to_have_text("Articles")
    expect(page.locator(".nav a[aria-current='page']")).to_have_attribute("data-nav", "backoffice")
    results = rows(page, "article-results")
    expect(results).to_have_count(50)  # one page of 62
    expect(page.locator("#article-results a[rel='next']")).to_be_visible()

    # The pager swaps the results and pushes the page into the URL.
    page.locator("#article-results a[rel='next']").click()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(results).to_have_count(12)

    # Searching swaps the results as one types, back to page 1, and keeps the words in the URL.
    page.locator("#article-q").fill("coc")
    expect(page).to_have_url(re.compile(r"/articles\?q=coc$"))  # the canonical URL
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-code", "COCA33")
    assert "page" not in query_of(page)

    # Sort headers, then a filter: the sort goes along with the filter form.
    page.locator("#article-q").fill("")
    expect(results).to_have_count(50)
    page.locator("#article-results a[data-sort='code']").click()
    expect(page).to_have_url(re.compile(r"[?&]sort=code"))
    expect(results.first).to_have_attribute("data-code", "COCA33")
    page.locator("#article-results a[data-sort='code']").click()
    expect(page).to_have_url(re.compile(r"[?&]sort=-code"))
    expect(results.first).to_have_attribute("data-code", "P059")
    page.locator("select[name='family']").select_option(label="Boissons")
    expect(page).to_have_url(re.compile(r"[?&]family=\d+"))
    expect(results).to_have_count(2)
    assert query_of(page)["sort"] == ["-code"]
    expect(results.first).to_have_attribute("data-code", "EAU150")

    # Back button: the previous list comes back whole (not just the results part).
    page.go_back()
    expect(page).to_have_url(re.compile(r"sort=-code$"))
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("form#article-filters")).to_have_count(1)
    expect(results.first).to_have_attribute("data-code", "P059")
    page.go_forward()
    expect(results).to_have_count(2)

    # Open Coca-Cola from the list.
    go(page, page.locator("#article-results tr[data-code='COCA33'] a"))
    expect(page.locator("h1")).to_have_text("COCA33 — Coca-Cola 33cl")
    price = page.locator("input[data-category='STD']")
    expect(price).to_have_value("1,20")

    # A price that is not one: refused in place, in French, and nothing saved.
    console.expect_status(r"/articles/\d+/save", 422)
    price.fill("2,5x")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#error-price_1")).to_have_text("« 2,5x » n’est pas un montant.")
    expect(page.locator("input[data-category='STD']")).to_have_value("2,5x")
    expect(page.locator(".prices tr[data-category='STD']")).to_contain_text("1,20")

    # A good one: saved, shown in the summary, and in the list.
    page.locator("input[data-category='STD']").fill("2,75")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#article-detail .notice")).to_have_text("Article enregistré.")
    expect(page.locator(".prices tr[data-category='STD']")).to_contain_text("2,75")
    expect(page.locator(".prices tr[data-category='STD']")).to_contain_text("3,33")  # + 21 %
    expect(page.locator("#error-price_1")).to_have_count(0)

    go(page, page.locator("#main p a[href='/articles']"))
    page.locator("#article-q").fill("coca")
    expect(results).to_have_count(1)
    expect(results.first.locator("td.price")).to_have_text("2,75")

    console.assert_clean()


def test_customer_edit_shows_the_refusal_then_saves(
    relais_server: Any, page: Page, console: Console, tmp_path: Path
) -> None:
    seed(tmp_path / "data")
    server = relais_server(data_dir=tmp_path / "data")
    page.goto(server.url + "/customers")
    expect(page.locator("h1")).to_have_text("Clients")
    expect(page.locator(".subnav a[aria-current='page']")).to_have_text("Clients")
    page.locator("#customer-q").fill("dupont")
    results = rows(page, "customer-results")
    expect(results).to_have_count(1)
    go(page, results.first.locator("a"))
    expect(page.locator("h1")).to_have_text("C001 — Dupont Marie")

    console.expect_status(r"/customers/\d+/save", 422)
    form = page.locator("#party-detail form")  # re-found after each swap (a live locator)
    form.locator("input[name='email']").fill("marie(at)example.be")
    form.locator("input[name='company']").fill("Dupont et fils")
    form.get_by_role("button", name="Enregistrer").click()
    error = page.locator("#error-email")
    expect(error).to_contain_text("marie(at)example.be")
    expect(page.locator("input[name='email']")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("p.error")).to_contain_text("Rien n’a été enregistré")
    # What was typed is still there; nothing was written.
    expect(page.locator("input[name='company']")).to_have_value("Dupont et fils")
    expect(page.locator("h1")).to_have_text("C001 — Dupont Marie")

    page.locator("input[name='email']").fill("marie@example.be")
    page.locator("#party-detail form").get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#party-detail .notice")).to_have_text("Modifications enregistrées.")
    expect(page.locator("h1")).to_have_text("C001 — Dupont Marie (Dupont et fils)")
    expect(page.locator("#error-email")).to_have_count(0)

    store = Store(resolve_data_dir(tmp_path / "data").database, migrate=False)
    try:
        with store.read() as db:
            row = db.execute("SELECT email, company FROM parties WHERE code = 'C001'").fetchone()
    finally:
        store.close()
    assert tuple(row) == ("marie@example.be", "Dupont et fils")
    console.assert_clean()


def test_new_customer_form_refuses_a_taken_code(
    relais_server: Any, page: Page, console: Console, tmp_path: Path
) -> None:
    seed(tmp_path / "data")
    server = relais_server(data_dir=tmp_path / "data")
    page.goto(server.url + "/customers")
    go(page, page.get_by_role("link", name="Nouveau client"))
    expect(page.locator("h1")).to_have_text("Nouveau client")
    console.expect_status(r"/customers/create", 422)  # the refusal below, on purpose
    page.locator("input[name='code']").fill("c001")
    page.locator("input[name='last_name']").fill("Leroy")
    go(page, page.get_by_role("button", name="Créer le client"))
    expect(page.locator("#error-code")).to_have_text("Un client avec le code c001 existe déjà.")
    expect(page.locator("input[name='last_name']")).to_have_value("Leroy")
    page.locator("input[name='code']").fill("C100")
    go(page, page.get_by_role("button", name="Créer le client"))
    expect(page).to_have_url(re.compile(r"/customers/\d+\?created=1$"))
    expect(page.locator("h1")).to_have_text("C100 — Leroy")
    expect(page.locator(".notice").first).to_have_text("Client créé.")
    console.assert_clean()
