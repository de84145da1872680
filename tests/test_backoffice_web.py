"""The back office through HTTP: lists (search, filters, sorts, pages), detail pages and edits.

Data goes in through the store, as the importer and the demo would write it; every check reads the
page a user would get (French by default) or the database the page wrote to.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Client
from webapp.backoffice import catalog, document_list, parties
from webapp.backoffice.listing import ListQuery, fts_match
from webapp.services import Services

NOW = "2024-05-01T10:00:00.000000Z"


def _id(db: Any, sql: str, *args: Any) -> int:
    return int(db.execute(sql, args).fetchone()[0])


def add_article(
    services: Services,
    code: str,
    label: str,
    *,
    price: float | None = None,
    family: str | None = None,
    unit: str = "U",
    vat: str = "BE21",
    export: int = 1,
    active: int = 1,
    tags: str = "",
    barcode: str | None = None,
) -> int:
    with services.store.write() as db:
        family_id = None
        if family:
            row = db.execute("SELECT id FROM article_families WHERE code = ?", [family]).fetchone()
            family_id = (
                row[0]
                if row
                else db.execute(
                    "INSERT INTO article_families (code, label) VALUES (?, ?)",
                    [family, family.title()],
                ).lastrowid
            )
        cursor = db.execute(
            "INSERT INTO articles (code, label, family_id, unit_id, vat_rate_id, barcode, export,"
            " tags, active, created_at, updated_at) VALUES (?, ?, ?,"
            " (SELECT id FROM units WHERE code = ?), (SELECT id FROM vat_rates WHERE code = ?),"
            " ?, ?, ?, ?, ?, ?)",
            [code, label, family_id, unit, vat, barcode, export, tags, active, NOW, NOW],
        )
        article_id = int(cursor.lastrowid or 0)
        if price is not None:
            db.execute(
                "INSERT INTO article_prices VALUES (?, (SELECT id FROM price_categories"
                " WHERE is_default = 1), ?)",
                [article_id, price],
            )
    return article_id


def add_party(services: Services, code: str, kind: str = "customer", **fields: Any) -> int:
    values = {"last_name": "", "first_name": "", "company": "", "city": "", **fields}
    columns = ", ".join(values)
    with services.store.write() as db:
        cursor = db.execute(
            f"INSERT INTO parties (kind, code, {columns}, created_at, updated_at)"
            f" VALUES (?, ?, {', '.join('?' for _ in values)}, ?, ?)",
            [kind, code, *values.values(), NOW, NOW],
        )
        return int(cursor.lastrowid or 0)


def add_document(
    services: Services, number: str, party_id: int | None, *, kind: str = "order", day: str
) -> int:
    with services.store.write() as db:
        cursor = db.execute(
            "INSERT INTO documents (company_id, kind, number, doc_date, party_id, total_excl_vat,"
            " total_vat, total_incl_vat, created_at) VALUES (1, ?, ?, ?, ?, 10, 2.1, 12.1, ?)",
            [kind, number, day, party_id, NOW],
        )
        return int(cursor.lastrowid or 0)


def row_codes(html: str) -> list[str]:
    return re.findall(r'<tr data-code="([^"]+)"', html)


def article_row(services: Services, article_id: int) -> dict[str, Any]:
    with services.store.read() as db:
        row = dict(db.execute("SELECT * FROM articles WHERE id = ?", [article_id]).fetchone())
        row["prices"] = {
            r[0]: r[1]
            for r in db.execute(
                "SELECT price_category_id, price_excl_vat FROM article_prices WHERE article_id = ?",
                [article_id],
            ).fetchall()
        }
    return row


def default_category(services: Services) -> int:
    with services.store.read() as db:
        return _id(db, "SELECT id FROM price_categories WHERE is_default = 1")


def post(
    client: Client, url: str, data: dict[str, str], *, htmx: bool = True, follow: bool = True
) -> Any:
    """A form post with the page's CSRF token, as htmx (default) or as a plain browser form."""
    headers = {"x-csrftoken": client.token()}
    if htmx:
        headers["HX-Request"] = "true"
    return client.post(url, data=data, headers=headers, follow_redirects=follow)


def htmx_get(client: Client, url: str, target: str) -> str:
    response = client.get(url, headers={"HX-Request": "true", "HX-Target": target})
    assert response.status_code == 200
    return response.text


