"""What a package holds (POS-2): each entity's rows in their wire shape (docs/pos.md).

:data:`SOURCES` names the entities in the order a package lists them, each with its query; the
rows are read all at once for a full package, or only those of the keys the change log names for a
differential one (:func:`present`: a key whose row is gone becomes a delete).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from webapp.pos import protocol

CHUNK = 500
PRICE_STEP = Decimal("0.0001")

# Each entity's rows in their wire shape (docs/pos.md). ``{where}`` is filled with a filter on the
# key; the key column is the first one. Prices are those of the default price category.
_ARTICLES = (
    "SELECT a.code, a.label, a.barcode, u.code AS unit, v.code AS vat_code, v.rate AS vat_rate,"
    " p.price_excl_vat, f.code AS family, f.label AS family_label, a.active FROM articles a"
    " JOIN units u ON u.id = a.unit_id JOIN vat_rates v ON v.id = a.vat_rate_id"
    " LEFT JOIN article_families f ON f.id = a.family_id"
    " LEFT JOIN article_prices p ON p.article_id = a.id AND p.price_category_id ="
    " (SELECT id FROM price_categories ORDER BY is_default DESC, id LIMIT 1)"
    " WHERE {where} ORDER BY a.code"
)
_CUSTOMERS = (
    "SELECT p.code, p.last_name, p.first_name, p.company, p.email, p.phone, p.address,"
    " p.postcode, p.city, p.country, p.vat_number FROM parties p"
    " WHERE p.kind = 'customer' AND {where} ORDER BY p.code"
)
_USERS = (
    "SELECT u.code, u.name, u.active,"
    " (SELECT json_group_array(r.number) FROM (SELECT r.number FROM pos_user_registers ur"
    " JOIN pos_registers r ON r.id = ur.register_id WHERE ur.user_id = u.id ORDER BY r.number) r)"
    " AS registers FROM pos_users u WHERE {where} ORDER BY u.code"
)
_PAYMENT_METHODS = (
    "SELECT m.code, m.label, m.is_cash, m.active FROM payment_methods m"
    " WHERE {where} ORDER BY m.code"
)
_VAT_RATES = (
    "SELECT v.code, v.label, v.rate, v.country FROM vat_rates v WHERE {where} ORDER BY v.code"
)
_UNITS = "SELECT n.code, n.label, n.decimals FROM units n WHERE {where} ORDER BY n.code"
_REGISTERS = (
    "SELECT CAST(r.number AS TEXT) AS number, r.label, r.ticket_prefix, r.active"
    " FROM pos_registers r WHERE r.id = :register_id AND {where}"
)


@dataclass(frozen=True)
class EntitySource:
    name: str
    sql: str
    key_column: str


SOURCES = (
    EntitySource("articles", _ARTICLES, "a.code"),
    EntitySource("customers", _CUSTOMERS, "p.code"),
    EntitySource("users", _USERS, "u.code"),
    EntitySource("payment_methods", _PAYMENT_METHODS, "m.code"),
    EntitySource("vat_rates", _VAT_RATES, "v.code"),
    EntitySource("units", _UNITS, "n.code"),
    EntitySource("registers", _REGISTERS, "CAST(r.number AS TEXT)"),
)


def _decimal_text(value: Any) -> str:
    """A rate or a count without exponent or trailing zeros: 20, 5.5."""
    number = Decimal(str(value)).normalize()
    return protocol.amount(
        number.quantize(Decimal(1)) if number == number.to_integral() else number
    )


def _price(value: Any) -> str | None:
    if value is None:
        return None
    return protocol.amount(Decimal(str(value)).quantize(PRICE_STEP))


def _shape(entity: str, row: dict[str, Any]) -> dict[str, Any]:
    if entity == "articles":
        row["vat_rate"] = _decimal_text(row["vat_rate"])
        row["price_excl_vat"] = _price(row["price_excl_vat"])
        row["active"] = bool(row["active"])
    elif entity == "users":
        row["active"] = bool(row["active"])
        row["registers"] = json.loads(row["registers"] or "[]")
    elif entity == "payment_methods":
        row["is_cash"] = bool(row["is_cash"])
        row["active"] = bool(row["active"])
    elif entity == "vat_rates":
        row["rate"] = _decimal_text(row["rate"])
    elif entity == "registers":
        row["number"] = int(row["number"])
        row["active"] = bool(row["active"])
    return row


def _rows(db: Database, sql: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Streamed in chunks (not webapp.store.rows): a full package may hold 100,000 articles."""
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    while batch := cursor.fetchmany(CHUNK):
        for row in batch:
            yield dict(zip(names, row, strict=True))


def all_rows(db: Database, source: EntitySource, register_id: int) -> Iterator[dict[str, Any]]:
    sql = source.sql.format(where="1 = 1")
    for row in _rows(db, sql, {"register_id": register_id}):
        yield _shape(source.name, row)


def changed_keys(db: Database, entity: str, from_seq: int, to_seq: int) -> list[str]:
    cursor = db.execute(
        "SELECT DISTINCT key FROM change_log WHERE entity = ? AND seq > ? AND seq <= ?",
        [entity, from_seq, to_seq],
    )
    return [str(row[0]) for row in cursor.fetchall()]


def _rows_for_keys(
    db: Database, source: EntitySource, keys: Sequence[str], register_id: int
) -> Iterator[dict[str, Any]]:
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        names = {f"k{index}": key for index, key in enumerate(chunk)}
        where = f"{source.key_column} IN ({', '.join(':' + name for name in names)})"
        params = {"register_id": register_id, **names}
        for row in _rows(db, source.sql.format(where=where), params):
            yield _shape(source.name, row)


def present(
    db: Database,
    source: EntitySource,
    keys: list[str],
    register_id: int,
    deletes: dict[str, list[str]],
) -> Iterator[dict[str, Any]]:
    """The rows of ``keys`` that exist; the others become deletes (of the entities that have them)."""
    missing = {key.casefold(): key for key in keys}
    for row in _rows_for_keys(db, source, keys, register_id):
        key = str(row["number"] if source.name == "registers" else row["code"])
        missing.pop(key.casefold(), None)
        yield row
    if source.name in deletes:
        deletes[source.name].extend(sorted(missing.values()))
