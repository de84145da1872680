"""Office: the records a register pushes (``POST /outbox``): tickets, customers, its settings.

They are applied one by one, each in its own transaction, and each id once (``pos_received``): a
repeated id answers ``already_applied`` (or ``rejected`` again) and changes nothing. A refused
record is kept as ``rejected`` with its reason (an English msgid and its params); the records after
it are still applied. An id without the register's own prefix (``R<number>-``) is refused and not
kept, so it can never shadow another register's record. A ticket's values are checked by
:mod:`webapp.pos.ticket_rules`, the rules the register applied before recording it.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sqlite_utils import Database

from webapp.backoffice import documents
from webapp.clock import now_iso
from webapp.i18n import N_, UserError
from webapp.pos import protocol, ticket_rules
from webapp.pos.office import (
    REGISTER_SQL,
    Register,
    RegisterError,
    register_of,
)
from webapp.store import Store, one, rows

log = logging.getLogger(__name__)

MAX_ID_LENGTH = 100
SETTING_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CUSTOMER_FIELDS = protocol.CUSTOMER_FIELDS


class RecordRejected(UserError):
    """A pushed record the office refuses; kept as ``rejected`` with this reason."""


# --- Records pushed by a register ------------------------------------------------------------


def _result(
    record_id: str, status: str, reason: str | None = None, **params: Any
) -> dict[str, Any]:
    result: dict[str, Any] = {"id": record_id, "status": status}
    if reason:
        result["reason"] = _english(reason, params)
        result["message"] = reason
        result["params"] = params
    return result


def _english(message: str, params: Mapping[str, Any]) -> str:
    try:
        return message.format(**params) if params else message
    except (KeyError, IndexError, ValueError):
        return message


def apply_records(
    store: Store, register: Register | int, records: Sequence[Any]
) -> list[dict[str, Any]]:
    """Apply the pushed records in order, each in its own transaction, each id once.

    Returns one result per record, in the same order: ``applied``, ``already_applied`` or
    ``rejected`` (with ``reason``, ``message`` and ``params``). When the office itself fails (the
    database locked, a full disk), it stops there and returns the results so far: each record
    applied is in the answer, and the ones after it stay queued on the register for next time."""
    if isinstance(register, int):
        found = _register_by_id(store, register)
        if found is None:
            raise RegisterError(N_("Register {register} does not exist."), register=register)
        register = found
    results = []
    for record in records:
        try:
            results.append(apply_record(store, register, record))
        except Exception:  # the office failing, not the record: the answer says how far it got
            log.exception("pos: register %s, applying a record failed", register.number)
            break
    return results


def _register_by_id(store: Store, register_id: int) -> Register | None:
    with store.read() as db:
        return register_of(one(db, f"{REGISTER_SQL} WHERE r.id = ?", [register_id]))


def _record_id(record: Any) -> str:
    if not isinstance(record, dict):
        return ""
    value = record.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH else ""


def apply_record(store: Store, register: Register, record: Any) -> dict[str, Any]:
    record_id = _record_id(record)
    if not record_id:
        reason = N_("The record has no id (a text of 1 to 100 characters).")
        given = record.get("id") if isinstance(record, dict) else None
        return _result(str(given or "")[:MAX_ID_LENGTH], "rejected", reason)
    if not protocol.valid_text(record):
        # Not kept either: SQLite stores only valid UTF-8, so not even the refusal could be.
        return _result(
            record_id, "rejected", N_("The record holds text that is not valid Unicode.")
        )
    prefix = f"R{register.number}-"
    if not record_id.startswith(prefix):
        # Not kept: the id may be another register's, whose own record must still go through.
        reason = N_("The record id {id} does not start with {prefix}, this register's prefix.")
        return _result(record_id, "rejected", reason, id=record_id, prefix=prefix)
    try:
        with store.write() as db:
            seen = _seen(db, record_id)
            if seen is not None:
                return seen
            document_id = _apply(db, register, record)
            _remember(db, register, record, "applied", None, {}, document_id)
        return _result(record_id, "applied")
    except UserError as exc:
        return _reject(store, register, record, exc.message, exc.params)
    except sqlite3.IntegrityError as exc:  # a conflict no check foresaw: refused, not a 500 forever
        reason = N_("The record conflicts with the office's data ({error}).")
        return _reject(store, register, record, reason, {"error": str(exc)})
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        # Values no check foresaw (the checks should have): refused with the error, never a 500
        # that would leave the register guessing about this record and the ones before it.
        log.exception("pos: record %s could not be applied", record_id)
        reason = N_("The record could not be applied ({error}).")
        return _reject(store, register, record, reason, {"error": type(exc).__name__})


def _seen(db: Database, record_id: str) -> dict[str, Any] | None:
    row = one(db, "SELECT status, reason, params FROM pos_received WHERE id = ?", [record_id])
    if row is None:
        return None
    if row["status"] == "applied":
        return _result(record_id, "already_applied")
    return _result(record_id, "rejected", row["reason"], **json.loads(row["params"] or "{}"))


def _reject(
    store: Store, register: Register, record: dict[str, Any], reason: str, params: dict[str, Any]
) -> dict[str, Any]:
    with store.write() as db:
        seen = _seen(db, record["id"])
        if seen is not None:  # applied by a concurrent push of the same batch meanwhile
            return seen
        _remember(db, register, record, "rejected", reason, params, None)
    return _result(record["id"], "rejected", reason, **params)


def _remember(
    db: Database,
    register: Register,
    record: dict[str, Any],
    status: str,
    reason: str | None,
    params: dict[str, Any],
    document_id: int | None,
) -> None:
    db.execute(
        "INSERT INTO pos_received (id, register_id, kind, status, reason, params, document_id,"
        " payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            record["id"],
            register.id,
            str(record.get("kind") or "")[:40],
            status,
            reason,
            json.dumps(params, ensure_ascii=False, default=str) if params else None,
            document_id,
            json.dumps(record, ensure_ascii=False, default=str),
            now_iso(),
        ],
    )


def _apply(db: Database, register: Register, record: dict[str, Any]) -> int | None:
    kind = record.get("kind")
    payload = record.get("payload")
    sender = record.get("register")
    if sender is not None and sender != register.number:
        raise RecordRejected(
            N_("The record comes from register {sender}, not from register {register}."),
            sender=sender,
            register=register.number,
        )
    if kind not in protocol.RECORD_KINDS:
        raise RecordRejected(N_("Unknown record kind {kind}."), kind=str(kind))
    if not isinstance(payload, dict):
        raise RecordRejected(N_("The record has no payload object."))
    if kind == "ticket":
        return _apply_ticket(db, register, record["id"], payload)
    if kind == "customer":
        _apply_customer(db, payload)
        return None
    _apply_setting(db, register, payload)
    return None


# --- Tickets ---------------------------------------------------------------------------------


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    return value.strip() if isinstance(value, str) else ""


def _customer_id(db: Database, code: str) -> int | None:
    if not code:
        return None
    row = one(db, "SELECT id FROM parties WHERE kind = 'customer' AND code = ?", [code])
    if row is None:
        raise RecordRejected(N_("Unknown customer {customer}."), customer=code)
    return int(row["id"])


def _unit_places(db: Database, code: str) -> int | None:
    row = one(
        db,
        "SELECT u.decimals FROM articles a JOIN units u ON u.id = a.unit_id WHERE a.code = ?",
        [code],
    )
    return None if row is None else int(row["decimals"] or 0)


def _ticket_line(db: Database, line: ticket_rules.CheckedLine, number: int) -> documents.LineInput:
    article_id = None
    if line.article:
        row = one(db, "SELECT id FROM articles WHERE code = ?", [line.article])
        if row is None:
            raise RecordRejected(
                N_("Line {line}: unknown article {article}."), line=number, article=line.article
            )
        article_id = int(row["id"])
    return documents.LineInput(
        label=line.label,
        quantity=line.quantity,
        unit_price=line.unit_price,
        vat_rate=line.vat_rate,
        article_id=article_id,
    )


def _apply_ticket(db: Database, register: Register, record_id: str, payload: dict[str, Any]) -> int:
    # The register made the same check before recording it (webapp/pos/ticket_rules.py).
    ticket = ticket_rules.check_ticket(payload, lambda code: _unit_places(db, code))
    taken = one(
        db,
        "SELECT external_ref FROM documents WHERE company_id = ? AND kind = 'ticket'"
        " AND number = ? AND (source IS NOT ? OR external_ref IS NOT ?)",
        [register.company_id, ticket.number, register.source, record_id],
    )
    if taken is not None:
        raise RecordRejected(N_("Ticket number {number} is already used."), number=ticket.number)
    data = documents.DocumentInput(
        kind="ticket",
        doc_date=ticket.sold_at.date(),
        lines=[_ticket_line(db, line, index) for index, line in enumerate(ticket.lines, 1)],
        party_id=_customer_id(db, ticket.customer),
        company_id=register.company_id,
        prices_include_vat=True,
        payments=[documents.PaymentInput(p.method, p.amount) for p in ticket.payments],
        source=register.source,
        external_ref=record_id,
        expected_total_incl_vat=ticket.given_total,
        warehouse_id=register.warehouse_id,
        number=ticket.number,
    )
    return documents.get_or_create_document(db, data).id


# --- Customers and settings ------------------------------------------------------------------


def _customer_values(db: Database, payload: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in CUSTOMER_FIELDS:
        value = payload.get(name)
        if value is not None and not isinstance(value, str):
            raise RecordRejected(N_("The customer's {field} must be text."), field=name)
        values[name] = (value or "").strip()[:200]
    country = values["country"].upper() or None
    if country and one(db, "SELECT code FROM countries WHERE code = ?", [country]) is None:
        raise RecordRejected(N_("Unknown country {country}."), country=country)
    values["country"] = country
    return values


def _apply_customer(db: Database, payload: dict[str, Any]) -> None:
    code = _text(payload, "code")
    if not code or len(code) > 40:
        raise RecordRejected(N_("The customer has no code."))
    values = _customer_values(db, payload)
    moment = now_iso()
    columns = ", ".join(CUSTOMER_FIELDS)
    marks = ", ".join("?" for _ in CUSTOMER_FIELDS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in CUSTOMER_FIELDS)
    db.execute(
        f"INSERT INTO parties (kind, code, {columns}, created_at, updated_at)"
        f" VALUES ('customer', ?, {marks}, ?, ?)"
        f" ON CONFLICT (kind, code) DO UPDATE SET {updates}, updated_at = excluded.updated_at",
        [code, *(values[name] for name in CUSTOMER_FIELDS), moment, moment],
    )


def setting_key(register_number: int, key: str) -> str:
    return f"pos.register.{register_number}.{key}"


def _apply_setting(db: Database, register: Register, payload: dict[str, Any]) -> None:
    key = payload.get("key")
    if not isinstance(key, str) or not SETTING_KEY.fullmatch(key):
        raise RecordRejected(
            N_("The setting key must be 1 to 64 letters, digits or the characters _ . -")
        )
    if "value" not in payload:
        raise RecordRejected(N_("The setting has no value."))
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
        " SET value = excluded.value, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
        [setting_key(register.number, key), json.dumps(payload["value"], ensure_ascii=False)],
    )


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
        row["params"] = json.loads(row["params"]) if row["params"] else {}
    return found
