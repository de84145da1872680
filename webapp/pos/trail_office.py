"""Office: each register's chains as they arrive through the outbox (issue 17, docs/pos-trail.md).

A ``trail_key`` record registers a register's public key; each ``trail`` record is one signed row
of one of its chains. The row is kept in ``pos_trail_received`` and checked at once with
:func:`webapp.pos.trail_verify.check_row` against the last row received of the same register and
chain; the first break of a chain is kept in ``pos_trail_breaks``. A row after a break is still
kept and answered ``applied``: a register is never stopped from syncing by its own broken chain.
:func:`verify_office` checks every received chain again from the start (`relais pos verify`).
"""

from __future__ import annotations

import binascii
import json
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from webapp.clock import now_iso
from webapp.i18n import N_, UserError, gettext
from webapp.pos import trail_keys
from webapp.pos.office import Register
from webapp.pos.trail import CHAINS, ROW_FIELD, ZERO_TOTALS, TrailRow, row_bytes
from webapp.pos.trail_verify import (
    ALTERED,
    Break,
    ChainState,
    check_chains,
    check_row,
)
from webapp.store import Store, one, rows

TEXT_FIELDS = ("kind", "ref", "recorded_at", "fields", "previous", "signature", "key_id")
MAX_FIELDS = 65_536  # a row's signed fields, as text: a ticket's VAT rates and payments
MAX_TEXT = 200  # every other text of a row


class TrailRefused(UserError):
    """A chain record or key the office cannot read; kept as rejected with this reason."""


# --- Keys ----------------------------------------------------------------------------------------


def apply_key(db: Any, register: Register, payload: Mapping[str, Any]) -> None:
    """Keep a register's public key (a key sent again changes nothing)."""
    public_key, key_id = payload.get("public_key"), payload.get("key_id")
    if not isinstance(public_key, str) or not isinstance(key_id, str) or len(public_key) > 100:
        raise TrailRefused(N_("The register's key record needs a key_id and a public_key."))
    try:
        raw = trail_keys.decode(public_key)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32 or trail_keys.key_id(public_key) != key_id:
        raise TrailRefused(N_("The register's public key {key} is not a valid key."), key=key_id)
    db.execute(
        "INSERT INTO pos_register_keys (register_id, key_id, public_key, registered_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [register.id, key_id, public_key, now_iso()],
    )


def register_keys(db: Any, register_id: int) -> dict[str, str]:
    found = rows(
        db, "SELECT key_id, public_key FROM pos_register_keys WHERE register_id = ?", [register_id]
    )
    return {row["key_id"]: row["public_key"] for row in found}


# --- Rows as they arrive ------------------------------------------------------------------------


def trail_row(register: int, payload: Mapping[str, Any]) -> TrailRow:
    """A pushed chain row, once its shape is checked (not yet its signature)."""
    chain, seq = payload.get("chain"), payload.get("seq")
    if chain not in CHAINS:
        raise TrailRefused(N_("Unknown chain {chain}."), chain=str(chain)[:40])
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq < 2**62:
        raise TrailRefused(N_("The chain record's number must be a whole number from 1."))
    texts = [payload.get(name) for name in TEXT_FIELDS]
    for name, value in zip(TEXT_FIELDS, texts, strict=True):
        limit = MAX_FIELDS if name == "fields" else MAX_TEXT
        if not isinstance(value, str) or len(value) > limit:
            raise TrailRefused(N_("The chain record's {field} must be a text."), field=name)
    kind, ref, recorded_at, fields, previous, signature, key_id = (str(t) for t in texts)
    return TrailRow(
        register, str(chain), seq, kind, ref, recorded_at, fields, previous, signature, key_id
    )


