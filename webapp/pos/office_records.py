"""Office: the records a register pushes (``POST /outbox``): tickets, customers, its settings,
its chains' signed rows.

A pushed batch is applied in order, up to a few hundred records per transaction, each record under
its own savepoint and each id once (``pos_received``): a repeated id answers ``already_applied`` (or
``rejected`` again) and changes nothing. A refused record rolls back alone and is kept as
``rejected`` with its reason (an English msgid and its params); the records after it are still
applied. An id without the register's own prefix (``R<number>-``) is refused and not kept, so it
can never shadow another register's record. What each kind of record does is in
:mod:`webapp.pos.office_record_kinds`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlite_utils import Database

from webapp.backoffice import documents
from webapp.clock import now_iso
from webapp.i18n import N_, UserError, loaded_params
from webapp.pos import office_batch, protocol
from webapp.pos.office import (
    REGISTER_SQL,
    Register,
    RegisterError,
    register_of,
)
from webapp.pos.office_batch import answer as _result
from webapp.pos.office_record_kinds import (
    Articles,
    apply_record_kind,
    keep_refused_ticket_row,
    setting_key,
)
from webapp.store import Store, one, rows

log = logging.getLogger(__name__)

MAX_ID_LENGTH = 100
# A transaction of pushed records ends after this many records (a whole call's) or this long,
# whichever comes first: one commit (and fsync) per few hundred records, and the write lock never
# held for long.
CHUNK_RECORDS = protocol.MAX_BATCH
CHUNK_SECONDS = 0.1
MIN_OFFERED = 16
# Tickets are decided for this share of CHUNK_SECONDS: writing them all at once then takes about
# two fifths of the time deciding took (profiled once deciding got faster, issue 14), so the
# transaction still ends near CHUNK_SECONDS.
DECIDE_SHARE = 0.6


# --- Records pushed by a register ------------------------------------------------------------


def apply_records(
    store: Store, register: Register | int, records: Sequence[Any]
) -> list[dict[str, Any]]:
    """Apply the pushed records in order, each id once, a few hundred per transaction.

    Each record runs under its own savepoint: a refused one rolls back alone and only its refusal
    is kept. A transaction takes at most ``CHUNK_RECORDS`` records and ``CHUNK_SECONDS`` of the
    write lock, so a UI save never waits long behind a push.

    Returns one result per record, in the same order: ``applied``, ``already_applied`` or
    ``rejected`` (with ``reason``, ``message`` and ``params``). When the office itself fails (the
    database locked, a full disk), it stops there and returns the results committed so far: each
    record applied is in the answer, and the ones after it stay queued on the register."""
    if isinstance(register, int):
        found = _register_by_id(store, register)
        if found is None:
            raise RegisterError(N_("Register {register} does not exist."), register=register)
        register = found
    results: list[dict[str, Any]] = []
    size = CHUNK_RECORDS
    while len(results) < len(records):
        # No pause between two transactions: the store's lock goes to the oldest waiter (a UI save
        # waiting behind this one gets it next, webapp/store/fair_lock.py).
        chunk: list[dict[str, Any]] = []
        offered = records[len(results) : len(results) + size]
        try:
            failed = _apply_chunk(store, register, offered, chunk)
        except Exception:  # the transaction itself failed: nothing of this chunk was kept
            log.exception("pos: register %s, a transaction of records failed", register.number)
            break
        results.extend(chunk)
        if failed:
            break
        size = _next_size(size, len(offered), len(chunk))
    return results


def _next_size(size: int, offered: int, taken: int) -> int:
    """How many records the next transaction is offered: what a transaction asks before its first
    record (the ids received before, the tickets' origins) is asked for all it is offered, so it
    is offered about what the last one took in its time, and more when it took them all."""
    if taken >= offered:
        return min(CHUNK_RECORDS, size * 2)
    return min(CHUNK_RECORDS, max(MIN_OFFERED, taken + taken // 2))


def _apply_chunk(
    store: Store, register: Register, records: Sequence[Any], results: list[dict[str, Any]]
) -> bool:
    """Apply the first records in one transaction, appending their results to ``results``;
    True when the office failed on the next one (what came before is committed)."""
    # Pushed records never change articles, units, VAT rates or payment methods.
    with store.write() as db, documents.remembered_lookups():
        started = time.monotonic()  # the write lock is held from here
        chunk = _Chunk(db, register, records)
        set_based = True  # until the set-based path declines a ticket in this transaction
        while len(results) < len(records):
            rest = records[len(results) :]
            # Tickets and chain rows are checked first, then written set-based; the records
            # before them (a key, a customer) one by one.
            takes = set_based and office_batch.is_set_based(rest[0])
            decided = chunk.apply_tickets(rest, started) if takes else []
            if decided:
                results.extend(decided)
                break  # its deadline is this transaction's
            if takes:  # declined (a ticket already in the office): one by one from here
                set_based = False
            try:
                results.append(chunk.apply(rest[0]))
            except Exception:  # the office failing, not the record: the answer says how far it got
                log.exception("pos: register %s, applying a record failed", register.number)
                if not db.conn.in_transaction:  # SQLite undid the whole transaction
                    raise
                return True
            if len(results) >= CHUNK_RECORDS or time.monotonic() - started >= CHUNK_SECONDS:
                break
    return False


def _register_by_id(store: Store, register_id: int) -> Register | None:
    with store.read() as db:
        return register_of(one(db, f"{REGISTER_SQL} WHERE r.id = ?", [register_id]))


def _record_id(record: Any) -> str:
    if not isinstance(record, dict):
        return ""
    value = record.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH else ""


class _Chunk:
    """One transaction of pushed records, and what it asks once: the ids already received, the
    articles, the time of reception."""

    def __init__(self, db: Database, register: Register, records: Sequence[Any]) -> None:
        self.db = db
        self.register = register
        self.articles = Articles(db)
        self.received_at = now_iso()
        self.prefix = f"R{register.number}-"
        # A chunk takes CHUNK_RECORDS records at most: the ids of those are asked at once.
        ids = [_record_id(record) for record in records[:CHUNK_RECORDS]]
        self.seen = _received_before(db, ids)

    def screen(self, record: Any) -> tuple[dict[str, Any] | None, str]:
        """The answer decided without writing (a bad id, an id seen before), or None and the
        record's JSON text when it is to be applied."""
        record_id = _record_id(record)
        if not record_id:
            reason = N_("The record has no id (a text of 1 to 100 characters).")
            given = record.get("id") if isinstance(record, dict) else None
            return _result(str(given or "")[:MAX_ID_LENGTH], "rejected", reason), ""
        text = protocol.json_text(record)
        if text is None:
            # Not kept either: SQLite stores only valid UTF-8, so not even the refusal could be.
            reason = N_("The record holds text that is not valid Unicode.")
            return _result(record_id, "rejected", reason), ""
        prefix = self.prefix
        if not record_id.startswith(prefix):
            # Not kept: the id may be another register's, whose own record must still go through.
            reason = N_("The record id {id} does not start with {prefix}, this register's prefix.")
            return _result(record_id, "rejected", reason, id=record_id, prefix=prefix), ""
        if record_id in self.seen:
            return _seen(record_id, self.seen[record_id]), ""
        return None, text

    def apply_tickets(self, records: Sequence[Any], started: float) -> list[dict[str, Any]]:
        """The first records decided first and written set-based, as long as they are tickets;
        [] (nothing written) when the per-record path must take them."""
        taken = records[:CHUNK_RECORDS]
        new = [r for r in taken if office_batch.is_ticket(r) and r.get("id") not in self.seen]
        if not new and not any(office_batch.is_trail(r) for r in taken):
            return []
        batch = office_batch.TicketBatch(self.db, self.register, self.articles)
        deadline = started + CHUNK_SECONDS * DECIDE_SHARE
        return batch.apply(self.screen, taken, new, self.received_at, deadline)

    def apply(self, record: Any) -> dict[str, Any]:
        answer, text = self.screen(record)
        if answer is not None:
            return answer
        self.db.execute("SAVEPOINT record")
        try:
            result = self._apply_or_refuse(record, text)
        except BaseException:
            if self.db.conn.in_transaction:  # else SQLite already undid the whole transaction
                self.db.execute("ROLLBACK TO record")
                self.db.execute("RELEASE record")
            raise
        self.db.execute("RELEASE record")
        return result

    def _apply_or_refuse(self, record: dict[str, Any], text: str) -> dict[str, Any]:
        """Inside the record's savepoint: applied, or rolled back to it with only the refusal
        kept."""
        try:
            document_id = apply_record_kind(self.db, self.register, record, self.articles)
        except UserError as exc:
            reason, params = exc.message, exc.params
        except sqlite3.IntegrityError as exc:  # a conflict no check foresaw: refused, not a 500
            reason = N_("The record conflicts with the office's data ({error}).")
            params = {"error": str(exc)}
        except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
            # Values no check foresaw (the checks should have): refused with the error, never a
            # 500 that would leave the register guessing about this record and the ones before it.
            log.exception("pos: record %s could not be applied", record["id"])
            reason = N_("The record could not be applied ({error}).")
            params = {"error": type(exc).__name__}
        else:
            self._remember(record, text, "applied", None, {}, document_id)
            return _result(record["id"], "applied")
        self.db.execute("ROLLBACK TO record")
        keep_refused_ticket_row(self.db, self.register, record)
        self._remember(record, text, "rejected", reason, params, None)
        return _result(record["id"], "rejected", reason, **params)

    def _remember(
        self,
        record: dict[str, Any],
        text: str,
        status: str,
        reason: str | None,
        params: dict[str, Any],
        document_id: int | None,
    ) -> None:
        kept = office_batch.kept_params(params)
        self.db.execute(
            "INSERT INTO pos_received (id, register_id, kind, status, reason, params,"
            " document_id, payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                record["id"],
                self.register.id,
                str(record.get("kind") or "")[:40],
                status,
                reason,
                kept,
                document_id,
                text,
                self.received_at,
            ],
        )
        self.seen[record["id"]] = {"status": status, "reason": reason, "params": kept}


