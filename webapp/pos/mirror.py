"""A register's copy of the office's reference data, kept as the packages say (POS-3).

:func:`apply_package` applies one package in one transaction and records it in
``pos_packages_applied`` in that same transaction; :func:`apply_rows` is the part that changes the
rows (also used by the "reference" update packages): upserts by code, deletes by code, the whole
mirror for a full package, and only this register's users kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from webapp.clock import now_iso
from webapp.i18n import N_
from webapp.pos import protocol
from webapp.pos.register_config import RegisterError
from webapp.store import Store


def apply_package(store: Store, package: Mapping[str, Any], register: int) -> bool:
    """Apply one package in one transaction, recorded in the same one; False if already applied."""
    number = int(package["number"])
    with store.write() as db:
        if db.execute("SELECT 1 FROM pos_packages_applied WHERE number = ?", [number]).fetchone():
            return False
        apply_rows(db, package, register)
        db.execute(
            "INSERT INTO pos_packages_applied (number, full, to_seq, applied_at) VALUES (?, ?, ?, ?)",
            [number, int(bool(package.get("full"))), int(package.get("to_seq") or 0), now_iso()],
        )
    return True


def apply_rows(db: Any, package: Mapping[str, Any], register: int) -> None:
    """Upserts by code, deletes by code, then keep only this register's users. Idempotent."""
    upserts: Mapping[str, list[dict[str, Any]]] = package.get("upserts") or {}
    deletes: Mapping[str, list[str]] = package.get("deletes") or {}
    context = _Context(db, upserts)
    for row in upserts.get("vat_rates", []):
        _upsert_vat_rate(db, row)
    for row in upserts.get("units", []):
        _upsert_unit(db, row)
    for row in upserts.get("registers", []):
        _upsert_register(db, row)
    for row in upserts.get("payment_methods", []):
        _upsert_payment_method(db, row)
    for row in upserts.get("articles", []):
        _upsert_article(context, row)
    for row in upserts.get("customers", []):
        upsert_customer(db, row)
    for row in upserts.get("users", []):
        _upsert_user(context, row)
    if package.get("full"):
        _mirror(db, upserts)
    for entity in protocol.DELETABLE:
        for code in deletes.get(entity, []):
            _DELETERS[entity](db, str(code))
    keep_register_users(db, register)
    # The change log is the office's: on a register it would only grow with every import.
    db.execute("DELETE FROM change_log")


@dataclass
class _Context:
    db: Any
    upserts: Mapping[str, list[dict[str, Any]]]

    def row_of(self, entity: str, key: str, value: Any) -> dict[str, Any] | None:
        for row in self.upserts.get(entity, []):
            if str(row.get(key)).casefold() == str(value).casefold():
                return row
        return None


def _differs(table: str, columns: Iterable[str]) -> str:
    return " OR ".join(f"{table}.{name} IS NOT excluded.{name}" for name in columns)


def _upsert(db: Any, table: str, key: str, values: Mapping[str, Any], conflict: str = "") -> None:
    names = list(values)
    updated = [name for name in names if name not in (key, "kind", "created_at", "company_id")]
    assignments = ", ".join(f"{name} = excluded.{name}" for name in updated)
    db.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        f" ON CONFLICT ({conflict or key}) DO UPDATE SET {assignments}"
        f" WHERE {_differs(table, [n for n in updated if n != 'updated_at'])}",
        list(values.values()),
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> float:
    return float(protocol.amount(value))


def _upsert_vat_rate(db: Any, row: Mapping[str, Any]) -> None:
    values = {
        "code": str(row["code"]),
        "label": _text(row.get("label")) or str(row["code"]),
        "rate": _number(row.get("rate") or 0),
        "country": row.get("country") or None,
    }
    _upsert(db, "vat_rates", "code", values)


def _upsert_unit(db: Any, row: Mapping[str, Any]) -> None:
    values = {
        "code": str(row["code"]),
        "label": _text(row.get("label")) or str(row["code"]),
        "decimals": int(row.get("decimals") or 0),
    }
    _upsert(db, "units", "code", values)


def _default_company(db: Any) -> int:
    row = db.execute("SELECT id FROM companies ORDER BY is_default DESC, id LIMIT 1").fetchone()
    if row is None:
        raise RegisterError(N_("This data folder has no company."))
    return int(row[0])


def _upsert_register(db: Any, row: Mapping[str, Any]) -> None:
    number = int(row["number"])
    values = {
        "number": number,
        "label": _text(row.get("label")) or f"Caisse {number}",
        "company_id": _default_company(db),
        "ticket_prefix": _text(row.get("ticket_prefix")) or f"C{number}-",
        "active": int(bool(row.get("active", True))),
    }
    _upsert(db, "pos_registers", "number", values)


