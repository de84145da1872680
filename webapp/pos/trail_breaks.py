"""Office: what the registers page shows of each register's chains, and a break acknowledged.

A break the office found in a register's chain (webapp/pos/trail_office.py) is kept for good: it
is the evidence of a record altered, missing or out of order. The office's manager looks into it
(the register's ticket, the person at the till that day) and writes down what was found and done;
the break then reads "acknowledged" on the registers page rather than as an alarm. Nothing of the
break itself changes, and `relais pos verify` still reports it. Docs: docs/pos-trail.md.
"""

from __future__ import annotations

import json
from typing import Any

from webapp.clock import now_iso
from webapp.history import RESOLVER_MAX, written_justification
from webapp.i18n import N_, UserError
from webapp.pos.office import list_registers
from webapp.pos.trail_office import break_text
from webapp.pos.trail_verify import Break
from webapp.store import Store, rows


class BreakNotFound(UserError):
    """No break of that chain at the office for that register."""


class AcknowledgementRefused(UserError):
    """An acknowledgement without its text, or of a break acknowledged already."""


def register_breaks(store: Store, number: int) -> list[dict[str, Any]]:
    """The breaks kept for register ``number``, each in words with its acknowledgement."""
    with store.read() as db:
        found = rows(
            db,
            "SELECT b.chain, b.seq, b.problem, b.params, b.found_at, b.acknowledged_at,"
            " b.acknowledged_by, b.acknowledgement FROM pos_trail_breaks b"
            " JOIN pos_registers r ON r.id = b.register_id WHERE r.number = ?"
            " ORDER BY b.found_at, b.chain",
            [number],
        )
    for row in found:
        row["text"] = _text(number, row)
    return found


def acknowledge(store: Store, number: int, chain: str, note: str, who: str) -> dict[str, Any]:
    """Write down what was found and done about a break; refused without a text (as resolving a
    history error is), or when the break was acknowledged already. Nothing else changes."""
    missing = N_("Say what was found and done about this break.")
    text = written_justification(note, missing, AcknowledgementRefused)
    name = (who or "").strip()[:RESOLVER_MAX] or "?"
    with store.write() as db:
        cursor = db.execute(
            "UPDATE pos_trail_breaks SET acknowledged_at = ?, acknowledged_by = ?,"
            " acknowledgement = ? WHERE chain = ? AND acknowledged_at IS NULL AND register_id ="
            " (SELECT id FROM pos_registers WHERE number = ?)",
            [now_iso(), name, text, chain, number],
        )
        if cursor.rowcount == 0:
            _refuse(db, number, chain)
    return next(found for found in register_breaks(store, number) if found["chain"] == chain)


def _refuse(db: Any, number: int, chain: str) -> None:
    """Why nothing was acknowledged: no such break, or one acknowledged before."""
    kept = db.execute(
        "SELECT 1 FROM pos_trail_breaks b JOIN pos_registers r ON r.id = b.register_id"
        " WHERE r.number = ? AND b.chain = ?",
        [number, chain],
    ).fetchone()
    if kept is None:
        raise BreakNotFound(
            N_("Register {number} has no break in its {chain} chain."),
            number=number,
            chain=chain[:40],
        )
    raise AcknowledgementRefused(N_("This break was acknowledged already."))


def _text(number: int, row: dict[str, Any]) -> str:
    params = json.loads(row["params"]) if row["params"] else {}
    return break_text(number, Break(row["chain"], int(row["seq"]), row["problem"], params))


def chain_states(store: Store) -> dict[int, dict[str, Any]]:
    """Per register id: its signed records received and its stored breaks (in words, and
    whether each was acknowledged)."""
    with store.read() as db:
        counts = rows(
            db,
            "SELECT register_id, count(*) AS records FROM pos_trail_received GROUP BY register_id",
        )
        breaks = rows(
            db,
            "SELECT b.register_id, r.number, b.chain, b.seq, b.problem, b.params,"
            " b.acknowledged_at FROM pos_trail_breaks b"
            " JOIN pos_registers r ON r.id = b.register_id ORDER BY b.found_at, b.chain",
        )
    states: dict[int, dict[str, Any]] = {
        int(row["register_id"]): {"records": int(row["records"]), "breaks": []} for row in counts
    }
    for row in breaks:
        state = states.setdefault(int(row["register_id"]), {"records": 0, "breaks": []})
        shown = {
            "text": _text(int(row["number"]), row),
            "acknowledged": bool(row["acknowledged_at"]),
        }
        state["breaks"].append(shown)
    return states


def registers_with_chains(store: Store) -> list[dict[str, Any]]:
    """The registers page's rows: each register (office.list_registers) with its chains' state:
    the signed records received, the breaks found, and whether any is still to look into."""
    registers = list_registers(store)
    chains = chain_states(store)
    for register in registers:
        state = chains.get(int(register["id"]), {})
        register["signed_records"] = state.get("records", 0)
        register["trail_breaks"] = state.get("breaks", [])
        register["breaks_open"] = sum(
            1 for found in register["trail_breaks"] if not found["acknowledged"]
        )
    return registers
