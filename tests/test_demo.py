"""The demonstration back office: its shape, valid identifiers, consistent documents, seeded once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from webapp import settings
from webapp.backoffice.demo import seed_backoffice_demo
from webapp.backoffice.documents import get_document
from webapp.demo import seed_demo
from webapp.services import Services
from webapp.store import Store


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(tmp_path_factory.mktemp("demo") / "relais.sqlite")
    assert seed_backoffice_demo(store) is True
    yield store
    store.close()


def rows(store: Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with store.read() as db:
        return [tuple(row) for row in db.execute(sql, params or []).fetchall()]


def scalar(store: Store, sql: str) -> Any:
    return rows(store, sql)[0][0]


def dump(store: Store) -> list[str]:
    with store.read() as db:
        return list(db.conn.iterdump())


# --- Independent checks of the identifiers ---------------------------------------------------


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def fr_vat_valid(number: str) -> bool:
    match = re.fullmatch(r"FR(\d{2})(\d{9})", number)
    if not match:
        return False
    key, siren = int(match.group(1)), match.group(2)
    return key == (12 + 3 * (int(siren) % 97)) % 97 and luhn_valid(siren)


def be_vat_valid(number: str) -> bool:
    match = re.fullmatch(r"BE([01]\d{7})(\d{2})", number)
    return bool(match) and 97 - int(match.group(1)) % 97 == int(match.group(2))  # type: ignore[union-attr]


def ean13_valid(code: str) -> bool:
    if not re.fullmatch(r"\d{13}", code):
        return False
    weighted = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(code[:12]))
    return (10 - weighted % 10) % 10 == int(code[12])


def test_the_checkers_reject_wrong_numbers() -> None:
    assert fr_vat_valid("FR55832147656") and not fr_vat_valid("FR56832147656")
    assert be_vat_valid("BE0456781215") and not be_vat_valid("BE0456781216")
    assert ean13_valid("4006381333931") and not ean13_valid("4006381333932")


# --- Shape -----------------------------------------------------------------------------------


def test_the_company_is_a_burgundy_estate_with_valid_numbers(seeded: Store) -> None:
    name, number, vat, postcode, country = rows(
        seeded,
        "SELECT name, company_number, vat_number, postcode, country FROM companies"
        " WHERE is_default = 1",
    )[0]
    assert "Domaine" in name
    assert luhn_valid(number) and len(number) == 9
    assert fr_vat_valid(vat) and vat.endswith(number)
    assert postcode.startswith(("21", "71", "89", "58")) and country == "FR"


def test_articles_families_prices_and_stock(seeded: Store) -> None:
    articles = scalar(seeded, "SELECT count(*) FROM articles")
    assert 38 <= articles <= 50
    families = {row[0] for row in rows(seeded, "SELECT label FROM article_families")}
    assert {"Vins rouges", "Vins blancs", "Crémants", "Services"} <= families
    empty = rows(
        seeded,
        "SELECT f.code FROM article_families f WHERE NOT EXISTS"
        " (SELECT 1 FROM articles a WHERE a.family_id = f.id)",
    )
    assert empty == []
    rates = dict(
        rows(
            seeded,
            "SELECT f.code, group_concat(DISTINCT v.code) FROM articles a"
            " JOIN article_families f ON f.id = a.family_id"
            " JOIN vat_rates v ON v.id = a.vat_rate_id GROUP BY f.code",
        )
    )
    assert rates["ROUGE"] == rates["BLANC"] == rates["CREM"] == rates["SERV"] == "FR20"
    assert rates["MIEL"] == "FR5.5"
    # Every article has a shop price and a lower professional one.
    prices = rows(
        seeded,
        "SELECT a.code, s.price_excl_vat, p.price_excl_vat FROM articles a"
        " JOIN article_prices s ON s.article_id = a.id AND s.price_category_id ="
        " (SELECT id FROM price_categories WHERE code = 'STD')"
        " JOIN article_prices p ON p.article_id = a.id AND p.price_category_id ="
        " (SELECT id FROM price_categories WHERE label = 'Professionnels')",
    )
    assert len(prices) == articles
    assert all(0 < pro < shop for _code, shop, pro in prices)
    # Goods are in stock in the main warehouse, services are not stocked.
    stocked = rows(
        seeded,
        "SELECT f.code, s.quantity FROM articles a JOIN article_families f ON f.id = a.family_id"
        " LEFT JOIN stock s ON s.article_id = a.id"
        " AND s.warehouse_id = (SELECT id FROM warehouses WHERE is_default = 1)",
    )
    assert all((quantity is None) == (family == "SERV") for family, quantity in stocked)
    assert all(quantity > 0 for family, quantity in stocked if family != "SERV")


def test_barcodes_are_valid_and_unique(seeded: Store) -> None:
    barcodes = [row[0] for row in rows(seeded, "SELECT barcode FROM articles WHERE barcode != ''")]
    assert len(barcodes) >= 10
    assert all(ean13_valid(code) for code in barcodes)
    assert len(set(barcodes)) == len(barcodes)


def test_customers_suppliers_and_their_vat_numbers(seeded: Store) -> None:
    kinds = dict(rows(seeded, "SELECT kind, count(*) FROM parties GROUP BY kind"))
    assert 24 <= kinds["customer"] <= 48
    assert kinds["supplier"] == 4
    parties = rows(
        seeded, "SELECT kind, company, country, vat_number, postcode, city, email FROM parties"
    )
    for kind, company, country, vat, postcode, city, email in parties:
        assert city and "@" in email
        assert re.fullmatch(r"\d{5}" if country == "FR" else r"\d{4}", postcode)
        if vat:
            assert company, "only companies have a VAT number"
            valid = fr_vat_valid(vat) if country == "FR" else be_vat_valid(vat)
            assert valid, vat
        elif kind == "supplier":
            pytest.fail(f"supplier {company} has no VAT number")
    belgian_companies = [p for p in parties if p[2] == "BE" and p[3]]
    assert len(belgian_companies) >= 2
    cities = {p[5] for p in parties}
    assert {"Paris", "Dijon", "Beaune"} <= cities
    contacts = scalar(seeded, "SELECT count(*) FROM contacts")
    assert contacts >= 5


def test_registers_and_users(seeded: Store) -> None:
    registers = rows(seeded, "SELECT number, label, ticket_prefix FROM pos_registers ORDER BY 1")
    assert [(number, label) for number, label, _ in registers] == [
        (1, "Caisse boutique"),
        (2, "Caisse salon des vins"),
    ]
    prefixes = [prefix for _, _, prefix in registers]
    assert all(prefixes) and len(set(prefixes)) == 2
    links = rows(
        seeded,
        "SELECT u.code, group_concat(r.number) FROM pos_users u"
        " JOIN pos_user_registers ur ON ur.user_id = u.id"
        " JOIN pos_registers r ON r.id = ur.register_id GROUP BY u.id ORDER BY u.id",
    )
    assert scalar(seeded, "SELECT count(*) FROM pos_users") == 3
    spans = sorted(sorted(int(n) for n in numbers.split(",")) for _, numbers in links)
    assert spans == [[1], [1, 2], [2]]


# --- Documents -------------------------------------------------------------------------------


def test_documents_are_numbered_and_totalled_consistently(seeded: Store) -> None:
    documents = rows(seeded, "SELECT id, kind, number FROM documents ORDER BY id")
    assert 12 <= len(documents) <= 20
    for kind, prefix in (("order", "CO"), ("delivery", "BL")):
        numbers = [number for _, k, number in documents if k == kind]
        assert numbers == [f"{prefix}{n:06d}" for n in range(1, len(numbers) + 1)]
    with seeded.read() as db:
        loaded = [get_document(db, document_id) for document_id, _, _ in documents]
    for document in loaded:
        assert document is not None and document.lines
        assert document.total_excl_vat == sum(line.total_excl_vat for line in document.lines)
        assert document.total_incl_vat == sum(line.total_incl_vat for line in document.lines)
        assert document.total_vat == document.total_incl_vat - document.total_excl_vat
        for line in document.lines:
            computed = line.total_excl_vat * (1 + line.vat_rate / 100)
            assert abs(computed - line.total_incl_vat) <= D("0.01") * abs(line.quantity)
        paid = sum(payment.amount for payment in document.payments)
        assert 0 <= paid <= document.total_incl_vat
    assert sum(1 for d in loaded if d and d.payments) >= 8
    assert sum(1 for d in loaded if d and d.source and d.source.startswith("pos:")) >= 3
    assert sum(1 for d in loaded if d and d.party_id is None) >= 3
    assert sum(1 for d in loaded if d and d.total_vat == 0) >= 1  # intra-EU supply


# --- Once ------------------------------------------------------------------------------------


def test_seeding_twice_changes_nothing(seeded: Store) -> None:
    before = dump(seeded)
    assert seed_backoffice_demo(seeded) is False
    assert dump(seeded) == before


def test_an_existing_back_office_is_left_alone(tmp_path: Path) -> None:
    store = Store(tmp_path / "relais.sqlite")
    try:
        with store.write() as db:
            db.execute(
                "INSERT INTO parties (kind, code, last_name, created_at, updated_at)"
                " VALUES ('customer', 'REAL', 'Client réel', 'now', 'now')"
            )
        before = dump(store)
        assert seed_backoffice_demo(store) is False
        assert dump(store) == before
    finally:
        store.close()


def test_seed_demo_seeds_the_back_office_once(services: Services) -> None:
    seed_demo(services)
    first = scalar(services.store, "SELECT count(*) FROM documents")
    assert first > 0
    assert settings.read_value(services.store, "demo_seeded") is True
    seed_demo(services)
    assert scalar(services.store, "SELECT count(*) FROM documents") == first
    assert scalar(services.store, "SELECT count(*) FROM articles") >= 38


def test_the_demo_connector_has_a_reception_waiting(services: Services) -> None:
    """The demo's web-shop orders: a homonym, a new customer, an article without correspondence."""
    import os
    import time

    from webapp.econnector import connectors
    from webapp.econnector.receive import receive

    seed_demo(services)
    connector = connectors.get(services.store, "BOUTIQUE")
    orders = Path(connector.import_dir) / "commandes.csv"
    past = time.time() - 60
    os.utime(orders, (past, past))
    report = receive(services.store, connector, analyse_only=True)
    found = {result.doc_ref: (result.status, result.customer_status) for result in report.documents}
    assert found == {
        "WEB-1001": ("will_integrate", "homonym"),
        "WEB-1002": ("will_integrate", "new"),
        "WEB-1003": ("not_integrated", "new"),
    }
    assert report.articles_without_correspondence[0]["article_ref"] == "CREMANT-X"
