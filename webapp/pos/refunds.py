"""Refunds on the register (issue 17): money given back on a ticket of this register.

A refund is a ticket of kind "refund" (docs/pos-trail.md "Refunds"): its own number from the
sales' sequence, lines with quantities below zero at the original prices, the money given back
by one payment method (cash unless another is chosen). It is checked by the shared rules (:mod:`webapp.pos.ticket_rules`), written with its signed
row (kind "refund", moving the refunds grand total) and its outbox record in ONE transaction, as
:func:`webapp.pos.selling.record_ticket` does for a sale.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Literal

from webapp.clock import now_iso
from webapp.i18n import N_
from webapp.pos import closures, journal, protocol, ticket_rules, trail
from webapp.pos.outbox import enqueue
from webapp.pos.register_config import require_config
from webapp.pos.selling import (
    Recorded,
    TicketError,
    cash_method,
    find_article,
    money,
    next_number,
    ticket_prefix,
    wire,
)
from webapp.pos.trail_keys import Signer
from webapp.store import Store

ALL: Literal["all"] = "all"
# "all" (what is left of the ticket), or the quantity to give back per article code.
Wanted = Literal["all"] | Mapping[str, Decimal]


def _payload_of(db: Any, number: str) -> dict[str, Any]:
    row = db.execute("SELECT payload FROM pos_tickets WHERE number = ?", [number]).fetchone()
    if row is None:
        raise TicketError(N_("No ticket {number} on this register."), number=number)
    found: dict[str, Any] = json.loads(row[0])
    return found


def earlier_refunds(db: Any, number: str) -> list[dict[str, Any]]:
    found = db.execute(
        "SELECT payload FROM pos_tickets WHERE json_extract(payload, '$.kind') IN ('refund', 'void')"
        " AND json_extract(payload, '$.refunds') = ?",
        [number],
    ).fetchall()
    return [json.loads(row[0]) for row in found]


def _closed(db: Any, number: str) -> bool:
    """Whether a closure covers the ticket (one signed before the trail counts as closed)."""
    row = db.execute(
        "SELECT seq FROM pos_trail WHERE chain = 'ticket' AND ref = ?", [number]
    ).fetchone()
    return row is None or int(row[0]) <= closures.closed_ticket_seq(db)


def voidable(db: Any) -> set[str]:
    """The sales that may still be voided: of a day not closed yet, nothing given back from."""
    given_back = {
        str(row[0])
        for row in db.execute(
            "SELECT DISTINCT json_extract(payload, '$.refunds') FROM pos_tickets"
            " WHERE json_extract(payload, '$.refunds') IS NOT NULL"
        )
    }
    open_sales = db.execute(
        "SELECT ref FROM pos_trail WHERE chain = 'ticket' AND kind = 'sale' AND seq > ?",
        [closures.closed_ticket_seq(db)],
    )
    return {str(row[0]) for row in open_sales} - given_back


def refund_lines(
    original: Mapping[str, Any], wanted: Mapping[str, Decimal]
) -> list[dict[str, str]]:
    """The original's lines given back, article by article, in the ticket's order."""
    left = dict(wanted)
    lines = []
    for line in original.get("lines") or []:
        code = str(line.get("article") or "")
        taken = min(Decimal(str(line["quantity"])), left.get(code, Decimal(0)))
        if taken <= 0:
            continue
        left[code] -= taken
        lines.append({**line, "quantity": wire(-taken)})
    return lines


def _places(db: Any, code: str) -> int | None:
    article = find_article(db, code)
    return None if article is None else article.decimals


def _user(db: Any, code: str | None) -> str | None:
    if not code:
        return None
    row = db.execute("SELECT code FROM pos_users WHERE code = ? AND active = 1", [code]).fetchone()
    if row is None:
        raise TicketError(N_("Unknown user on this register: {code}."), code=code)
    return str(row[0])


def build_refund(
    db: Any,
    original: Mapping[str, Any],
    wanted: Wanted,
    number: str,
    user: str | None,
    kind: str = ticket_rules.REFUND,
    method: str | None = None,
) -> dict[str, Any]:
    """The refund (or void) ticket's payload, checked by the shared rules; raises TicketError."""
    earlier = earlier_refunds(db, str(original["number"]))
    if kind == ticket_rules.VOID:
        if _closed(db, str(original["number"])):
            raise TicketError(
                N_("Ticket {number} is in a closed day: refund it instead."),
                number=original["number"],
            )
        asked = ticket_rules.quantities(original.get("lines") or [])
    else:
        left = ticket_rules.refundable(original, earlier)
        asked = left if wanted == ALL else dict(wanted)
    if not asked or not any(quantity > 0 for quantity in asked.values()):
        raise TicketError(
            N_("Nothing is left to refund on ticket {number}."), number=original["number"]
        )
    # Checked before the lines are built: an article asked for twice its sale is named as such.
    asked_lines = [
        {"article": code, "quantity": wire(-quantity)} for code, quantity in asked.items()
    ]
    if kind == ticket_rules.VOID:
        ticket_rules.check_void({"lines": asked_lines}, original, earlier)
    else:
        ticket_rules.check_refund_quantities({"lines": asked_lines}, original, earlier)
    lines = refund_lines(original, asked)
    total = sum(
        (
            ticket_rules.line_total(Decimal(line["quantity"]), Decimal(line["unit_price_incl_vat"]))
            for line in lines
        ),
        Decimal(0),
    )
    return {
        "kind": kind,
        "refunds": original["number"],
        "number": number,
        "sold_at": now_iso(),
        "user": user,
        "customer": original.get("customer"),
        "lines": lines,
        "payments": [{"method": _method(db, method), "amount": money(total)}] if total else [],
        "total_incl_vat": money(total),
    }


