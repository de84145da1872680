"""Printing a ticket on the register, and counting its duplicates (issue 17, docs/pos-trail.md).

The first print of a ticket is its original; every later one says "DUPLICATA n° k". Each print is
a signed row of the ``duplicate`` chain, written in its own transaction before the page is served
(kind ``original`` for the first, ``duplicate`` with its count for the others), so a duplicate
cannot be printed without leaving its trace, nor its count be rewound.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from webapp.clock import now_iso
from webapp.i18n import N_, UserError
from webapp.pos import ticket_rules, trail
from webapp.pos.register_config import require_config
from webapp.pos.trail_keys import Signer
from webapp.store import Store

CHAIN = "duplicate"
MAX_NUMBER = 50


class ReprintError(UserError):
    """A print refused before anything was written (an unknown ticket, an unknown seller)."""


@dataclass(frozen=True)
class Printed:
    number: str
    copy: int  # 0: the original; 1, 2, …: "DUPLICATA n° k"
    printed_at: str
    user: str | None
    ticket: dict[str, Any]
    register: int

    @property
    def is_duplicate(self) -> bool:
        return self.copy > 0

    @property
    def lines(self) -> list[dict[str, Any]]:
        """The ticket's lines with their totals, rounded as the ticket counted them."""
        return [
            {
                **line,
                "total": ticket_rules.line_total(
                    Decimal(str(line["quantity"])), Decimal(str(line["unit_price_incl_vat"]))
                ),
            }
            for line in self.ticket.get("lines") or []
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "number": self.number,
            "duplicate": self.copy,
            "printed_at": self.printed_at,
            "user": self.user,
        }


def prints_so_far(db: Any, number: str) -> int:
    """How many times the ticket was printed (its rows on the duplicate chain)."""
    row = db.execute(
        "SELECT count(*) FROM pos_trail WHERE chain = ? AND ref = ?", [CHAIN, number]
    ).fetchone()
    return int(row[0])


def print_ticket(store: Store, signer: Signer, number: str, user: str | None = None) -> Printed:
    """Record one print of ticket ``number`` (signed, counted) and return what to print."""
    number = number.strip()[:MAX_NUMBER]
    with store.write() as db:
        config = require_config(store, db)
        found = db.execute("SELECT payload FROM pos_tickets WHERE number = ?", [number]).fetchone()
        if found is None:
            raise ReprintError(N_("No ticket {number} on this register."), number=number)
        seller = _seller(db, user)
        copy = prints_so_far(db, number)
        when = now_iso()
        fields = {"number": number, "reprint": copy, "printed_at": when, "user": seller}
        kind = "duplicate" if copy else "original"
        trail.append(db, signer, config.number, CHAIN, kind, number, fields, when)
    return Printed(number, copy, when, seller, json.loads(found[0]), config.number)


def _seller(db: Any, user: str | None) -> str | None:
    code = (user or "").strip()
    if not code:
        return None
    row = db.execute("SELECT code FROM pos_users WHERE code = ?", [code]).fetchone()
    if row is None:
        raise ReprintError(N_("Unknown user on this register: {code}."), code=code)
    return str(row[0])