@pytest.fixture
def shop(services: Services) -> dict[str, int]:
    """A few articles, customers, a supplier and documents."""
    ids = {
        "coca": add_article(
            services,
            "COCA33",
            "Coca-Cola 33cl",
            price=1.2345,
            family="boissons",
            tags="soda frais",
            barcode="5449000000996",
        ),
        "eau": add_article(services, "EAU150", "Eau plate 1,5 L", price=0.6, family="boissons"),
        "cafe": add_article(
            services, "CAFE1K", "Café en grains", price=12.9, unit="KG", vat="BE6", export=0
        ),
        "old": add_article(services, "OLD1", "Ancien article", price=3, active=0),
        "marie": add_party(
            services, "C001", last_name="Dupont", first_name="Marie", city="Liège", country="BE"
        ),
        "jean": add_party(
            services, "C002", last_name="Martin", first_name="Jean", city="Lille", country="FR"
        ),
        "boul": add_party(services, "C003", company="Boulangerie Léa", city="liège", country="BE"),
        "supplier": add_party(
            services, "F001", kind="supplier", company="Brasserie du Nord", city="Lille"
        ),
    }
    with services.store.write() as db:
        db.execute("INSERT INTO stock VALUES (?, 1, 24.5)", [ids["coca"]])
        db.execute(
            "INSERT INTO contacts (party_id, contact_no, last_name, first_name, role, email)"
            " VALUES (?, 1, 'Dupont', 'Paul', 'Comptable', 'paul@example.be')",
            [ids["marie"]],
        )
    ids["order"] = add_document(services, "CO000001", ids["marie"], day="2024-05-02")
    ids["delivery"] = add_document(
        services, "BL000001", ids["marie"], kind="delivery", day="2024-05-10"
    )
    ids["order2"] = add_document(services, "CO000002", ids["jean"], day="2024-06-01")
    with services.store.write() as db:
        db.execute(
            "INSERT INTO document_lines (document_id, line_no, article_id, label, quantity,"
            " unit_code, unit_price_excl_vat, vat_rate, total_excl_vat, total_incl_vat)"
            " VALUES (?, 1, ?, 'Coca-Cola 33cl', 8, 'U', 1.25, 21, 10, 12.1)",
            [ids["order"], ids["coca"]],
        )
        db.execute(
            "INSERT INTO document_payments (document_id, payment_method_id, amount, paid_on)"
            " VALUES (?, (SELECT id FROM payment_methods WHERE code = 'CARD'), 5, '2024-05-02')",
            [ids["order"]],
        )
    return ids


# Search terms ----------------------------------------------------------------------------------


def test_search_terms_are_quoted_prefixes() -> None:
    assert fts_match("coca cola") == '"coca"* "cola"*'
    assert fts_match('say "hi"') == '"say"* """hi"""*'
    assert fts_match("  - * : ( ) ") is None
    assert fts_match("eau 1 l") == '"eau"* "1" "l"'  # one character: a whole word, no prefix
    assert fts_match("") is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('"', ["OLD1", "CAFE1K", "COCA33", "EAU150"]),  # nothing to search for: all
        ("coca\"'", ["COCA33"]),
        ("-coca", ["COCA33"]),
        ("coca*", ["COCA33"]),
        ("coca-cola", ["COCA33"]),
        ("code:coca", []),  # one phrase "code coca": no such words side by side
        ("(coca", ["COCA33"]),
        ("coca AND", []),  # AND is a word here, not an operator
        ("NEAR(coca", []),
        ("^coca", ["COCA33"]),
        ("a OR", []),
        ("{code label}: coca", []),
    ],
)
def test_no_search_input_breaks_the_list(
    client: Client, shop: dict[str, int], text: str, found: list[str]
) -> None:
    response = client.get("/articles", params={"q": text})
    assert response.status_code == 200
    assert row_codes(response.text) == found
    assert client.get("/customers", params={"q": text}).status_code == 200


# Articles list ---------------------------------------------------------------------------------


def test_articles_page_in_french(client: Client, shop: dict[str, int]) -> None:
    page = client.get("/articles").text
    assert "<h1>Articles</h1>" in page
    assert 'data-nav="backoffice" aria-current="page"' in page
    assert ">Gestion commerciale</a>" in page
    # Sorted by label by default; inactive ones listed too, and marked.
    assert row_codes(page) == ["OLD1", "CAFE1K", "COCA33", "EAU150"]
    coca = page.split('data-code="COCA33"')[1].split("</tr>")[0]
    assert "1,2345" in coca and "1,49" in coca and "Boissons" in coca and "BE21" in coca
    assert "inactif" in page.split('data-code="OLD1"')[1].split("</tr>")[0]
    assert "non exporté" in page.split('data-code="CAFE1K"')[1].split("</tr>")[0]


def test_articles_in_english_use_a_decimal_point(client: Client, shop: dict[str, int]) -> None:
    client.post("/language", data={"language": "en"}, headers={"x-csrftoken": client.token()})
    page = client.get("/articles").text
    assert "<h1>Articles</h1>" in page and ">Back office</a>" in page
    assert "1.2345" in page and "1,2345" not in page


def test_article_search_by_prefix_label_code_tag_and_barcode(
    client: Client, shop: dict[str, int]
) -> None:
    assert row_codes(client.get("/articles?q=caf").text) == ["CAFE1K"]
    assert row_codes(client.get("/articles?q=cafe").text) == ["CAFE1K"]  # accents ignored
    assert row_codes(client.get("/articles?q=eau150").text) == ["EAU150"]
    assert row_codes(client.get("/articles?q=frais").text) == ["COCA33"]
    assert row_codes(client.get("/articles?q=5449000000996").text) == ["COCA33"]
    assert row_codes(client.get("/articles?q=coca+33").text) == ["COCA33"]  # every word
    empty = client.get("/articles?q=zzz").text
    assert row_codes(empty) == [] and "Aucun article ne correspond à cette recherche." in empty


