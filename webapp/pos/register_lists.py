"""What the register shows of its own data: the tickets sold here with their outbox state, the
users, the payment methods (the sales screen, `relais pos tickets|users`)."""

from __future__ import annotations

from typing import Any

from webapp.pos.register_config import require_config
from webapp.store import Store


def list_tickets(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    config = require_config(store)
    with store.read() as db:
        rows = db.execute(
            "SELECT t.id, t.number, t.sold_at, t.total_incl_vat, t.user_code,"
            " coalesce(m.state, 'queued') AS state, m.last_error FROM pos_tickets t"
            " LEFT JOIN MICPTRACK m ON m.id = t.id ORDER BY t.sold_at DESC, t.number DESC LIMIT ?",
            [limit],
        ).fetchall()
    return [
        {
            "id": row["id"],
            "register": config.number,
            "number": row["number"],
            "sold_at": row["sold_at"],
            "total": row["total_incl_vat"],
            "user": row["user_code"],
            "state": row["state"],
            "reason": row["last_error"] if row["state"] == "rejected" else None,
        }
        for row in rows
    ]


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