def ticket_row(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The signed row a ticket's record carries (None from a register that sent it apart)."""
    row = payload.get(ROW_FIELD)
    if row is None:
        return None
    if not isinstance(row, dict):
        raise TrailRefused(N_("The ticket's signed row must be an object."))
    return row


def _state_of(row: Mapping[str, Any] | None) -> ChainState:
    """Where a chain stands after the last row received of it (a broken row included)."""
    if row is None:
        return ChainState()
    totals = dict(ZERO_TOTALS)
    if row["chain"] == "ticket":
        try:
            stated = json.loads(row["fields"])["grand_totals"]
            totals = {name: str(stated[name]) for name in ZERO_TOTALS}
        except (ValueError, KeyError, TypeError):
            pass  # a row that broke the chain already: the next one is checked against zeros
    return ChainState(int(row["seq"]), str(row["signature"]), totals)


@dataclass
class TrailReceiver:
    """One transaction's chain rows of a register: checked in order, then written at once."""

    db: Any
    register: Register
    received_at: str = field(default_factory=now_iso)
    keys: dict[str, str] | None = None
    states: dict[str, ChainState] = field(default_factory=dict)
    kept: list[tuple[Any, ...]] = field(default_factory=list)
    breaks: list[tuple[Any, ...]] = field(default_factory=list)
    # Signatures to check (row and key), a group at a time in other threads (see _later).
    pending: list[TrailRow] = field(default_factory=list)
    prepared: list[trail_keys.Prepared | None] = field(default_factory=list)
    checking: list[tuple[list[TrailRow], Future[list[int]]]] = field(default_factory=list)

    def take(self, payload: Mapping[str, Any]) -> None:
        """Check one row against its chain; TrailRefused (nothing taken) when it is unreadable."""
        row = trail_row(self.register.number, payload)
        state = self._state(row.chain)
        if self.keys is None or row.key_id not in self.keys:  # a key registered since
            self.keys = register_keys(self.db, self.register.id)
        last_seq = state.seq
        found = check_row(row, state, self.keys, self._later)
        if found is not None:
            self._broken(row, found)
            if row.seq > last_seq:  # the next row is checked against this one, as it came
                self.states[row.chain] = _state_of(row.as_record())
        self.kept.append((self.register.id, *_columns(row), self.received_at))

    def _broken(self, row: TrailRow, found: Break) -> None:
        params = dict(found.params)
        if found.seq == row.seq:
            params["ref"] = row.ref
        problem = (found.chain, found.seq, found.problem, json.dumps(params))
        self.breaks.append((self.register.id, *problem, self.received_at))

    def _later(self, row: TrailRow, public_key: str) -> bool:
        """Check the signature in another thread (a verification releases the GIL: it runs
        beside the checks of the next tickets) and go on as if it held; :meth:`write` waits for
        the answers and keeps a bad one as that row's break."""
        self.pending.append(row)
        self.prepared.append(trail_keys.prepare(public_key, row_bytes(row), row.signature))
        if len(self.pending) >= VERIFY_GROUP:
            self._send_pending()
        return True

    def _send_pending(self) -> None:
        if self.pending:
            future = _verifiers().submit(trail_keys.failing, self.prepared)
            self.checking.append((self.pending, future))
            self.pending, self.prepared = [], []

    def _settle(self) -> None:
        """Every signature checked; the breaks in chain order, a bad signature before any other
        break of the same row (what an immediate check would have found first)."""
        self._send_pending()
        for sent, future in self.checking:
            for index in future.result():
                row = sent[index]
                self._broken(row, Break(row.chain, row.seq, ALTERED))
        self.checking.clear()
        self.breaks.sort(key=lambda kept: (kept[1], kept[2], kept[3] != ALTERED))

    def _state(self, chain: str) -> ChainState:
        if chain not in self.states:
            last = one(
                self.db,
                "SELECT chain, seq, signature, fields FROM pos_trail_received"
                " WHERE register_id = ? AND chain = ? ORDER BY seq DESC LIMIT 1",
                [self.register.id, chain],
            )
            self.states[chain] = _state_of(last)
        return self.states[chain]

    def write(self) -> None:
        """Keep the rows taken and each chain's first break (a seq received twice: the first)."""
        self._settle()
        self.db.conn.executemany(
            "INSERT INTO pos_trail_received (register_id, chain, seq, kind, ref, recorded_at,"
            " fields, previous, signature, key_id, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            self.kept,
        )
        self.db.conn.executemany(
            "INSERT INTO pos_trail_breaks (register_id, chain, seq, problem, params, found_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            self.breaks,
        )
        self.kept.clear()
        self.breaks.clear()


# Signatures are checked in groups of this many rows, by at most this many threads: a
# verification costs about 0.06 ms (libsodium), outside the GIL.
VERIFY_GROUP = 32
VERIFY_THREADS = 2
_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def _verifiers() -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(VERIFY_THREADS, thread_name_prefix="trail-verify"))
        return _POOL[0]


def _columns(row: TrailRow) -> tuple[Any, ...]:
    return (
        row.chain,
        row.seq,
        row.kind,
        row.ref,
        row.recorded_at,
        row.fields,
        row.previous,
        row.signature,
        row.key_id,
    )