def test_article_filters(client: Client, services: Services, shop: dict[str, int]) -> None:
    with services.store.read() as db:
        family = _id(db, "SELECT id FROM article_families WHERE code = 'boissons'")
        kilo = _id(db, "SELECT id FROM units WHERE code = 'KG'")
        be6 = _id(db, "SELECT id FROM vat_rates WHERE code = 'BE6'")
    assert row_codes(client.get(f"/articles?family={family}").text) == ["COCA33", "EAU150"]
    assert row_codes(client.get(f"/articles?unit={kilo}").text) == ["CAFE1K"]
    assert row_codes(client.get(f"/articles?vat={be6}").text) == ["CAFE1K"]
    assert row_codes(client.get("/articles?export=0").text) == ["CAFE1K"]
    assert row_codes(client.get("/articles?active=0").text) == ["OLD1"]
    assert row_codes(client.get("/articles?active=1&export=1").text) == ["COCA33", "EAU150"]
    assert row_codes(client.get(f"/articles?family={family}&q=eau").text) == ["EAU150"]
    # Junk in a filter is ignored rather than an error.
    assert len(row_codes(client.get("/articles?family=x;1&active=maybe").text)) == 4
    # The chosen filter stays selected in the form.
    assert f'<option value="{kilo}" selected>' in client.get(f"/articles?unit={kilo}").text


def test_article_sorts(client: Client, shop: dict[str, int]) -> None:
    assert row_codes(client.get("/articles?sort=code").text) == [
        "CAFE1K",
        "COCA33",
        "EAU150",
        "OLD1",
    ]
    page = client.get("/articles?sort=-code").text
    assert row_codes(page) == ["OLD1", "EAU150", "COCA33", "CAFE1K"]
    assert 'aria-sort="descending"' in page
    # The current column's link reverses it; the other column starts ascending.
    assert 'href="/articles?sort=code"' in page and 'href="/articles"' in page  # label: default
    # Only whitelisted columns: anything else falls back to the label.
    for sort in ("price", "label; DROP TABLE articles", "-id"):
        assert row_codes(client.get("/articles", params={"sort": sort}).text)[0] == "OLD1"


def test_article_pages_fetch_one_more_and_keep_the_query(
    client: Client, services: Services
) -> None:
    for number in range(120):
        add_article(services, f"P{number:03d}", f"Produit {number:03d}", price=number)
    first = client.get("/articles?q=produit&sort=code").text
    assert row_codes(first) == [f"P{n:03d}" for n in range(50)]
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert 'href="/articles?q=produit&amp;sort=code&amp;page=2"' in first
    third = client.get("/articles?q=produit&sort=code&page=3").text
    assert row_codes(third) == [f"P{n:03d}" for n in range(100, 120)]
    assert 'rel="next"' not in third
    assert 'href="/articles?q=produit&amp;sort=code&amp;page=2"' in third
    assert "Page 3" in third
    assert row_codes(client.get("/articles?sort=code&page=abc").text)[0] == "P000"
    assert row_codes(client.get("/articles?sort=code&page=99").text) == []


