"""Demonstration back office: the estate of :mod:`webapp.backoffice.demo_data` written in.

Everything is written in one transaction and only once per data folder (a settings marker), and
never over a back office that already holds articles or customers. Orders and deliveries go
through :mod:`webapp.backoffice.documents`, as the connectors' will.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from webapp.backoffice.demo_data import (
    ARTICLE_FAMILIES,
    ARTICLES,
    BARCODE_PREFIX,
    CARRIERS,
    COMPANY,
    CUSTOMERS,
    PARTY_FAMILIES,
    REGISTERS,
    SALES,
    SUPPLIERS,
    USERS,
    Article,
    Party,
    Sale,
)
from webapp.backoffice.document_totals import price_excl_vat
from webapp.backoffice.documents import (
    DocumentInput,
    LineInput,
    PaymentInput,
    check_document,
    create_document,
)
from webapp.backoffice.identifiers import ean13, fr_vat_number
from webapp.clock import now_iso
from webapp.store import Store

log = logging.getLogger(__name__)

MARKER = "backoffice_demo_seeded"
D = Decimal


# --- Writing --------------------------------------------------------------------------------


def _id(db: Database, table: str, column: str, value: Any) -> int:
    return int(db.execute(f"SELECT id FROM {table} WHERE {column} = ?", [value]).fetchone()[0])


def _insert(db: Database, table: str, values: dict[str, Any]) -> int:
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    row = db.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id", list(values.values())
    ).fetchone()
    return int(row[0])


def _rename_company(db: Database) -> None:
    company = {**COMPANY, "vat_number": fr_vat_number(COMPANY["company_number"])}
    assignments = ", ".join(f"{column} = ?" for column in company)
    db.execute(f"UPDATE companies SET {assignments} WHERE is_default = 1", list(company.values()))
    db.execute(
        "UPDATE sites SET name = 'Domaine et caveau', address = ?, postcode = ?, city = ?,"
        " country = 'FR' WHERE code = 'MAIN'",
        [COMPANY["address"], COMPANY["postcode"], COMPANY["city"]],
    )
    db.execute("UPDATE warehouses SET name = 'Cave du domaine' WHERE is_default = 1")


def _add_reference_tables(db: Database) -> None:
    for code, label in ARTICLE_FAMILIES:
        _insert(db, "article_families", {"code": code, "label": label})
    for kind, code, label in PARTY_FAMILIES:
        _insert(db, "party_families", {"kind": kind, "code": code, "label": label})
    for code, name in CARRIERS:
        _insert(db, "carriers", {"code": code, "name": name})
    _insert(db, "price_categories", {"code": "PRO", "label": "Professionnels"})
    _insert(db, "payment_methods", {"code": "CHEQUE", "label": "Chèque"})


def _add_article(db: Database, number: int, article: Article, now: str) -> None:
    vat_id, rate = db.execute(
        "SELECT id, rate FROM vat_rates WHERE code = ?", [article.vat]
    ).fetchone()
    article_id = _insert(
        db,
        "articles",
        {
            "code": article.code,
            "label": article.label,
            "family_id": _id(db, "article_families", "code", article.family),
            "unit_id": _id(db, "units", "code", article.unit),
            "vat_rate_id": vat_id,
            "barcode": ean13(f"{BARCODE_PREFIX}{number:03d}") if article.barcode else None,
            "export": int(article.export),
            "tags": article.tags,
            "created_at": now,
            "updated_at": now,
        },
    )
    shop_price = price_excl_vat(D(article.price_incl_vat), D(str(rate)))
    prices = (("STD", shop_price), ("PRO", D(article.pro_price)))
    for category, price in prices:
        db.execute(
            "INSERT INTO article_prices (article_id, price_category_id, price_excl_vat)"
            " VALUES (?, ?, ?)",
            [article_id, _id(db, "price_categories", "code", category), float(price)],
        )
    if article.family != "SERV":
        db.execute(
            "INSERT INTO stock (article_id, warehouse_id, quantity) VALUES"
            " (?, (SELECT id FROM warehouses WHERE is_default = 1), ?)",
            [article_id, float(D(article.stock))],
        )


def _add_party(db: Database, kind: str, party: Party, created_on: date, now: str) -> None:
    slug = f"{party.first_name}.{party.last_name}".lower().replace(" ", "")
    party_id = _insert(
        db,
        "parties",
        {
            "kind": kind,
            "code": party.code,
            "family_id": db.execute(
                "SELECT id FROM party_families WHERE kind = ? AND code = ?", [kind, party.family]
            ).fetchone()[0],
            "last_name": party.last_name,
            "first_name": party.first_name,
            "company": party.company,
            "email": f"{slug}@example.{'be' if party.country == 'BE' else 'fr'}",
            "phone": party.phone,
            "address": party.address,
            "postcode": party.postcode,
            "city": party.city,
            "country": party.country,
            "vat_number": party.vat_number,
            "created_on": created_on.isoformat(),
            "created_at": now,
            "updated_at": now,
        },
    )
    for number, (first_name, last_name, role) in enumerate(party.contacts, start=1):
        _insert(
            db,
            "contacts",
            {
                "party_id": party_id,
                "contact_no": number,
                "last_name": last_name,
                "first_name": first_name,
                "role": role,
                "email": f"{first_name}.{last_name}@example.fr".lower().replace(" ", ""),
            },
        )


def _add_pos(db: Database) -> None:
    company = _id(db, "companies", "is_default", 1)
    warehouse = _id(db, "warehouses", "is_default", 1)
    for number, label, prefix in REGISTERS:
        _insert(
            db,
            "pos_registers",
            {
                "number": number,
                "label": label,
                "company_id": company,
                "warehouse_id": warehouse,
                "ticket_prefix": prefix,
            },
        )
    for code, name, registers in USERS:
        user_id = _insert(db, "pos_users", {"code": code, "name": name})
        for number in registers:
            db.execute(
                "INSERT INTO pos_user_registers (user_id, register_id) VALUES (?, ?)",
                [user_id, _id(db, "pos_registers", "number", number)],
            )


def _sale_line(db: Database, code: str, quantity: str, prices: str) -> LineInput:
    article = next(a for a in ARTICLES if a.code == code)
    row = db.execute(
        "SELECT a.id, u.code FROM articles a JOIN units u ON u.id = a.unit_id WHERE a.code = ?",
        [code],
    ).fetchone()
    price = D(article.price_incl_vat) if prices == "shop" else D(article.pro_price)
    rate = D("0") if prices == "pro-eu" else None  # None: the article's own rate
    return LineInput(article.label, D(quantity), price, rate, article_id=row[0], unit_code=row[1])


def _payments(total: Decimal, wanted: list[tuple[str, str]], paid_on: date) -> list[PaymentInput]:
    """Amounts "all" (the whole total) and "rest" (what earlier payments left) resolved."""
    payments: list[PaymentInput] = []
    for method, amount in wanted:
        paid = sum((payment.amount for payment in payments), D("0"))
        value = total - paid if amount in ("all", "rest") else D(amount)
        payments.append(PaymentInput(method, value, paid_on))
    return payments


def _add_sale(db: Database, sale: Sale, today: date) -> None:
    kind, days_ago, customer, prices, items, wanted, origin = sale
    doc_date = today - timedelta(days=days_ago)
    data = DocumentInput(
        kind=kind,
        doc_date=doc_date,
        party_id=_id(db, "parties", "code", customer) if customer else None,
        lines=[_sale_line(db, code, quantity, prices) for code, quantity in items],
        prices_include_vat=prices == "shop",
        source=origin[0] if origin else None,
        external_ref=origin[1] if origin else None,
        carrier_id=_id(db, "carriers", "code", "TBE") if prices != "shop" else None,
    )
    total = check_document(db, data).total_incl_vat
    create_document(db, replace(data, payments=_payments(total, wanted, doc_date)))


# --- Entry point ----------------------------------------------------------------------------


def _already_there(db: Database) -> bool:
    if db.execute("SELECT 1 FROM settings WHERE key = ?", [MARKER]).fetchone():
        return True
    return bool(
        db.execute(
            "SELECT EXISTS (SELECT 1 FROM articles) OR EXISTS (SELECT 1 FROM parties)"
            " OR EXISTS (SELECT 1 FROM documents)"
        ).fetchone()[0]
    )


def seed_backoffice_demo(store: Store, today: date | None = None) -> bool:
    """Fill an empty back office with the estate; returns False (and does nothing) otherwise."""
    today = today or date.today()
    now = now_iso()
    with store.write() as db:
        if _already_there(db):
            return False
        _rename_company(db)
        _add_reference_tables(db)
        for number, article in enumerate(ARTICLES, start=1):
            _add_article(db, number, article, now)
        for number, party in enumerate(CUSTOMERS):
            _add_party(db, "customer", party, today - timedelta(days=400 - 11 * number), now)
        for party in SUPPLIERS:
            _add_party(db, "supplier", party, today - timedelta(days=900), now)
        _add_pos(db)
        for sale in SALES:
            _add_sale(db, sale, today)
        db.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [MARKER, json.dumps(True)])
    log.info("back-office demo data seeded")
    return True
