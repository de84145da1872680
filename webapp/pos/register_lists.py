"""What the register shows of its own data: the tickets sold here with their outbox state, the
users, the payment methods (the sales screen, `relais pos tickets|users`)."""

from __future__ import annotations

import json
from typing import Any

from webapp.pos import refunds, ticket_rules
from webapp.pos.register_config import require_config
from webapp.store import Store


def list_tickets(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    """The last tickets sold here, with the seller's name and the payments by method name."""
    config = require_config(store)
    with store.read() as db:
        rows = db.execute(
            "SELECT t.id, t.number, t.sold_at, t.total_incl_vat, t.user_code, u.name AS user_name,"
            " t.payload, coalesce(m.state, 'queued') AS state, m.last_error,"
            " CASE WHEN json_valid(t.payload) THEN json_extract(t.payload, '$.kind') END AS kind"
            " FROM pos_tickets t"
            " LEFT JOIN MICPTRACK m ON m.id = t.id LEFT JOIN pos_users u ON u.code = t.user_code"
            " ORDER BY t.sold_at DESC, t.number DESC LIMIT ?",
            [limit],
        ).fetchall()
        methods = method_names(db)
        can_void = refunds.voidable(db)
    return [
        {
            "id": row["id"],
            "register": config.number,
            "number": row["number"],
            "sold_at": row["sold_at"],
            "total": row["total_incl_vat"],
            "user": row["user_code"],
            "user_name": row["user_name"] or row["user_code"],
            "payments": _payments(row["payload"], methods),
            "state": row["state"],
            "reason": row["last_error"] if row["state"] == "rejected" else None,
            "kind": row["kind"] or ticket_rules.SALE,
            "voidable": row["number"] in can_void,
        }
        for row in rows
    ]


def method_names(db: Any) -> dict[str, str]:
    """Every payment method's name by its code (a ticket may name one since made inactive)."""
    return {
        str(row[0]).casefold(): str(row[1])
        for row in db.execute("SELECT code, label FROM payment_methods")
    }


def active_methods(db: Any) -> list[dict[str, str]]:
    """The payment methods money can be given back by, cash first (the one chosen unless
    another is)."""
    return [
        {"code": str(row[0]), "label": str(row[1])}
        for row in db.execute(
            "SELECT code, label FROM payment_methods WHERE active = 1 ORDER BY is_cash DESC, id"
        )
    ]


def _payments(payload: str, methods: dict[str, str]) -> list[dict[str, str]]:
    try:
        given = json.loads(payload).get("payments") or []
    except (ValueError, AttributeError):
        return []
    return [
        {
            "method": str(row.get("method") or ""),
            "label": methods.get(str(row.get("method") or "").casefold(), str(row.get("method"))),
            "amount": str(row.get("amount") or ""),
        }
        for row in given
        if isinstance(row, dict)
    ]


def article_families(store: Store, codes: list[str]) -> dict[str, dict[str, str]]:
    """The family (code and name) of each of these articles that has one, by article code."""
    if not codes:
        return {}
    marks = ", ".join("?" for _ in codes)
    with store.read() as db:
        rows = db.execute(
            "SELECT a.code, f.code AS family_code, f.label AS family FROM articles a"
            f" JOIN article_families f ON f.id = a.family_id WHERE a.code IN ({marks})",
            codes,
        ).fetchall()
    return {
        str(row["code"]).lower(): {"code": row["family_code"], "name": row["family"]}
        for row in rows
    }


def list_users(store: Store) -> list[dict[str, Any]]:
    with store.read() as db:
        rows = db.execute(
            "SELECT u.code, u.name, u.active, group_concat(r.number) AS registers"
            " FROM pos_users u LEFT JOIN pos_user_registers l ON l.user_id = u.id"
            " LEFT JOIN pos_registers r ON r.id = l.register_id GROUP BY u.id ORDER BY u.code"
        ).fetchall()
    return [
        {
            "code": row["code"],
            "name": row["name"],
            "active": bool(row["active"]),
            "registers": sorted(int(n) for n in str(row["registers"] or "").split(",") if n),
        }
        for row in rows
    ]


def payment_methods(store: Store) -> list[dict[str, Any]]:
    with store.read() as db:
        rows = db.execute(
            "SELECT code, label, is_cash FROM payment_methods WHERE active = 1"
            " ORDER BY is_cash DESC, label"
        ).fetchall()
    return [dict(row) for row in rows]
