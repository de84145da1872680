"""Checking a register's chains (issue 17): the first break of each, named.

The same checks run on the register (its ``pos_trail`` against its own tickets), at the office
(each register's rows as they arrive) and on an archive file: rows in each chain numbered 1, 2, 3…
with no gap, each naming the previous row's signature, each signature made by a key the checker
holds, and on the ticket chain grand totals that follow from one ticket to the next.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from webapp.i18n import N_, gettext
from webapp.pos import trail_keys
from webapp.pos.trail import (
    CHAINS,
    ZERO_TOTALS,
    TrailRow,
    next_grand_totals,
    row_bytes,
    ticket_fields,
)


@dataclass(frozen=True)
class Break:
    """Where a chain stops holding, and why (an English msgid and its params)."""

    chain: str
    seq: int
    problem: str
    params: dict[str, Any] = field(default_factory=dict)

    def translated(self) -> str:
        return gettext(self.problem, chain=self.chain, seq=self.seq, **self.params)

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "seq": self.seq,
            "problem": self.problem.format(chain=self.chain, seq=self.seq, **self.params),
            "params": self.params,
        }


@dataclass
class ChainState:
    """Where a chain's check stands: enough to check the next row alone (the office keeps it)."""

    seq: int = 0
    signature: str = ""
    totals: dict[str, str] = field(default_factory=lambda: dict(ZERO_TOTALS))


# Whether a row's signature is its key's: checked at once, or later by whoever passes another.
SignatureCheck = Callable[[TrailRow, str], bool]
ALTERED = N_("{chain} record {seq} was altered: its signature does not match.")


def signature_holds(row: TrailRow, public_key: str) -> bool:
    return trail_keys.verify(public_key, row_bytes(row), row.signature)


def check_row(
    row: TrailRow,
    state: ChainState,
    keys: Mapping[str, str],
    signature_check: SignatureCheck = signature_holds,
) -> Break | None:
    """The next row of a chain against what came before it; the state moves on when it holds.

    A ``signature_check`` that answers True and checks later (the office's, in other threads)
    must report a bad signature as this row's break: the state moved on as for any break."""
    if row.seq != state.seq + 1:
        if row.seq <= state.seq:
            return Break(row.chain, row.seq, N_("{chain} record {seq} comes out of order."))
        return Break(
            row.chain, state.seq + 1, N_("{chain} record {seq} is missing."), {"found": row.seq}
        )
    if row.previous != state.signature:
        return Break(
            row.chain, row.seq, N_("{chain} record {seq} does not follow the record before it.")
        )
    public_key = keys.get(row.key_id)
    if public_key is None:
        return Break(
            row.chain,
            row.seq,
            N_("{chain} record {seq} is signed by an unknown key {key}."),
            {"key": row.key_id},
        )
    if not signature_check(row, public_key):
        return Break(row.chain, row.seq, ALTERED)
    totals = state.totals
    if row.chain == "ticket":
        found = _ticket_totals(row, state.totals)
        if found is None:
            return Break(
                row.chain, row.seq, N_("{chain} record {seq}: the grand total does not follow.")
            )
        totals = found
    state.seq, state.signature, state.totals = row.seq, row.signature, totals
    return None


def _ticket_totals(row: TrailRow, previous: Mapping[str, str]) -> dict[str, str] | None:
    """The grand totals a ticket row states, when they are the previous ones plus its total."""
    try:
        values = json.loads(row.fields)
        total = Decimal(values["total_incl_vat"])
        stated = values["grand_totals"]
        expected = next_grand_totals(previous, row.kind, total)
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return None
    return expected if stated == expected else None


def check_chains(
    rows: Iterable[TrailRow],
    keys: Mapping[str, str],
    start: Mapping[str, ChainState] | None = None,
) -> tuple[dict[str, ChainState], list[Break]]:
    """Every chain of ``rows`` (any order): the state each reached and its first break.

    ``start`` is where a chain stood before the first of ``rows`` (an archive's period checked
    on its own); a chain not named there starts at its beginning."""
    by_chain: dict[str, list[TrailRow]] = {chain: [] for chain in CHAINS}
    for row in rows:
        by_chain.setdefault(row.chain, []).append(row)
    states: dict[str, ChainState] = {}
    breaks: list[Break] = []
    for chain, chain_rows in by_chain.items():
        before = (start or {}).get(chain)
        state = states[chain] = (
            ChainState(before.seq, before.signature, dict(before.totals))
            if before
            else ChainState()
        )
        if chain not in CHAINS:
            breaks.append(Break(chain, 0, N_("{chain}: not a chain this register keeps.")))
            continue
        # In the order they were recorded: a row moved within the file breaks its chain there.
        for row in chain_rows:
            found = check_row(row, state, keys)
            if found is not None:
                breaks.append(found)
                break
    return states, breaks


# --- On the register ------------------------------------------------------------------------------


def register_rows(db: Any, register: int) -> list[TrailRow]:
    return [
        TrailRow(
            register,
            row["chain"],
            int(row["seq"]),
            row["kind"],
            row["ref"],
            row["recorded_at"],
            row["fields"],
            row["previous"],
            row["signature"],
            row["key_id"],
        )
        for row in db.execute(
            "SELECT chain, seq, kind, ref, recorded_at, fields, previous, signature, key_id"
            " FROM pos_trail ORDER BY id"
        )
    ]


def tickets_against_chain(db: Any, rows: Iterable[TrailRow]) -> list[Break]:
    """The register's tickets as its chain signed them: a ticket edited, deleted or never signed
    is a break (the chain alone cannot see a change made to the ticket's own row)."""
    signed = {row.ref: row for row in rows if row.chain == "ticket"}
    breaks: list[Break] = []
    seen: set[str] = set()
    for ticket in db.execute("SELECT number, payload FROM pos_tickets ORDER BY number"):
        number = str(ticket["number"])
        seen.add(number)
        row = signed.get(number)
        if row is None:
            breaks.append(
                Break("ticket", 0, N_("Ticket {number} is in no chain."), {"number": number})
            )
            continue
        if not _same_ticket(json.loads(ticket["payload"]), row):
            breaks.append(
                Break(
                    "ticket",
                    row.seq,
                    N_("Ticket {number} differs from what was signed."),
                    {"number": number},
                )
            )
    for number, row in signed.items():
        if number not in seen:
            breaks.append(
                Break(
                    "ticket",
                    row.seq,
                    N_("Ticket {number} was signed but is gone."),
                    {"number": number},
                )
            )
    return breaks


def _same_ticket(payload: Mapping[str, Any], row: TrailRow) -> bool:
    try:
        stated = json.loads(row.fields)
        fields = ticket_fields(payload, row.kind, ZERO_TOTALS)
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return False
    fields.pop("grand_totals")
    stated.pop("grand_totals", None)
    return bool(fields == stated)


def verify_register(db: Any, register: int, keys: Mapping[str, str]) -> list[Break]:
    """Every check the register can make of itself; [] when every chain holds."""
    rows = register_rows(db, register)
    _states, breaks = check_chains(rows, keys)
    return breaks + tickets_against_chain(db, rows)
