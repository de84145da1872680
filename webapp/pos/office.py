"""Office: registers and their tokens, packages as the API serves them, records pushed back.

A register's token is shown once, when it is made: only its SHA-256 is stored, and making a new
one revokes the register's older tokens (a register has one valid token at a time).

Records pushed by a register (``POST /outbox``) are applied one by one, each in its own
transaction, and each id once (``pos_received``): a repeated id answers ``already_applied`` (or
``rejected`` again) and changes nothing. A refused record is kept as ``rejected`` with its
reason (an English msgid and its params); the records after it are still applied.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sqlite3
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from webapp.backoffice import documents
from webapp.i18n import N_, UserError
from webapp.pos import changes, protocol, ticket_rules
from webapp.store import Store

log = logging.getLogger(__name__)

MAX_ID_LENGTH = 100
SETTING_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CUSTOMER_FIELDS = protocol.CUSTOMER_FIELDS


class RegisterError(UserError):
    """A refused request about a register (bad number, unknown company...)."""


class RecordRejected(UserError):
    """A pushed record the office refuses; kept as ``rejected`` with this reason."""


@dataclass(frozen=True)
class Register:
    id: int
    number: int
    label: str
    company_id: int
    company: str
    warehouse_id: int | None
    ticket_prefix: str
    active: bool

    @property
    def source(self) -> str:
        """The ``source`` of the documents made from this register's tickets."""
        return f"pos:{self.number}"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _rows(db: Database, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = db.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(db: Database, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    rows = _rows(db, sql, params)
    return rows[0] if rows else None


# --- Registers and tokens --------------------------------------------------------------------

_REGISTER_SQL = (
    "SELECT r.id, r.number, r.label, r.company_id, c.code AS company, r.warehouse_id,"
    " r.ticket_prefix, r.active FROM pos_registers r JOIN companies c ON c.id = r.company_id"
)


def _register(row: dict[str, Any] | None) -> Register | None:
    if row is None:
        return None
    return Register(**{**row, "active": bool(row["active"])})


def get_register(store: Store, number: int) -> Register | None:
    with store.read() as db:
        return _register(_one(db, f"{_REGISTER_SQL} WHERE r.number = ?", [number]))


def _company_id(db: Database, code: str | None) -> int:
    if code:
        row = _one(db, "SELECT id FROM companies WHERE code = ?", [code.strip()])
        if row is None:
            raise RegisterError(N_("Company {company} does not exist."), company=code)
    else:
        row = _one(db, "SELECT id FROM companies ORDER BY is_default DESC, id LIMIT 1")
        if row is None:
            raise RegisterError(N_("No company is defined: create one first."))
    return int(row["id"])


def _default_warehouse(db: Database) -> int | None:
    row = _one(db, "SELECT id FROM warehouses ORDER BY is_default DESC, id LIMIT 1")
    return None if row is None else int(row["id"])


def add_register(
    store: Store, number: int, company_code: str | None = None, label: str | None = None
) -> tuple[Register, str]:
    """Create the register (or update its company and label) and give it a new token.

    The token is returned once; only its SHA-256 is kept, and the register's older tokens are
    revoked."""
    if not isinstance(number, int) or not 0 < number < 1_000_000:
        raise RegisterError(N_("The register number must be a whole number from 1 to 999999."))
    token = secrets.token_urlsafe(32)
    with store.write() as db:
        existing = _one(
            db, "SELECT id, label, company_id FROM pos_registers WHERE number = ?", [number]
        )
        company_id = (
            _company_id(db, company_code)
            if company_code or existing is None
            else int(existing["company_id"])
        )
        text = (label or "").strip() or (
            str(existing["label"]) if existing else f"Register {number}"
        )
        if existing is None:
            db.execute(
                "INSERT INTO pos_registers (number, label, company_id, warehouse_id,"
                " ticket_prefix) VALUES (?, ?, ?, ?, ?)",
                [number, text, company_id, _default_warehouse(db), f"C{number}-"],
            )
        else:
            db.execute(
                "UPDATE pos_registers SET label = ?, company_id = ?, active = 1 WHERE number = ?",
                [text, company_id, number],
            )
        register = _register(_one(db, f"{_REGISTER_SQL} WHERE r.number = ?", [number]))
        assert register is not None
        moment = now_iso()
        db.execute(
            "UPDATE pos_register_tokens SET revoked_at = ? WHERE register_id = ?"
            " AND revoked_at IS NULL",
            [moment, register.id],
        )
        db.execute(
            "INSERT INTO pos_register_tokens (register_id, token_sha256, created_at)"
            " VALUES (?, ?, ?)",
            [register.id, protocol.token_digest(token), moment],
        )
    return register, token


def revoke_tokens(store: Store, number: int) -> int:
    """Revoke every token of the register: it can no longer reach the office until given a new one."""
    with store.write() as db:
        cursor = db.execute(
            "UPDATE pos_register_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND"
            " register_id = (SELECT id FROM pos_registers WHERE number = ?)",
            [now_iso(), number],
        )
        return int(cursor.rowcount)


def register_for_token(store: Store, token: str) -> Register | None:
    """The active register holding this (unrevoked) token, or None; records when it was seen."""
    if not token:
        return None
    digest = protocol.token_digest(token)
    with store.read() as db:
        row = _one(
            db,
            f"{_REGISTER_SQL} JOIN pos_register_tokens t ON t.register_id = r.id"
            " WHERE t.token_sha256 = ? AND t.revoked_at IS NULL AND r.active = 1",
            [digest],
        )
    register = _register(row)
    if register is not None:
        with store.write() as db:
            db.execute(
                "UPDATE pos_register_tokens SET last_seen_at = ? WHERE token_sha256 = ?",
                [now_iso(), digest],
            )
    return register


def list_registers(store: Store) -> list[dict[str, Any]]:
    """Every register with its last contact, last acknowledged package and received counts."""
    with store.read() as db:
        return _rows(
            db,
            "SELECT r.id, r.number, r.label, c.code AS company, r.ticket_prefix, r.active,"
            " (SELECT max(last_seen_at) FROM pos_register_tokens t WHERE t.register_id = r.id)"
            " AS last_seen_at,"
            " (SELECT max(number) FROM pos_packages p WHERE p.register_id = r.id) AS last_built,"
            " (SELECT max(number) FROM pos_packages p WHERE p.register_id = r.id"
            " AND p.acked_at IS NOT NULL) AS last_acked,"
            " (SELECT count(*) FROM pos_received x WHERE x.register_id = r.id"
            " AND x.status = 'applied') AS applied,"
            " (SELECT count(*) FROM pos_received x WHERE x.register_id = r.id"
            " AND x.status = 'rejected') AS rejected"
            " FROM pos_registers r JOIN companies c ON c.id = r.company_id ORDER BY r.number",
        )


# --- Packages --------------------------------------------------------------------------------


def _package_info(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": int(row["number"]),
        "from_seq": int(row["from_seq"]),
        "to_seq": int(row["to_seq"]),
        "full": bool(row["full"]),
        "size": int(row["size"]),
        "sha256": str(row["sha256"]),
    }


_PACKAGE_COLUMNS = "number, from_seq, to_seq, full, size, sha256, acked_at"


def list_packages(store: Store, register: Register, after: int) -> list[dict[str, Any]]:
    """The register's packages numbered above ``after``, in order.

    ``after`` 0 is a register starting from nothing (a new one, or one that lost its data): it
    gets the latest full package, built now if the register had acknowledged any before."""
    if after <= 0:
        return _from_scratch(store, register)
    with store.read() as db:
        rows = _rows(
            db,
            f"SELECT {_PACKAGE_COLUMNS} FROM pos_packages WHERE register_id = ? AND number > ?"
            " ORDER BY number",
            [register.id, after],
        )
    return [_package_info(row) for row in rows]


def _from_scratch(store: Store, register: Register) -> list[dict[str, Any]]:
    for _attempt in range(2):
        with store.read() as db:
            rows = _rows(
                db,
                f"SELECT {_PACKAGE_COLUMNS} FROM pos_packages WHERE register_id = ?"
                " ORDER BY number",
                [register.id],
            )
        acked = max((row["number"] for row in rows if row["acked_at"]), default=0)
        full = max((row["number"] for row in rows if row["full"]), default=0)
        if full > acked:  # a full package it has not taken yet: start there
            return [_package_info(row) for row in rows if row["number"] >= full]
        changes.build_package(store, register.id, force_full=True)
    return []


def package_body(store: Store, register: Register, number: int) -> bytes | None:
    """The stored package, zlib-compressed (``Content-Encoding: deflate`` as it is), or None."""
    with store.read() as db:
        row = db.execute(
            "SELECT body FROM pos_packages WHERE register_id = ? AND number = ?",
            [register.id, number],
        ).fetchone()
    return None if row is None else bytes(row[0])


def package_json(store: Store, register: Register, number: int) -> dict[str, Any] | None:
    body = package_body(store, register, number)
    return None if body is None else dict(json.loads(zlib.decompress(body)))


def acknowledge(store: Store, register: Register, number: int) -> bool:
    """The register committed package ``number``: the next one starts from its ``to_seq``.

    The older packages of the register are dropped then: it will never need them again."""
    with store.write() as db:
        cursor = db.execute(
            "UPDATE pos_packages SET acked_at = coalesce(acked_at, ?) WHERE register_id = ?"
            " AND number = ?",
            [now_iso(), register.id, number],
        )
        if cursor.rowcount == 0:
            return False
        db.execute(
            "DELETE FROM pos_packages WHERE register_id = ? AND number < ?", [register.id, number]
        )
    return True


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
        return _register(_one(db, f"{_REGISTER_SQL} WHERE r.id = ?", [register_id]))


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
    row = _one(db, "SELECT status, reason, params FROM pos_received WHERE id = ?", [record_id])
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
    row = _one(db, "SELECT id FROM parties WHERE kind = 'customer' AND code = ?", [code])
    if row is None:
        raise RecordRejected(N_("Unknown customer {customer}."), customer=code)
    return int(row["id"])


def _unit_places(db: Database, code: str) -> int | None:
    row = _one(
        db,
        "SELECT u.decimals FROM articles a JOIN units u ON u.id = a.unit_id WHERE a.code = ?",
        [code],
    )
    return None if row is None else int(row["decimals"] or 0)


def _ticket_line(db: Database, line: ticket_rules.CheckedLine, number: int) -> documents.LineInput:
    article_id = None
    if line.article:
        row = _one(db, "SELECT id FROM articles WHERE code = ?", [line.article])
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
    taken = _one(
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
    if country and _one(db, "SELECT code FROM countries WHERE code = ?", [country]) is None:
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
        rows = _rows(db, sql + " ORDER BY x.received_at DESC, x.id LIMIT ?", [*params, limit])
    for row in rows:
        row["params"] = json.loads(row["params"]) if row["params"] else {}
    return rows