def _method(db: Any, code: str | None) -> str:
    """The payment method the money is given back by: cash unless one is named."""
    if not code:
        return cash_method(db)
    found = db.execute(
        "SELECT code FROM payment_methods WHERE code = ? AND active = 1", [code]
    ).fetchone()
    if found is None:
        raise TicketError(N_("Unknown payment method: {code}."), code=code)
    return str(found[0])


# A way of giving money back on a ticket:
# (store, number, signer, user, payment method) -> the ticket recorded.
GiveBack = Callable[[Store, str, Signer, "str | None", "str | None"], Recorded]


def record_refund_all(
    store: Store,
    original_number: str,
    signer: Signer,
    user: str | None = None,
    method: str | None = None,
) -> Recorded:
    """Refund all that is left of a ticket."""
    return record_refund(store, original_number, ALL, signer, user, method=method)


def record_void(
    store: Store,
    original_number: str,
    signer: Signer,
    user: str | None = None,
    method: str | None = None,
) -> Recorded:
    """Void a sale of a day not closed yet: the whole ticket given back, as a ticket of its own."""
    return record_refund(store, original_number, ALL, signer, user, ticket_rules.VOID, method)


def record_refund(
    store: Store,
    original_number: str,
    wanted: Wanted,
    signer: Signer,
    user: str | None = None,
    kind: str = ticket_rules.REFUND,
    method: str | None = None,
) -> Recorded:
    """Build, number, sign and write a refund (or a void) with its outbox record in ONE
    transaction."""
    with store.write() as db:
        config = require_config(store, db)
        original = _payload_of(db, original_number.strip())
        seller = _user(db, user)
        number = next_number(db, ticket_prefix(db, config.number))
        payload = build_refund(db, original, wanted, number, seller, kind, method)
        ticket_rules.check_ticket(payload, lambda code: _places(db, code))
        record = protocol.record_id(config.number)
        db.execute(
            "INSERT INTO pos_tickets (id, number, sold_at, user_code, customer_code,"
            " total_incl_vat, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                record,
                number,
                payload["sold_at"],
                seller,
                payload["customer"],
                payload["total_incl_vat"],
                json.dumps(payload, ensure_ascii=False, sort_keys=True),
            ],
        )
        row = trail.sign_ticket(db, signer, config.number, payload, kind=kind)
        if seller:  # a refund without a seller leaves the one logged in as it is
            journal.record_seller(db, signer, config.number, seller)
        enqueue(db, config.number, "ticket", trail.with_row(payload, row), record)
    return Recorded(record, number, payload["total_incl_vat"], payload)


def parse_wanted(given: list[str]) -> dict[str, Decimal]:
    """`ARTICLE:QTY` words (the command line) as quantities per article; raises TicketError."""
    wanted: dict[str, Decimal] = {}
    for position, word in enumerate(given, 1):
        code, _colon, text = word.rpartition(":")
        if not code:
            raise TicketError(N_("{value}: write ARTICLE:QUANTITY."), value=word[:60])
        quantity = ticket_rules.number(
            text,
            f"lines[{position}].quantity",
            limit=ticket_rules.MAX_QUANTITY,
            places=ticket_rules.QUANTITY_PLACES,
        )
        if quantity <= 0:
            raise TicketError(N_("{field}: the quantity must be above zero"), field=word[:60])
        wanted[code.strip()] = wanted.get(code.strip(), Decimal(0)) + quantity
    return wanted
