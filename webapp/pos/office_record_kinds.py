"""Office: what each kind of record a register pushes does, inside the caller's savepoint.

A ticket becomes a back-office document (its values checked by :mod:`webapp.pos.ticket_rules`, the
rules the register applied before recording it), a customer is upserted by code, a register setting
is kept as ``pos.register.<number>.<key>``. A refusal raises :class:`RecordRejected` (or another
:class:`~webapp.i18n.UserError`); the caller rolls the record back and keeps the refusal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlite_utils import Database

from webapp.backoffice import documents
from webapp.clock import now_iso
from webapp.i18n import N_, UserError
from webapp.pos import archives_office, office_refunds, protocol, ticket_rules, trail_office
from webapp.pos.office import Register
from webapp.store import one

SETTING_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CUSTOMER_FIELDS = protocol.CUSTOMER_FIELDS


class RecordRejected(UserError):
    """A pushed record the office refuses; kept as ``rejected`` with this reason."""


def apply_record_kind(
    db: Database, register: Register, record: dict[str, Any], articles: Articles | None = None
) -> int | None:
    """Apply one record in ``db``'s transaction; the document made for a ticket, if any.

    ``articles`` remembers the article lookups of the transaction (one per batch)."""
    kind, payload = check_envelope(register, record)
    if kind == "ticket":  # its signed row first: kept even when the ticket is then refused
        trail_office.apply_ticket_row(db, register, payload)
        return _apply_ticket(articles or Articles(db), register, record["id"], payload)
    if kind == "customer":
        _apply_customer(db, payload)
        return None
    if kind == "trail":  # a signed row of the register's chains, checked as it arrives
        trail_office.apply_row(db, register, payload)
        return None
    if kind == "trail_key":
        trail_office.apply_key(db, register, payload)
        return None
    if kind == "archive_part":  # kept on disk; the last part makes the archive whole, checked
        archives_office.apply_part(db, register, payload)
        return None
    _apply_setting(db, register, payload)
    return None


def keep_refused_ticket_row(db: Database, register: Register, record: dict[str, Any]) -> None:
    """After a ticket's refusal was rolled back: its signed row alone, which the register's chain
    holds whatever the office thinks of the ticket (an unreadable one is left out)."""
    try:
        kind, payload = check_envelope(register, record)
        if kind == "ticket":
            trail_office.apply_ticket_row(db, register, payload)
    except UserError:
        pass


def check_envelope(register: Register, record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The record's kind and payload, once its sender, kind and payload are checked."""
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
    return str(kind), payload


# --- Tickets ---------------------------------------------------------------------------------


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    return value.strip() if isinstance(value, str) else ""


def customer_id(db: Database, code: str) -> int | None:
    if not code:
        return None
    row = one(db, "SELECT id FROM parties WHERE kind = 'customer' AND code = ?", [code])
    if row is None:
        raise RecordRejected(N_("Unknown customer {customer}."), customer=code)
    return int(row["id"])


class Articles:
    """The articles the tickets name, each looked up once per transaction: pushed records never
    change articles or units."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._found: dict[str, tuple[int, int | None] | None] = {}

    def find(self, code: str) -> tuple[int, int | None] | None:
        """(id, its unit's decimals or None without a unit), or None for an unknown code."""
        if code not in self._found:
            row = one(
                self.db,
                "SELECT a.id, u.id AS unit_id, u.decimals FROM articles a"
                " LEFT JOIN units u ON u.id = a.unit_id WHERE a.code = ?",
                [code],
            )
            self._found[code] = None if row is None else (int(row["id"]), _places(row))
        return self._found[code]

    def places(self, code: str) -> int | None:
        found = self.find(code)
        return None if found is None else found[1]


def _places(row: Mapping[str, Any]) -> int | None:
    return None if row["unit_id"] is None else int(row["decimals"] or 0)


def _ticket_line(
    articles: Articles, line: ticket_rules.CheckedLine, number: int
) -> documents.LineInput:
    article_id = None
    if line.article:
        found = articles.find(line.article)
        if found is None:
            raise RecordRejected(
                N_("Line {line}: unknown article {article}."), line=number, article=line.article
            )
        article_id = found[0]
    return documents.LineInput(
        label=line.label,
        quantity=line.quantity,
        unit_price=line.unit_price,
        vat_rate=line.vat_rate,
        article_id=article_id,
    )


# Whether a ticket number is already another document's: (db, register, number, record id).
NumberTaken = Callable[[Database, Register, str, str], bool]
# The id of the customer with this code (None for no code); RecordRejected for an unknown one.
CustomerOf = Callable[[Database, str], int | None]


def number_taken(db: Database, register: Register, number: str, record_id: str) -> bool:
    taken = one(
        db,
        "SELECT external_ref FROM documents WHERE company_id = ? AND kind = 'ticket'"
        " AND number = ? AND (source IS NOT ? OR external_ref IS NOT ?)",
        [register.company_id, number, register.source, record_id],
    )
    return taken is not None


def _apply_ticket(
    articles: Articles, register: Register, record_id: str, payload: dict[str, Any]
) -> int:
    data = ticket_document(articles, register, record_id, payload)
    return documents.get_or_create_document(articles.db, data).id


def ticket_document(
    articles: Articles,
    register: Register,
    record_id: str,
    payload: dict[str, Any],
    taken: NumberTaken = number_taken,
    customer_of: CustomerOf | None = None,
    sale_of: office_refunds.SaleOf = office_refunds.sale_of,
) -> documents.DocumentInput:
    """The back-office document a ticket becomes, once its values are checked."""
    db = articles.db
    # The register made the same check before recording it (webapp/pos/ticket_rules.py).
    ticket = ticket_rules.check_ticket(payload, articles.places)
    if taken(db, register, ticket.number, record_id):
        raise RecordRejected(N_("Ticket number {number} is already used."), number=ticket.number)
    if ticket.refunds:  # a refund or a void: checked against the sale it names
        office_refunds.check_give_back(ticket, payload, sale_of(db, register, ticket.refunds))
    return documents.DocumentInput(
        kind="ticket",
        doc_date=ticket.sold_at.date(),
        lines=[_ticket_line(articles, line, index) for index, line in enumerate(ticket.lines, 1)],
        party_id=(customer_of or customer_id)(db, ticket.customer),
        company_id=register.company_id,
        prices_include_vat=True,
        payments=[documents.PaymentInput(p.method, p.amount) for p in ticket.payments],
        source=register.source,
        external_ref=record_id,
        expected_total_incl_vat=ticket.given_total,
        warehouse_id=register.warehouse_id,
        number=ticket.number,
    )


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