def test_list_answers_htmx_with_the_results_only(client: Client, shop: dict[str, int]) -> None:
    partial = htmx_get(client, "/articles?q=coca", "article-results")
    assert partial.lstrip().startswith('<section id="article-results"')
    assert "<html" not in partial and row_codes(partial) == ["COCA33"]
    # The address bar gets the list's canonical URL (no empty fields, no default sort).
    response = client.get(
        "/articles?q=coca&family=&vat=&sort=label&page=1",
        headers={"HX-Request": "true", "HX-Target": "article-results"},
    )
    assert response.headers["hx-push-url"] == "/articles?q=coca"
    # The sort travels with the filter form (a hidden field tied to it by form=).
    assert 'name="sort" value="label" form="article-filters"' in partial
    # htmx restoring history (back button), or aiming elsewhere, gets the whole page.
    restore = client.get(
        "/articles?q=coca",
        headers={"HX-Request": "true", "HX-Target": "main", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.text
    assert "<html" in client.get("/articles", headers={"HX-Request": "true"}).text


# Article detail and edits ----------------------------------------------------------------------


def test_article_detail(client: Client, services: Services, shop: dict[str, int]) -> None:
    page = client.get(f"/articles/{shop['coca']}").text
    assert "<h1>COCA33 — Coca-Cola 33cl</h1>" in page
    assert "Boissons" in page and "TVA 21 % (BE)" in page and "Unité (U)" in page
    prices = page.split('class="table compact prices"')[1].split("</table>")[0]
    assert "Tarif standard" in prices and "1,2345" in prices and "1,49" in prices
    stock = page.split('class="table compact stock"')[1].split("</table>")[0]
    assert "Dépôt principal" in stock and "24,5" in stock
    category = default_category(services)
    assert f'name="price_{category}" value="1,2345"' in page
    assert client.get("/articles/999999", headers={"accept": "text/html"}).status_code == 404


def edit_form(services: Services, article_id: int, **changes: str) -> dict[str, str]:
    """What the edit form would post for this article, with ``changes``."""
    article = catalog.get_article(services.store, article_id)
    assert article is not None
    form = {key: value for key, value in catalog.article_form(article).items() if value != ""}
    form.pop("code")
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def test_article_edit_saves_every_field(
    client: Client, services: Services, shop: dict[str, int]
) -> None:
    category = default_category(services)
    with services.store.read() as db:
        kilo = _id(db, "SELECT id FROM units WHERE code = 'KG'")
        be6 = _id(db, "SELECT id FROM vat_rates WHERE code = 'BE6'")
    form = edit_form(
        services,
        shop["eau"],
        label="  Eau   pétillante 1,5 L ",
        unit=str(kilo),
        vat=str(be6),
        family="",
        barcode="4006381333931",
        tags="Bio, Promo  bio",
        **{f"price_{category}": " 1 234,5 "},
    )
    form.pop("export")  # unticked
    response = post(client, f"/articles/{shop['eau']}/save", form)
    assert response.status_code == 200, response.text
    assert "Article enregistré." in response.text and "<html" not in response.text
    assert "1\u202f234,50" in response.text  # the summary shows the new price
    row = article_row(services, shop["eau"])
    assert row["label"] == "Eau pétillante 1,5 L"
    assert (row["unit_id"], row["vat_rate_id"], row["family_id"]) == (kilo, be6, None)
    assert (row["barcode"], row["tags"], row["export"], row["active"]) == (
        "4006381333931",
        "bio promo",
        0,
        1,
    )
    assert row["prices"] == {category: 1234.5}
    assert row["updated_at"] > NOW
    # The list shows the new price; the FTS index follows the new label.
    assert "1\u202f234,50" in client.get("/articles?q=petillante").text
    # An emptied price removes the price in that category.
    post(client, f"/articles/{shop['eau']}/save", {**form, f"price_{category}": ""})
    assert article_row(services, shop["eau"])["prices"] == {}


def test_plain_form_post_redirects_to_the_article(
    client: Client, services: Services, shop: dict[str, int]
) -> None:
    form = edit_form(services, shop["coca"], label="Coca-Cola Zero 33cl")
    response = post(client, f"/articles/{shop['coca']}/save", form, htmx=False, follow=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/articles/{shop['coca']}"
    assert article_row(services, shop["coca"])["label"] == "Coca-Cola Zero 33cl"


BAD_ARTICLE_EDITS = [
    ({"label": "  "}, "label", "Le libellé est obligatoire."),
    ({"price_{category}": "abc"}, "price_{category}", "« abc » n’est pas un montant."),
    ({"price_{category}": "-1"}, "price_{category}", "Un montant ne peut pas être négatif."),
    ({"price_{category}": "1,23456"}, "price_{category}", "4 décimales au maximum."),
    ({"price_{category}": "1.234,5"}, "price_{category}", "n’est pas un montant."),
    ({"price_{category}": "1e9"}, "price_{category}", "n’est pas un montant."),
    ({"unit": "9999"}, "unit", "Cette unité n’existe pas (ou plus)"),
    ({"unit": ""}, "unit", "Choisissez une unité."),
    ({"vat": "abc"}, "vat", "Ce taux de TVA n’existe pas (ou plus)"),
    ({"family": "777"}, "family", "Cette famille n’existe pas (ou plus)"),
    ({"tags": "a<b>"}, "tags", "Les étiquettes contiennent"),
    ({"barcode": "5449000000997"}, "barcode", "EAN/GTIN"),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_ARTICLE_EDITS)
def test_bad_article_edit_is_refused_with_its_message_and_writes_nothing(
    client: Client,
    services: Services,
    shop: dict[str, int],
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    category = default_category(services)
    before = article_row(services, shop["coca"])
    changes = {key.format(category=category): value for key, value in changes.items()}
    field = field.format(category=category)
    form = edit_form(services, shop["coca"], **{"label": "Changed label", **changes})
    response = post(client, f"/articles/{shop['coca']}/save", form)
    assert response.status_code == 422
    assert "<html" not in response.text and 'id="article-detail"' in response.text
    error = re.search(
        rf'<span class="error" role="alert" id="error-{field}">([^<]*)<', response.text
    )
    assert error and message in error.group(1)
    assert "L’article n’a pas été enregistré" in response.text
    assert '<input value="COCA33" readonly' in response.text  # the code stays on show
    assert "aria-invalid" in response.text
    # What was typed is shown back, so nothing needs typing twice.
    if field == "label":
        assert 'name="label" value=""' in response.text
    else:
        assert 'value="Changed label"' in response.text
    assert article_row(services, shop["coca"]) == before


def test_several_errors_are_shown_at_once(
    client: Client, services: Services, shop: dict[str, int]
) -> None:
    category = default_category(services)
    form = edit_form(services, shop["coca"], label="", unit="9999", **{f"price_{category}": "x"})
    text = post(client, f"/articles/{shop['coca']}/save", form).text
    assert text.count('class="error" role="alert" id="error-') == 3


def test_saving_a_missing_article_is_404(client: Client) -> None:
    response = post(client, "/articles/424242/save", {"label": "x"})
    assert response.status_code == 404


def test_post_without_csrf_token_changes_nothing(
    client: Client, services: Services, shop: dict[str, int]
) -> None:
    before = article_row(services, shop["coca"])
    form = edit_form(services, shop["coca"], label="Forged")
    assert client.post(f"/articles/{shop['coca']}/save", data=form).status_code == 403
    assert client.post("/customers/create", data={"code": "X", "last_name": "X"}).status_code == 403
    assert article_row(services, shop["coca"]) == before


def count(services: Services, table: str) -> int:
    with services.store.read() as db:
        return _id(db, f"SELECT count(*) FROM {table}")


def test_new_article(client: Client, services: Services, shop: dict[str, int]) -> None:
    page = client.get("/articles/new").text
    assert "<h1>Nouvel article</h1>" in page and 'action="/articles/create"' in page
    category = default_category(services)
    with services.store.read() as db:
        unit = _id(db, "SELECT id FROM units WHERE code = 'BT'")
        vat = _id(db, "SELECT id FROM vat_rates WHERE code = 'FR20'")
    form = {
        "code": "VIN75",
        "label": "Vin rouge 75 cl",
        "unit": str(unit),
        "vat": str(vat),
        "export": "1",
        "active": "1",
        f"price_{category}": "8,3333",
    }
    response = post(client, "/articles/create", form, htmx=False, follow=False)
    assert response.status_code == 303
    location = response.headers["location"]
    match = re.fullmatch(r"/articles/(\d+)\?created=1", location)
    assert match
    created = article_row(services, int(match.group(1)))
    assert (created["code"], created["label"], created["unit_id"], created["vat_rate_id"]) == (
        "VIN75",
        "Vin rouge 75 cl",
        unit,
        vat,
    )
    assert created["prices"] == {category: 8.3333}
    detail = client.get(location).text
    assert "Article créé." in detail and "10,00" in detail  # 8.3333 + 20 %
    assert row_codes(client.get("/articles?q=vin").text) == ["VIN75"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "coca33"}, "Un article avec le code coca33 existe déjà."),
        ({"code": ""}, "Le code est obligatoire."),
        ({"code": "A B"}, "Un code ne peut contenir ni espaces"),
        ({"code": "X" * 41}, "40 caractères au maximum."),
        ({"unit": "9999"}, "Cette unité n’existe pas (ou plus)"),
        ({"price_{category}": "douze"}, "« douze » n’est pas un montant."),
    ],
)
def test_bad_new_article_is_refused_and_nothing_is_written(
    client: Client,
    services: Services,
    shop: dict[str, int],
    changes: dict[str, str],
    message: str,
) -> None:
    category = default_category(services)
    with services.store.read() as db:
        unit = _id(db, "SELECT id FROM units WHERE code = 'U'")
        vat = _id(db, "SELECT id FROM vat_rates WHERE code = 'BE21'")
    form = {"code": "NEW1", "label": "Nouveau", "unit": str(unit), "vat": str(vat)}
    form.update({key.format(category=category): value for key, value in changes.items()})
    articles, prices = count(services, "articles"), count(services, "article_prices")
    response = post(client, "/articles/create", form, htmx=False)
    assert response.status_code == 422
    assert "<h1>Nouvel article</h1>" in response.text and message in response.text
    assert 'value="Nouveau"' in response.text
    assert (count(services, "articles"), count(services, "article_prices")) == (articles, prices)


# Customers and suppliers -----------------------------------------------------------------------


def test_customers_list_search_filters_and_sorts(
    client: Client, services: Services, shop: dict[str, int]
) -> None:
    page = client.get("/customers").text
    assert "<h1>Clients</h1>" in page
    assert row_codes(page) == ["C003", "C001", "C002"]  # by last name; a company has none
    assert "F001" not in page  # suppliers have their own list
    assert row_codes(client.get("/customers?q=dup").text) == ["C001"]
    assert row_codes(client.get("/customers?q=liege").text) == ["C003", "C001"]
    assert row_codes(client.get("/customers?q=boulangerie").text) == ["C003"]
    assert row_codes(client.get("/customers?country=FR").text) == ["C002"]
    assert row_codes(client.get("/customers?city=liège").text) == ["C003", "C001"]
    assert row_codes(client.get("/customers?sort=-code").text) == ["C003", "C002", "C001"]
    # Case is folded for ASCII only (SQLite's NOCASE, which the index uses): è sorts after l.
    assert row_codes(client.get("/customers?sort=city").text) == ["C002", "C001", "C003"]
    with services.store.write() as db:
        family = db.execute(
            "INSERT INTO party_families (kind, code, label) VALUES ('customer', 'PRO', 'Pros')"
        ).lastrowid
        db.execute("UPDATE parties SET family_id = ? WHERE code = 'C002'", [family])
    assert row_codes(client.get(f"/customers?family={family}").text) == ["C002"]
    suppliers = client.get("/suppliers").text
    assert "<h1>Fournisseurs</h1>" in suppliers and row_codes(suppliers) == ["F001"]
    partial = htmx_get(client, "/customers?q=martin", "customer-results")
    assert "<html" not in partial and row_codes(partial) == ["C002"]


def test_customer_detail_with_contacts_and_documents(client: Client, shop: dict[str, int]) -> None:
    page = client.get(f"/customers/{shop['marie']}").text
    assert "<h1>C001 — Dupont Marie</h1>" in page
    contacts = page.split('class="table compact contacts"')[1].split("</table>")[0]
    assert "Dupont Paul" in contacts and "Comptable" in contacts
    documents = page.split('class="table compact documents"')[1].split("</table>")[0]
    assert documents.index("BL000001") < documents.index("CO000001")  # newest first
    assert "CO000002" not in documents and "12,10" in documents
    assert 'href="/documents?customer=C001"' in page
    # A customer is not a supplier: the wrong list gives 404.
    assert client.get(f"/suppliers/{shop['marie']}").status_code == 404
    assert client.get(f"/suppliers/{shop['supplier']}").status_code == 200


def party_row(services: Services, party_id: int) -> dict[str, Any]:
    with services.store.read() as db:
        return dict(db.execute("SELECT * FROM parties WHERE id = ?", [party_id]).fetchone())


def party_edit(services: Services, party_id: int, **changes: str) -> dict[str, str]:
    party = parties.get_party(services.store, "customer", party_id)
    assert party is not None
    form = {key: value for key, value in parties.party_form(party).items() if value}
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def test_customer_edit(client: Client, services: Services, shop: dict[str, int]) -> None:
    with services.store.write() as db:
        family = db.execute(
            "INSERT INTO party_families (kind, code, label) VALUES ('customer', 'VIP', 'VIP')"
        ).lastrowid
    form = party_edit(
        services,
        shop["marie"],
        first_name="Marie-Claire",
        company="Dupont SPRL",
        email="marie@example.be",
        phone="+32 4 123 45 67",
        address="Rue du Pont 1",
        postcode="4000",
        vat_number="be 0417.497.106",
        family=str(family),
        code="HACKED",  # the code cannot change
    )
    response = post(client, f"/customers/{shop['marie']}/save", form)
    assert response.status_code == 200 and "Modifications enregistrées." in response.text
    row = party_row(services, shop["marie"])
    assert row["code"] == "C001"
    assert (row["first_name"], row["company"], row["email"], row["family_id"]) == (
        "Marie-Claire",
        "Dupont SPRL",
        "marie@example.be",
        family,
    )
    assert row["vat_number"] == "BE0417497106"
    assert row["country"] == "BE" and row["updated_at"] > NOW
    assert row_codes(client.get("/customers?q=marie-claire").text) == ["C001"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "marie(at)example"}, "email", "marie(at)example"),
        ({"vat_number": "BE0123456789"}, "vat_number", "BE0123456789"),
        ({"country": "XX"}, "country", "Pays inconnu"),
        ({"last_name": "", "company": ""}, "last_name", "Indiquez un nom ou une société."),
        ({"phone": "call me"}, "phone", "Un numéro de téléphone"),
        ({"city": "x" * 101}, "city", "100 caractères au maximum."),
        ({"family": "supplier-family"}, "family", "Cette famille n’existe pas"),
    ],
)
def test_bad_customer_edit_is_refused_and_writes_nothing(
    client: Client,
    services: Services,
    shop: dict[str, int],
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    if changes.get("family") == "supplier-family":  # a family of suppliers is not for customers
        with services.store.write() as db:
            changes["family"] = str(
                db.execute(
                    "INSERT INTO party_families (kind, code, label) VALUES ('supplier', 'X', 'X')"
                ).lastrowid
            )
    before = party_row(services, shop["marie"])
    form = party_edit(services, shop["marie"], first_name="Changed", **changes)
    response = post(client, f"/customers/{shop['marie']}/save", form)
    assert response.status_code == 422
    error = re.search(rf'id="error-{field}">([^<]*)<', response.text)
    assert error and message in error.group(1), response.text
    assert "Rien n’a été enregistré" in response.text and 'value="Changed"' in response.text
    assert party_row(services, shop["marie"]) == before


def test_new_customer_and_supplier(
    client: Client, services: Services, shop: dict[str, int]
) -> None:
    assert "<h1>Nouveau client</h1>" in client.get("/customers/new").text
    response = post(
        client,
        "/customers/create",
        {"code": "C100", "last_name": "Leroy", "country": "FR", "active": "1"},
        htmx=False,
        follow=False,
    )
    assert response.status_code == 303
    created = client.get(response.headers["location"]).text
    assert "Client créé." in created and "<h1>C100 — Leroy</h1>" in created
    parties_before = count(services, "parties")
    duplicate = post(
        client, "/customers/create", {"code": "c001", "last_name": "Autre"}, htmx=False
    )
    assert duplicate.status_code == 422
    assert "Un client avec le code c001 existe déjà." in duplicate.text
    assert count(services, "parties") == parties_before
    # The same code is free for a supplier: codes are unique per kind.
    supplier = post(
        client, "/suppliers/create", {"code": "C001", "company": "Fournil SA"}, follow=False
    )
    assert supplier.status_code == 303 and supplier.headers["location"].startswith("/suppliers/")
    with services.store.read() as db:
        kinds = [r[0] for r in db.execute("SELECT kind FROM parties WHERE code = 'C001'")]
    assert sorted(kinds) == ["customer", "supplier"]


# Documents -------------------------------------------------------------------------------------


def document_numbers(html: str) -> list[str]:
    return re.findall(r'<tr data-number="([^"]+)"', html)


def test_documents_list_and_filters(client: Client, shop: dict[str, int]) -> None:
    page = client.get("/documents").text
    assert "<h1>Documents</h1>" in page
    assert document_numbers(page) == ["CO000002", "BL000001", "CO000001"]  # newest first
    assert "Livraison" in page and "Commande" in page and "12,10" in page
    assert "<td>en cours</td>" in page and "<td>open</td>" not in page
    assert document_numbers(client.get("/documents?sort=date").text)[0] == "CO000001"
    assert document_numbers(client.get("/documents?kind=delivery").text) == ["BL000001"]
    assert document_numbers(client.get("/documents?kind=order").text) == ["CO000002", "CO000001"]
    ranged = client.get("/documents?date_from=2024-05-02&date_to=2024-05-10").text
    assert document_numbers(ranged) == ["BL000001", "CO000001"]
    assert document_numbers(client.get("/documents?date_to=2024-05-09").text) == ["CO000001"]
    assert document_numbers(client.get("/documents?customer=c002").text) == ["CO000002"]
    assert document_numbers(client.get("/documents?customer=NOBODY").text) == []
    assert document_numbers(client.get("/documents?date_from=not-a-date").text) != []
    partial = htmx_get(client, "/documents?kind=order", "document-results")
    assert "<html" not in partial and document_numbers(partial) == ["CO000002", "CO000001"]


def test_document_detail(client: Client, shop: dict[str, int]) -> None:
    page = client.get(f"/documents/{shop['order']}").text
    assert "<h1>Commande CO000001</h1>" in page
    assert "02/05/2024" in page and f'href="/customers/{shop["marie"]}"' in page
    lines = page.split('class="table lines"')[1].split("</table>")[0]
    assert f'href="/articles/{shop["coca"]}"' in lines and "Coca-Cola 33cl" in lines
    assert "1,25" in lines and "21 %" in lines and ">8<" in lines
    payments = page.split('class="table compact payments"')[1].split("</table>")[0]
    assert "Carte bancaire" in payments and "5,00" in payments
    assert re.search(r'data-total="excl">10,00<', page)
    assert re.search(r'data-total="vat">2,10<', page)
    assert re.search(r'data-total="paid">5,00<', page)
    assert re.search(r'data-total="balance">7,10<', page)
    assert client.get("/documents/999999", headers={"accept": "text/html"}).status_code == 404


# Query plans: usable with 200,000 articles and 100,000 customers --------------------------------


def plan(services: Services, sql: str, args: list[Any]) -> list[str]:
    """The query plan, each step prefixed "page: " when it belongs to choosing the page's ids."""
    with services.store.read() as db:
        rows = db.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall()
    inner: set[int] = set()
    details = []
    for row in rows:
        if row["detail"] == "MATERIALIZE page" or row["parent"] in inner:
            inner.add(row["id"])
        prefix = "page: " if row["parent"] in inner else ""
        details.append(prefix + row["detail"])
    return details


def assert_indexed(details: list[str], *, ordered: bool) -> None:
    """No table is read from end to end, and (when asked) the page's rows come in index order.

    The outer query joins the 51 rows of the page and sorts them again: that scan and that sort
    are of the page only, whatever the size of the tables.
    """
    assert "MATERIALIZE page" in details, details
    for detail in details:
        if "SCAN" in detail and detail != "SCAN page":
            assert "INDEX" in detail or "VIRTUAL TABLE" in detail, details
    if ordered:
        assert "page: USE TEMP B-TREE FOR ORDER BY" not in details, details
        assert any("COVERING INDEX" in detail for detail in details), details


ARTICLE_QUERIES: list[dict[str, str]] = [
    {},
    {"sort": "code"},
    {"sort": "-code"},
    {"sort": "-label"},
    {"family": "1"},
    {"vat": "1", "unit": "1", "export": "1", "active": "0"},
    {"q": "coca", "sort": "code"},
    {"q": "co", "family": "1"},
]


@pytest.mark.parametrize("params", ARTICLE_QUERIES)
def test_article_queries_use_an_index(services: Services, params: dict[str, str]) -> None:
    query = catalog.parse_article_query(params)
    sql, args = catalog.article_list_sql(query, 1)
    details = plan(services, sql, args)
    assert_indexed(details, ordered=set(params) <= {"sort"})
    if "q" in params:
        assert any("articles_fts VIRTUAL TABLE" in detail for detail in details)


PARTY_QUERIES: list[dict[str, str]] = [
    {},
    {"sort": "code"},
    {"sort": "-name"},
    {"sort": "city"},
    {"city": "Liège"},
    {"country": "BE", "family": "1"},
    {"q": "dup", "sort": "-city"},
]


@pytest.mark.parametrize("params", PARTY_QUERIES)
def test_party_queries_use_an_index(services: Services, params: dict[str, str]) -> None:
    query = parties.parse_party_query(params)
    sql, args = parties.party_list_sql("customer", query)
    details = plan(services, sql, args)
    assert_indexed(details, ordered=set(params) <= {"sort"})
    if "q" in params:
        assert any("parties_fts VIRTUAL TABLE" in detail for detail in details), details
    elif "city" in params:
        assert any("parties_kind_city (kind=? AND city=?)" in detail for detail in details)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "date"},
        {"kind": "order", "date_from": "2024-01-01"},
        {"customer": "C001"},
        {"date_from": "2024-01-01", "date_to": "2024-02-01"},
    ],
)
def test_document_queries_use_an_index(services: Services, params: dict[str, str]) -> None:
    query = document_list.parse_document_query(params)
    sql, args = document_list.document_list_sql(query)
    details = plan(services, sql, args)
    assert_indexed(details, ordered=set(params) <= {"sort"})
    if "customer" in params:
        assert any("documents_party" in detail for detail in details), details