def apply_row(db: Any, register: Register, payload: Mapping[str, Any]) -> None:
    """One chain row on its own (the per-record path)."""
    receiver = TrailReceiver(db, register)
    receiver.take(payload)
    receiver.write()


def apply_ticket_row(db: Any, register: Register, payload: Mapping[str, Any]) -> None:
    """The signed row a ticket's record carries, if any (the per-record path)."""
    row = ticket_row(payload)
    if row is not None:
        apply_row(db, register, row)


# --- What the office shows and re-checks ---------------------------------------------------------


def break_text(number: int, found: Break) -> str:
    """A break in words, its record named: "Register 2: ticket record 45 … (C2-000045)"."""
    problem = found.translated()
    ref = found.params.get("ref")
    if ref:
        problem = gettext("{problem} (record {ref})", problem=problem.rstrip("."), ref=ref)
    return gettext("Register {number}: {problem}", number=number, problem=problem)


def received_rows(db: Any, register_id: int, number: int) -> list[TrailRow]:
    found = db.execute(
        "SELECT chain, seq, kind, ref, recorded_at, fields, previous, signature, key_id"
        " FROM pos_trail_received WHERE register_id = ? ORDER BY chain, seq",
        [register_id],
    )
    return [TrailRow(number, *row) for row in found]


def _tickets_against_documents(db: Any, number: int, received: list[TrailRow]) -> list[Break]:
    """Each signed ticket whose back-office document says another total (the ticket record and
    its chain row travel apart, so they are compared here, once both are in)."""
    totals = {
        str(row["number"]): Decimal(str(row["total_incl_vat"]))
        for row in rows(
            db,
            "SELECT number, total_incl_vat FROM documents WHERE source = ? AND kind = 'ticket'",
            [f"pos:{number}"],
        )
    }
    breaks: list[Break] = []
    for row in received:
        if row.chain != "ticket" or row.ref not in totals:
            continue
        try:
            signed = Decimal(str(json.loads(row.fields)["total_incl_vat"]))
        except (ValueError, KeyError, TypeError, InvalidOperation):
            continue  # an unreadable row is already a break of its chain
        if abs(signed - totals[row.ref]) >= Decimal("0.005"):
            params = {"ref": row.ref, "document": str(totals[row.ref]), "signed": str(signed)}
            problem = N_("The office's ticket {ref} says {document}, its signed record {signed}.")
            breaks.append(Break("ticket", row.seq, problem, params))
    return breaks


@dataclass(frozen=True)
class RegisterCheck:
    number: int
    records: int
    breaks: list[Break]

    def as_dict(self) -> dict[str, Any]:
        return {
            "register": self.number,
            "records": self.records,
            "ok": not self.breaks,
            "breaks": [
                {**found.as_dict(), "text": break_text(self.number, found)} for found in self.breaks
            ],
        }


def verify_office(store: Store, register: int | None = None) -> list[RegisterCheck]:
    """Every received chain of each register (or of register number ``register``) checked again
    from its first row, and the breaks found as the rows arrived (a number received twice is
    kept once, so only its stored break tells of it)."""
    sql = "SELECT id, number FROM pos_registers"
    chosen = register is not None
    with store.read() as db:
        registers = rows(
            db,
            sql + (" WHERE number = ?" if chosen else "") + " ORDER BY number",
            [register] if chosen else [],
        )
        if chosen and not registers:
            raise TrailRefused(N_("Register {register} does not exist."), register=register)
        return [_check_register(db, int(found["id"]), int(found["number"])) for found in registers]


def _check_register(db: Any, register_id: int, number: int) -> RegisterCheck:
    received = received_rows(db, register_id, number)
    _states, breaks = check_chains(received, register_keys(db, register_id))
    by_seq = {(row.chain, row.seq): row.ref for row in received}
    named = [
        Break(b.chain, b.seq, b.problem, {**b.params, "ref": by_seq[(b.chain, b.seq)]})
        if (b.chain, b.seq) in by_seq and "ref" not in b.params
        else b
        for b in breaks
    ]
    named += _tickets_against_documents(db, number, received)
    broken = {found.chain for found in named}
    for row in rows(
        db,
        "SELECT chain, seq, problem, params FROM pos_trail_breaks WHERE register_id = ?",
        [register_id],
    ):
        if row["chain"] not in broken:
            params = json.loads(row["params"] or "{}")
            named.append(Break(row["chain"], int(row["seq"]), row["problem"], params))
    return RegisterCheck(number, len(received), named)
