"""A register's outbox (POS-4, table ``MICPTRACK``): records made here, sent to the office.

:func:`enqueue` writes a record in the caller's transaction (the ticket, customer or setting change
that made it is in the same one). :func:`push_outbox` sends the queued records in their order, in
batches; a rejected record is set aside with its reason and never blocks the ones after it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from webapp.clock import now_iso
from webapp.pos import protocol
from webapp.pos.protocol import WireRecord
from webapp.pos.register_client import OfficeClient
from webapp.store import Store


def enqueue(db: Any, register: int, kind: str, payload: Mapping[str, Any], record: str = "") -> str:
    """Write one outbox record in the caller's transaction; its id is made here, before any send."""
    if kind not in protocol.RECORD_KINDS:
        raise ValueError(kind)
    record = record or protocol.record_id(register)
    db.execute(
        "INSERT INTO MICPTRACK (id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        [record, kind, json.dumps(payload, ensure_ascii=False, sort_keys=True), now_iso()],
    )
    return record


# The key id whose public half is already queued for the office (settings, this register).
KEY_SENT_SETTING = "pos.trail_key_sent"


def announce_key(db: Any, register: int, key_id: str, public_key: str) -> None:
    """Queue the register's public key for the office once per key, in the caller's transaction
    (before the first row it signs): the office checks every row with it."""
    sent = db.execute("SELECT value FROM settings WHERE key = ?", [KEY_SENT_SETTING]).fetchone()
    if sent is not None and json.loads(sent[0]) == key_id:
        return
    enqueue(db, register, "trail_key", {"key_id": key_id, "public_key": public_key})
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
        " SET value = excluded.value, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
        [KEY_SENT_SETTING, json.dumps(key_id)],
    )


def queued(store: Store, limit: int, after_seq: int = 0) -> list[dict[str, Any]]:
    with store.read() as db:
        return _queued(db, limit, after_seq)


def _queued(db: Any, limit: int, after_seq: int) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT seq, id, kind, payload, created_at FROM MICPTRACK"
        " WHERE state = 'queued' AND seq > ? ORDER BY seq LIMIT ?",
        [after_seq, limit],
    ).fetchall()
    return [dict(row) for row in rows]


# The JSON of a record's envelope; json.dumps(..., ensure_ascii=False) without an encoder each time.
_ENVELOPE = json.JSONEncoder(ensure_ascii=False)
# What a request's JSON encoder refuses (httpx's allow_nan=False): such a payload goes that way.
_NOT_JSON = ("NaN", "Infinity")


def wire_record(row: Mapping[str, Any], register: int) -> dict[str, Any]:
    return {
        "id": row["id"],
        "register": register,
        "seq": int(row["seq"]),
        "kind": row["kind"],
        "created_at": row["created_at"],
        "payload": json.loads(row["payload"]),
    }


def wire_text(row: Mapping[str, Any], register: int) -> str:
    """:func:`wire_record` as JSON text, its payload as it is kept (the JSON :func:`enqueue`
    wrote), rather than decoded and encoded again for each send."""
    payload = str(row["payload"])
    if any(word in payload for word in _NOT_JSON):
        return json.dumps(wire_record(row, register), ensure_ascii=False, allow_nan=False)
    envelope = {
        "id": row["id"],
        "register": register,
        "seq": int(row["seq"]),
        "kind": row["kind"],
        "created_at": row["created_at"],
    }
    return f'{_ENVELOPE.encode(envelope)[:-1]}, "payload": {payload}}}'


@dataclass
class PushResult:
    sent: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    batches: int = 0


def push_outbox(
    store: Store, client: OfficeClient, register: int, batch_size: int = protocol.MAX_BATCH
) -> PushResult:
    """Send the queued records in order, batch by batch, until none is left.

    A batch's answer is written while the next batch is sent (the commit waits for the disk): a
    record sent again because its answer was not written yet, the register stopped, is answered
    ``already_applied`` (the office applies each id once). The push returns, or raises, once every
    answer received is written."""
    result = PushResult()
    size = max(1, min(batch_size, protocol.MAX_BATCH))
    after = 0
    pending: Future[None] | None = None
    # One reading connection for the whole push, one thread writing the answers (leaving the
    # block waits for it, an error raised or not).
    with store.read() as reader, ThreadPoolExecutor(1, "pos-outbox") as writer:
        while rows := _queued(reader, size, after):
            answers = client.push([WireRecord(wire_text(row, register)) for row in rows])
            result.batches += 1
            if pending is not None:
                pending.result()  # the previous answer written, or its error raised here
            pending = writer.submit(_record_answers, store, rows, answers, result)
            after = int(rows[-1]["seq"])
    if pending is not None:
        pending.result()
    return result


NO_ANSWER = "no answer from the office for this record"


def _record_answers(
    store: Store,
    rows: list[dict[str, Any]],
    answers: list[dict[str, Any]],
    result: PushResult,
) -> None:
    """The office's answer for a batch, written in one transaction."""
    by_id = {str(answer.get("id")): answer for answer in answers}
    moment = now_iso()
    sent: list[str] = []
    rejected: list[tuple[str, str]] = []
    unanswered: list[tuple[str, str]] = []
    for row in rows:
        answer = by_id.get(row["id"])
        status = answer.get("status") if answer else None
        if status in ("applied", "already_applied"):
            sent.append(row["id"])
        elif status == "rejected":
            reason = str((answer or {}).get("reason") or "rejected")
            rejected.append((reason, row["id"]))
            result.rejected.append({"id": row["id"], "kind": row["kind"], "reason": reason})
        else:  # no answer for it: it stays queued and goes again next round
            unanswered.append((NO_ANSWER, row["id"]))
    with store.write() as db:
        # One statement for the batch (most records are sent); "+state": found by id, not by
        # walking every queued record of the state index.
        db.execute(
            "UPDATE MICPTRACK SET state = 'sent', sent_at = ?, attempts = attempts + 1,"
            " last_error = NULL WHERE id IN (SELECT value FROM json_each(?)) AND +state = 'queued'",
            [moment, json.dumps(sent)],
        )
        db.conn.executemany(
            "UPDATE MICPTRACK SET state = 'rejected', last_error = ?,"
            " attempts = attempts + 1 WHERE id = ? AND state = 'queued'",
            rejected,
        )
        db.conn.executemany(
            "UPDATE MICPTRACK SET attempts = attempts + 1, last_error = ? WHERE id = ?",
            unanswered,
        )
    result.sent += len(sent)