def test_list_links_only_carry_known_parameters() -> None:
    query = ListQuery(q="a b", sort="code", descending=True, page=3, filters={"family": "2"})
    assert query.link("/articles") == "/articles?q=a+b&family=2&sort=-code&page=3"
    assert query.sort_link("/articles", "code") == "/articles?q=a+b&family=2&sort=code"
    assert query.page_link("/articles", 1) == "/articles?q=a+b&family=2&sort=-code"


def test_supplier_edit_goes_through_the_suppliers_path_only(
    client: Client, services: Services, shop: dict[str, int]
) -> None:
    form = {"company": "Brasserie du Sud", "city": "Namur", "country": "BE", "active": "1"}
    assert post(client, f"/customers/{shop['supplier']}/save", form).status_code == 404
    assert party_row(services, shop["supplier"])["company"] == "Brasserie du Nord"
    response = post(client, f"/suppliers/{shop['supplier']}/save", form)
    assert response.status_code == 200 and "Modifications enregistrées." in response.text
    row = party_row(services, shop["supplier"])
    assert (row["kind"], row["company"], row["city"]) == ("supplier", "Brasserie du Sud", "Namur")
    assert row_codes(client.get("/suppliers?q=sud").text) == ["F001"]
    assert row_codes(client.get("/customers?q=sud").text) == []


