"""The register's chains (issue 17, docs/pos-trail.md): each record signed as it is recorded.

A row of ``pos_trail`` is appended in the transaction of the record it signs (a ticket, a reprint,
a closure, a technical event, an archive), so a kill -9 leaves both or neither. Its signature
covers the register, the chain, its place in the chain, its kind, what it signs, when, its fields
(canonical JSON) and the previous signature of the same chain: an edited, deleted or reordered
row breaks the chain where it happened (:mod:`webapp.pos.trail_verify` finds it).

The ticket chain also carries the register's perpetual grand totals (sales, refunds, absolute):
each ticket's row adds its total to the previous row's, and both are signed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

from webapp.clock import now_iso
from webapp.pos import outbox, ticket_rules
from webapp.pos.trail_keys import Signer

FORMAT = 1  # the layout of the signed bytes; a new layout gets a new number
CHAINS = ("ticket", "duplicate", "closure", "event", "archive")
TICKET_KINDS = ("sale", "refund", "void")
CENT = Decimal("0.01")
ZERO_TOTALS = {"sales": "0.00", "refunds": "0.00", "absolute": "0.00"}
# Where a ticket's record carries its signed row (the ticket rules ignore it).
ROW_FIELD = "trail"


@dataclass(frozen=True)
class TrailRow:
    """One signed row, as the register keeps it and as the outbox carries it."""

    register: int
    chain: str
    seq: int
    kind: str
    ref: str
    recorded_at: str
    fields: str
    previous: str
    signature: str
    key_id: str

    def as_record(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "seq": self.seq,
            "kind": self.kind,
            "ref": self.ref,
            "recorded_at": self.recorded_at,
            "fields": self.fields,
            "previous": self.previous,
            "signature": self.signature,
            "key_id": self.key_id,
        }

    @property
    def values(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.fields)
        return loaded


def canonical(fields: Mapping[str, Any]) -> str:
    """The one spelling of a record's fields that is signed: sorted keys, no spaces."""
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def signed_bytes(
    register: int,
    chain: str,
    seq: int,
    kind: str,
    ref: str,
    recorded_at: str,
    fields: str,
    previous: str,
) -> bytes:
    """What the signature covers, in a fixed order (a JSON array: no field can run into the next):
    `json.dumps(items, ensure_ascii=False, separators=(",", ":"))` in UTF-8."""
    items = [FORMAT, register, chain, seq, kind, ref, recorded_at, fields, previous]
    return _SIGNED.encode(items)


# For texts and whole numbers, what every field above is, msgspec writes the very bytes of that
# json.dumps (every code point compared: tests/test_pos_trail_core.py) in a fifth of its time; the
# office rebuilds these bytes for every row it checks. A lone surrogate raises
# UnicodeEncodeError from both.
_SIGNED = msgspec.json.Encoder()


def row_bytes(row: TrailRow) -> bytes:
    return signed_bytes(
        row.register,
        row.chain,
        row.seq,
        row.kind,
        row.ref,
        row.recorded_at,
        row.fields,
        row.previous,
    )


def last_row(db: Any, chain: str) -> Mapping[str, Any] | None:
    found: Mapping[str, Any] | None = db.execute(
        "SELECT seq, signature, fields FROM pos_trail WHERE chain = ? ORDER BY seq DESC LIMIT 1",
        [chain],
    ).fetchone()
    return found


def append(
    db: Any,
    signer: Signer,
    register: int,
    chain: str,
    kind: str,
    ref: str,
    fields: Mapping[str, Any],
    recorded_at: str | None = None,
    queue: bool = True,
) -> TrailRow:
    """Sign and write the next row of ``chain`` in the caller's transaction, and queue it for the
    office in the same one (with the register's public key, the first time it signs). With
    ``queue`` False the caller sends the row inside its own record (a ticket's, ROW_FIELD)."""
    if chain not in CHAINS:
        raise ValueError(chain)
    last = last_row(db, chain)
    seq = 1 if last is None else int(last["seq"]) + 1
    previous = "" if last is None else str(last["signature"])
    text = canonical(fields)
    when = recorded_at or now_iso()
    signature = signer.sign(signed_bytes(register, chain, seq, kind, ref, when, text, previous))
    row = TrailRow(register, chain, seq, kind, ref, when, text, previous, signature, signer.key_id)
    db.execute(
        "INSERT INTO pos_trail (chain, seq, kind, ref, recorded_at, fields, previous, signature,"
        " key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [chain, seq, kind, ref, when, text, previous, signature, row.key_id],
    )
    outbox.announce_key(db, register, signer.key_id, signer.public_key)
    if queue:
        outbox.enqueue(db, register, "trail", row.as_record())
    return row


