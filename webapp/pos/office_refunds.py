"""Office: a refund or a void checked against the sale it names (issue 17, docs/pos-trail.md).

The register checks a refund or a void before recording it (:mod:`webapp.pos.ticket_rules`); the
office checks it again with the same rules against what it received: the sale's record (kept in
``pos_received``, whose id is the sale document's external reference) and the refunds and voids of
that sale it applied before (found by the ``refunds`` they name, migration 0026's index). A
refund that gives back more than the sale minus the earlier ones, or a void of a sale that was
partly given back already, is refused with the rule's message.

A void is refused, as on the register, when a closure the office received from that register
covers the sale's row of the ticket chain (its ``last_ticket_seq``): a closed day's sale is
refunded, not voided. The sale's row is the one its record carried (``trail``); a sale from a
register of an earlier version, which sent its row apart, is left to the register's check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlite_utils import Database

from webapp.i18n import N_, UserError
from webapp.pos import ticket_rules
from webapp.pos.office import Register
from webapp.pos.ticket_rules import CheckedTicket
from webapp.store import one, rows

# A sale as the office received it, the refunds and voids of it applied before, and the last
# ticket row the register's closures received so far cover.
Sale = tuple[dict[str, Any], list[dict[str, Any]], int]
# The sale a refund names, from this register: (db, register, its number) -> the sale or None.
SaleOf = Callable[[Database, Register, str], Sale | None]


class GiveBackRefused(UserError):
    """A refund or a void the office refuses for the sale it names."""


def _payload(text: str) -> dict[str, Any]:
    """The ticket payload of a kept record (the record's JSON text, as it was received)."""
    payload = json.loads(text).get("payload")
    return payload if isinstance(payload, dict) else {}


def sale_of(db: Database, register: Register, number: str) -> Sale | None:
    found = one(
        db,
        "SELECT r.payload FROM documents d JOIN pos_received r ON r.id = d.external_ref"
        " WHERE d.company_id = ? AND d.kind = 'ticket' AND d.number = ? AND d.source = ?",
        [register.company_id, number, register.source],
    )
    if found is None:
        return None
    return (
        _payload(found["payload"]),
        given_back(db, register, number),
        closed_through(db, register),
    )


def closed_through(db: Database, register: Register) -> int:
    """The last row of the register's ticket chain its closures received so far cover."""
    found = db.execute(
        "SELECT max(CASE WHEN json_valid(fields) AND json_type(fields, '$.last_ticket_seq')"
        " = 'integer' THEN json_extract(fields, '$.last_ticket_seq') END)"
        " FROM pos_trail_received WHERE register_id = ? AND chain = 'closure'",
        [register.id],
    ).fetchone()
    return _whole(found[0] if found else None)


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _sale_row_seq(sale: Mapping[str, Any]) -> int | None:
    """The sale's row of the ticket chain, as its record carried it (None: sent apart)."""
    row = sale.get("trail")
    if isinstance(row, dict) and row.get("chain") == "ticket":
        return _whole(row.get("seq")) or None
    return None


def given_back(db: Database, register: Register, number: str) -> list[dict[str, Any]]:
    """The refunds and voids of sale ``number`` the office applied."""
    found = rows(
        db,
        "SELECT payload FROM pos_received WHERE register_id = ? AND kind = 'ticket'"
        " AND (CASE WHEN json_valid(payload) THEN json_extract(payload, '$.payload.refunds') END)"
        " = ? AND status = 'applied'",  # the expression of the index pos_received_refunds
        [register.id, number],
    )
    return [_payload(row["payload"]) for row in found]


def check_give_back(ticket: CheckedTicket, payload: Mapping[str, Any], sale: Sale | None) -> None:
    """The refund or void ``ticket`` against its sale; raises a UserError naming the reason."""
    if sale is None:
        raise GiveBackRefused(
            N_("Refund {number}: the office has no ticket {refunds} from this register."),
            number=ticket.number,
            refunds=ticket.refunds,
        )
    original, earlier, closed = sale
    if ticket.kind == ticket_rules.VOID:
        seq = _sale_row_seq(original)
        if seq is not None and seq <= closed:
            raise GiveBackRefused(
                N_("Ticket {number} is in a closed day: refund it instead."),
                number=str(original.get("number")),
            )
        ticket_rules.check_void(payload, original, earlier)
    else:
        ticket_rules.check_refund_quantities(payload, original, earlier)


class BatchSales:
    """The sales and give-backs of one transaction's tickets, planned before anything is written:
    a refund may come in the same batch as its sale, or after another refund of it."""

    def __init__(self) -> None:
        self.sales: dict[str, dict[str, Any]] = {}
        self.given: dict[str, list[dict[str, Any]]] = {}
        self.closed: int | None = None  # closed_through, with the batch's closure rows

    def sale_of(self, db: Database, register: Register, number: str) -> Sale | None:
        here = self.given.get(number, [])
        if self.closed is None:
            self.closed = closed_through(db, register)
        if number in self.sales:
            return self.sales[number], list(here), self.closed
        found = sale_of(db, register, number)
        return None if found is None else (found[0], found[1] + here, self.closed)

    def closing(self, db: Database, register: Register, row: Mapping[str, Any]) -> None:
        """A chain row taken in this batch: a closure's covers the tickets up to its own."""
        if row.get("chain") != "closure":
            return
        try:
            covered = _whole(json.loads(str(row.get("fields"))).get("last_ticket_seq"))
        except (ValueError, AttributeError):
            return  # an unreadable closure: a break of its chain, it closes nothing here
        if self.closed is None:
            self.closed = closed_through(db, register)
        self.closed = max(self.closed, covered)

    def took(self, number: str, payload: dict[str, Any]) -> None:
        """A ticket planned to be written (never a refused one)."""
        kind, refunds = ticket_rules.ticket_kind(payload)
        if kind == ticket_rules.SALE:
            self.sales[number] = payload
        else:
            self.given.setdefault(refunds, []).append(payload)