def _upsert_payment_method(db: Any, row: Mapping[str, Any]) -> None:
    values = {
        "code": str(row["code"]),
        "label": _text(row.get("label")) or str(row["code"]),
        "is_cash": int(bool(row.get("is_cash"))),
        "active": int(bool(row.get("active", True))),
    }
    _upsert(db, "payment_methods", "code", values)


def _id_by_code(db: Any, table: str, code: str) -> int | None:
    row = db.execute(f"SELECT id FROM {table} WHERE code = ?", [code]).fetchone()
    return int(row[0]) if row else None


def _unit_id(context: _Context, code: str) -> int:
    found = _id_by_code(context.db, "units", code)
    if found is None:
        _upsert_unit(context.db, context.row_of("units", "code", code) or {"code": code})
        found = _id_by_code(context.db, "units", code)
    assert found is not None
    return found


def _vat_id(context: _Context, code: str, rate: Any) -> int:
    found = _id_by_code(context.db, "vat_rates", code)
    if found is None:
        row = context.row_of("vat_rates", "code", code) or {"code": code, "rate": rate or 0}
        _upsert_vat_rate(context.db, row)
        found = _id_by_code(context.db, "vat_rates", code)
    assert found is not None
    return found


def _family_id(db: Any, code: Any, label: Any = None) -> int | None:
    """The family by code, made or renamed with the office's name (older packages carry only the
    code, which then stands for the name)."""
    if not code:
        return None
    name = str(label or "").strip() or None
    found = _id_by_code(db, "article_families", str(code))
    if found is None:
        cursor = db.execute(
            "INSERT INTO article_families (code, label) VALUES (?, ?)",
            [str(code), name or str(code)],
        )
        found = int(cursor.lastrowid)
    elif name:
        db.execute(
            "UPDATE article_families SET label = ? WHERE id = ? AND label <> ?", [name, found, name]
        )
    return found


def _default_price_category(db: Any) -> int:
    row = db.execute(
        "SELECT id FROM price_categories ORDER BY is_default DESC, id LIMIT 1"
    ).fetchone()
    if row is None:
        cursor = db.execute(
            "INSERT INTO price_categories (code, label, is_default) VALUES ('STD', 'STD', 1)"
        )
        return int(cursor.lastrowid)
    return int(row[0])


def _upsert_article(context: _Context, row: Mapping[str, Any]) -> None:
    db = context.db
    code = str(row["code"])
    moment = now_iso()
    values = {
        "code": code,
        "label": _text(row.get("label")) or code,
        "family_id": _family_id(db, row.get("family"), row.get("family_label")),
        "unit_id": _unit_id(context, str(row.get("unit") or "U")),
        "vat_rate_id": _vat_id(context, str(row.get("vat_code") or "0"), row.get("vat_rate")),
        "barcode": row.get("barcode") or None,
        "active": int(bool(row.get("active", True))),
        "created_at": moment,
        "updated_at": moment,
    }
    _upsert(db, "articles", "code", values)
    article_id = _id_by_code(db, "articles", code)
    category = _default_price_category(db)
    price = row.get("price_excl_vat")
    if price is None or price == "":
        db.execute(
            "DELETE FROM article_prices WHERE article_id = ? AND price_category_id = ?",
            [article_id, category],
        )
        return
    db.execute(
        "INSERT INTO article_prices (article_id, price_category_id, price_excl_vat)"
        " VALUES (?, ?, ?) ON CONFLICT (article_id, price_category_id) DO UPDATE"
        " SET price_excl_vat = excluded.price_excl_vat"
        " WHERE article_prices.price_excl_vat IS NOT excluded.price_excl_vat",
        [article_id, category, _number(price)],
    )


CUSTOMER_FIELDS = protocol.CUSTOMER_FIELDS


def _country(db: Any, value: Any) -> str | None:
    if not value:
        return None
    row = db.execute("SELECT code FROM countries WHERE code = ?", [str(value)]).fetchone()
    return str(row[0]) if row else None


def upsert_customer(db: Any, row: Mapping[str, Any]) -> None:
    moment = now_iso()
    values: dict[str, Any] = {"kind": "customer", "code": str(row["code"])}
    for name in CUSTOMER_FIELDS:
        values[name] = _text(row.get(name))
    values["country"] = _country(db, row.get("country"))
    values.update(created_at=moment, updated_at=moment)
    _upsert(db, "parties", "code", values, conflict="kind, code")