@pytest.mark.slow
def test_every_demo_record_shows_and_saves_unchanged(client: Client, services: Services) -> None:
    """The checks accept what the demo (and so the import) writes: a form sent back as it was
    shown saves, and changes nothing but the time of the change."""
    from webapp.backoffice.demo import seed_backoffice_demo

    assert seed_backoffice_demo(services.store)
    with services.store.read() as db:
        articles = [row[0] for row in db.execute("SELECT id FROM articles")]
        people = [(row[0], row[1]) for row in db.execute("SELECT id, kind FROM parties")]
        documents = [row[0] for row in db.execute("SELECT id FROM documents")]
    assert articles and people and documents
    for document_id in documents:
        assert client.get(f"/documents/{document_id}").status_code == 200
    for article_id in articles:
        before = article_row(services, article_id)
        form = edit_form(services, article_id)
        assert post(client, f"/articles/{article_id}/save", form).status_code == 200
        after = article_row(services, article_id)
        assert {**after, "updated_at": None} == {**before, "updated_at": None}
    for party_id, kind in people:
        before = party_row(services, party_id)
        party = parties.get_party(services.store, kind, party_id)
        assert party is not None
        form = {key: value for key, value in parties.party_form(party).items() if value}
        path = "/customers" if kind == "customer" else "/suppliers"
        assert post(client, f"{path}/{party_id}/save", form).status_code == 200
        after = party_row(services, party_id)
        assert {**after, "updated_at": None} == {**before, "updated_at": None}