def _received_before(db: Database, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The rows of ``pos_received`` of these ids (those received before), by id."""
    asked = [
        one_id for one_id in ids if one_id and (one_id.isascii() or protocol.valid_text(one_id))
    ]
    found = rows(
        db,
        "SELECT id, status, reason, params FROM pos_received"
        " WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(asked)],
    )
    return {row.pop("id"): row for row in found}


def _seen(record_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
    if row["status"] == "applied":
        return _result(record_id, "already_applied")
    return _result(record_id, "rejected", row["reason"], **(loaded_params(row["params"]) or {}))


def register_settings(store: Store, number: int) -> dict[str, Any]:
    """The settings a register pushed, by key."""
    prefix = setting_key(number, "")
    with store.read() as db:
        rows = db.execute(
            "SELECT key, value FROM settings WHERE substr(key, 1, ?) = ?", [len(prefix), prefix]
        ).fetchall()
    return {str(row[0])[len(prefix) :]: json.loads(row[1]) for row in rows}


def received(store: Store, *, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Records received from the registers, newest first (only ``status`` ones if given)."""
    sql = (
        "SELECT x.id, r.number AS register, x.kind, x.status, x.reason, x.params,"
        " x.document_id, x.received_at FROM pos_received x"
        " LEFT JOIN pos_registers r ON r.id = x.register_id"
    )
    params: list[Any] = []
    if status:
        sql += " WHERE x.status = ?"
        params.append(status)
    with store.read() as db:
        found = rows(db, sql + " ORDER BY x.received_at DESC, x.id LIMIT ?", [*params, limit])
    for row in found:
        row["params"] = loaded_params(row["params"]) or {}
    return found