def _register_id(context: _Context, number: int) -> int:
    db = context.db
    row = db.execute("SELECT id FROM pos_registers WHERE number = ?", [number]).fetchone()
    if row is None:
        _upsert_register(db, context.row_of("registers", "number", number) or {"number": number})
        row = db.execute("SELECT id FROM pos_registers WHERE number = ?", [number]).fetchone()
    return int(row[0])


def _upsert_user(context: _Context, row: Mapping[str, Any]) -> None:
    db = context.db
    code = str(row["code"])
    values: dict[str, Any] = {"code": code, "name": _text(row.get("name")) or code}
    values["active"] = int(bool(row.get("active", True)))
    _upsert(db, "pos_users", "code", values)
    user_id = _id_by_code(db, "pos_users", code)
    wanted = {_register_id(context, int(number)) for number in row.get("registers") or []}
    present = {
        int(link[0])
        for link in db.execute(
            "SELECT register_id FROM pos_user_registers WHERE user_id = ?", [user_id]
        )
    }
    for register_id in sorted(present - wanted):
        db.execute(
            "DELETE FROM pos_user_registers WHERE user_id = ? AND register_id = ?",
            [user_id, register_id],
        )
    for register_id in sorted(wanted - present):
        db.execute(
            "INSERT INTO pos_user_registers (user_id, register_id) VALUES (?, ?)",
            [user_id, register_id],
        )


def keep_register_users(db: Any, register: int) -> int:
    """POS-3: only the users attached to this register number remain; returns how many went."""
    cursor = db.execute(
        "DELETE FROM pos_users WHERE id NOT IN (SELECT l.user_id FROM pos_user_registers l"
        " JOIN pos_registers r ON r.id = l.register_id WHERE r.number = ?)",
        [register],
    )
    return int(cursor.rowcount or 0)


def _delete_article(db: Any, code: str) -> None:
    article_id = _id_by_code(db, "articles", code)
    if article_id is not None:
        db.execute("UPDATE document_lines SET article_id = NULL WHERE article_id = ?", [article_id])
        db.execute("DELETE FROM articles WHERE id = ?", [article_id])


def _delete_customer(db: Any, code: str) -> None:
    row = db.execute(
        "SELECT id FROM parties WHERE kind = 'customer' AND code = ?", [code]
    ).fetchone()
    if row is not None:
        db.execute("UPDATE documents SET party_id = NULL WHERE party_id = ?", [row[0]])
        db.execute("DELETE FROM parties WHERE id = ?", [row[0]])


def _delete_user(db: Any, code: str) -> None:
    db.execute("DELETE FROM pos_users WHERE code = ?", [code])


def _delete_payment_method(db: Any, code: str) -> None:
    method_id = _id_by_code(db, "payment_methods", code)
    if method_id is None:
        return
    used = db.execute(
        "SELECT 1 FROM document_payments WHERE payment_method_id = ? LIMIT 1", [method_id]
    ).fetchone()
    if used:  # kept for the documents that name it, but no longer offered
        db.execute("UPDATE payment_methods SET active = 0 WHERE id = ? AND active = 1", [method_id])
    else:
        db.execute("DELETE FROM payment_methods WHERE id = ?", [method_id])


_DELETERS: dict[str, Callable[[Any, str], None]] = {
    "articles": _delete_article,
    "customers": _delete_customer,
    "users": _delete_user,
    "payment_methods": _delete_payment_method,
}


def _mirror(db: Any, upserts: Mapping[str, list[dict[str, Any]]]) -> None:
    """A full package holds everything: what it does not name is gone from the office.

    Customers still waiting in the outbox (made here, not yet at the office) are kept.
    """
    waiting = set()
    for (payload,) in db.execute(
        "SELECT payload FROM MICPTRACK WHERE kind = 'customer' AND state = 'queued'"
    ):
        waiting.add(str(json.loads(payload).get("code", "")).casefold())
    queries = {
        "articles": "SELECT code FROM articles",
        "customers": "SELECT code FROM parties WHERE kind = 'customer'",
        "users": "SELECT code FROM pos_users",
        "payment_methods": "SELECT code FROM payment_methods",
    }
    for entity, sql in queries.items():
        named = {str(row["code"]).casefold() for row in upserts.get(entity, [])}
        for (code,) in db.execute(sql).fetchall():
            folded = str(code).casefold()
            if folded not in named and not (entity == "customers" and folded in waiting):
                _DELETERS[entity](db, str(code))