# --- Tickets -------------------------------------------------------------------------------------


def money(value: Decimal) -> str:
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def vat_breakdown(lines: list[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Amounts per VAT rate of a ticket's wire lines: total incl. VAT, base and VAT, each line's
    VAT rounded as the ticket prints it (webapp.pos.selling.Line.vat)."""
    totals: dict[str, list[Decimal]] = {}
    for line in lines:
        rate = Decimal(str(line.get("vat_rate") or 0))
        total = ticket_rules.line_total(
            Decimal(str(line["quantity"])), Decimal(str(line["unit_price_incl_vat"]))
        )
        base = total / (1 + rate / 100)
        vat = (total - base).quantize(CENT, rounding=ROUND_HALF_UP)
        found = totals.setdefault(format(rate.normalize(), "f"), [Decimal(0), Decimal(0)])
        found[0] += total
        found[1] += vat
    return {
        rate: {"total": money(total), "vat": money(vat), "base": money(total - vat)}
        for rate, (total, vat) in sorted(totals.items())
    }


def payments_by_method(payments: list[Mapping[str, Any]]) -> dict[str, str]:
    paid: dict[str, Decimal] = {}
    for payment in payments:
        method = str(payment["method"])
        paid[method] = paid.get(method, Decimal(0)) + Decimal(str(payment["amount"]))
    return {method: money(amount) for method, amount in sorted(paid.items())}


def next_grand_totals(previous: Mapping[str, str], kind: str, total: Decimal) -> dict[str, str]:
    """The perpetual grand totals after a ticket: sales add up sales, refunds add up refunds and
    voids (as positive amounts), absolute adds up both."""
    sales = Decimal(previous["sales"])
    refunds = Decimal(previous["refunds"])
    if kind == "sale":
        sales += total
    else:
        refunds += abs(total)
    return {"sales": money(sales), "refunds": money(refunds), "absolute": money(sales + refunds)}


def ticket_fields(
    payload: Mapping[str, Any], kind: str, previous_totals: Mapping[str, str]
) -> dict[str, Any]:
    """The signed fields of a ticket: what the ticket says and the grand totals after it."""
    total = Decimal(str(payload["total_incl_vat"]))
    return {
        "number": payload["number"],
        "sold_at": payload["sold_at"],
        "total_incl_vat": money(total),
        "vat": vat_breakdown(list(payload["lines"])),
        "payments": payments_by_method(list(payload.get("payments") or [])),
        "grand_totals": next_grand_totals(previous_totals, kind, total),
    }


def grand_totals(db: Any) -> dict[str, str]:
    """The register's perpetual grand totals now (from the ticket chain's last row)."""
    last = last_row(db, "ticket")
    if last is None:
        return dict(ZERO_TOTALS)
    totals: dict[str, str] = json.loads(last["fields"])["grand_totals"]
    return totals


def sign_ticket(
    db: Any, signer: Signer, register: int, payload: Mapping[str, Any], kind: str = "sale"
) -> TrailRow:
    """The ticket chain's row of a ticket, in the transaction that records it. It is not queued
    on its own: the ticket's record carries it (:func:`with_row`)."""
    if kind not in TICKET_KINDS:
        raise ValueError(kind)
    fields = ticket_fields(payload, kind, grand_totals(db))
    number = str(payload["number"])
    return append(db, signer, register, "ticket", kind, number, fields, queue=False)


def with_row(payload: Mapping[str, Any], row: TrailRow) -> dict[str, Any]:
    """A ticket's outbox payload: the ticket and its signed row, applied by the office together
    (one record instead of two: half the records to push, check and keep)."""
    return {**payload, ROW_FIELD: row.as_record()}
