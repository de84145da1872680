"""Office: a transaction of pushed tickets decided first, then written set-based.

Each ticket is checked in Python first, in order, with the rules and checks of the per-record path
(:mod:`webapp.pos.office_record_kinds`, :func:`~webapp.backoffice.documents.check_document`): a
refusal is decided before anything is written, so it leaves no trace but its ``pos_received`` row.
Then the transaction's documents, lines, payments and ``pos_received`` rows are written with a few
statements (:mod:`webapp.backoffice.document_bulk`). The caller keeps the per-record path for what
this one does not take: other kinds of records, a ticket already in the back office, and any
unexpected failure (it rolls this back and replays the records one savepoint each).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from webapp.backoffice import document_bulk
from webapp.backoffice.document_checks import BatchReferences, check_document
from webapp.i18n import UserError, stored_params
from webapp.pos.office import Register
from webapp.pos.office_record_kinds import (
    Articles,
    check_envelope,
    customer_id,
    ticket_document,
)
from webapp.pos.office_refunds import BatchSales
from webapp.pos.trail_office import TrailReceiver, ticket_row
from webapp.store import rows

log = logging.getLogger(__name__)


def answer(record_id: str, status: str, reason: str | None = None, **params: Any) -> dict[str, Any]:
    """The office's answer for one record."""
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


def kept_params(params: Mapping[str, Any]) -> str | None:
    """A refusal's params as ``pos_received`` keeps them."""
    return stored_params(dict(params))


class Unsuited(Exception):
    """The records need the per-record path (a ticket or its number already in the office)."""


@dataclass
class Planned:
    """A pushed ticket decided before anything is written."""

    record: dict[str, Any]
    text: str
    status: str = "applied"
    reason: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    document: document_bulk.CheckedInput | None = None
    document_id: int | None = None


# A record's place in a transaction: its answer already decided, or a ticket to decide.
Slot = dict[str, Any] | Planned
# The answer decided without writing (a bad id, an id seen before), or None and the JSON text.
Screen = Callable[[Any], tuple[dict[str, Any] | None, str]]


def is_ticket(record: Any) -> bool:
    return isinstance(record, dict) and record.get("kind") == "ticket"


def is_set_based(record: Any) -> bool:
    """A record the set-based path takes: a ticket or a chain row."""
    return is_ticket(record) or is_trail(record)


def is_trail(record: Any) -> bool:
    """A row of a register's chains: it travels beside each ticket, so the batch takes it too."""
    return isinstance(record, dict) and record.get("kind") == "trail"


class TicketBatch:
    """The tickets of one transaction: planned one by one, then written at once."""

    def __init__(self, db: Database, register: Register, articles: Articles) -> None:
        self.db = db
        self.register = register
        self.articles = articles
        self.planned: list[Planned] = []
        # The batch's references asked once; its tickets' origins are new (check_new).
        self.references = BatchReferences(origins_new=True)
        # The ticket numbers this transaction's documents take, and those documents' references.
        self._numbers: dict[str, str | None] = {}
        # The customers the tickets name, by code: a transaction of tickets changes none.
        self._customers: dict[str, int | None] = {}
        # The chain rows among the tickets, checked in order and written with them.
        self.trail = TrailReceiver(db, register)
        # Its sales and refunds: a refund is checked against its sale and the refunds before it.
        self.sales = BatchSales()

    def apply(
        self,
        screen: Screen,
        records: Sequence[Any],
        new: Sequence[dict[str, Any]],
        received_at: str,
        deadline: float,
    ) -> list[dict[str, Any]]:
        """Decide the records in order until ``deadline`` (monotonic) or the first that is neither
        a ticket nor a chain row, then write them; their answers, or [] with nothing written when the per-record
        path must take them. ``new`` are the tickets among them not received before."""
        try:
            self.check_new(new)
            taken = self._decide(screen, records, deadline)
        except Unsuited:
            return []
        except (ArithmeticError, ValueError, TypeError, RecursionError):
            # Values no check foresaw: the per-record path refuses that ticket with its error.
            log.warning("pos: a ticket escaped the checks, replayed one by one", exc_info=True)
            return []
        if not self.planned:
            return []
        self.db.execute("SAVEPOINT tickets")
        try:
            self.write()
            self.trail.write()
            self.remember(received_at)
        except Exception:
            if not self.db.conn.in_transaction:  # SQLite undid the whole transaction
                raise
            self.db.execute("ROLLBACK TO tickets")
            self.db.execute("RELEASE tickets")
            log.warning("pos: tickets not written at once, replayed one by one", exc_info=True)
            return []
        self.db.execute("RELEASE tickets")
        return [_answer_of(slot) for slot in taken]

    def _decide(self, screen: Screen, records: Sequence[Any], deadline: float) -> list[Slot]:
        taken: list[Slot] = []
        pending: set[str] = set()
        for record in records:
            if self.planned and time.monotonic() >= deadline:
                break
            answer, text = screen(record)
            if answer is not None:
                taken.append(answer)
                continue
            if not (is_ticket(record) or is_trail(record)) or record["id"] in pending:
                break  # a customer or setting, or an id twice: a later transaction takes it
            pending.add(record["id"])
            planned = Planned(record, text)
            if is_trail(record):
                self.plan_trail(planned)
            else:
                self.plan(planned)
            taken.append(planned)
        return taken

    def check_new(self, records: Sequence[dict[str, Any]]) -> None:
        """Raise Unsuited when one of these tickets, or its number, is in the office already:
        the per-record path answers those as it always did."""
        # As check_origin cleans them: the documents keep the ids stripped.
        ids = [_stripped(record.get("id")) for record in records]
        numbers = [_stripped(_payload(record).get("number")) for record in records]
        warehouse = self.register.warehouse_id
        if warehouse is not None and not rows(
            self.db, "SELECT id FROM warehouses WHERE id = ?", [warehouse]
        ):
            raise Unsuited  # every ticket is refused for it, one by one
        found = rows(
            self.db,
            "SELECT id FROM documents WHERE source = ? AND external_ref IN"
            " (SELECT value FROM json_each(?)) UNION ALL SELECT id FROM documents"
            " WHERE company_id = ? AND kind = 'ticket' AND number IN"
            " (SELECT value FROM json_each(?)) LIMIT 1",
            [self.register.source, json.dumps(ids), self.register.company_id, json.dumps(numbers)],
        )
        if found:
            raise Unsuited

    def plan(self, planned: Planned) -> None:
        """Decide one ticket: checked into a document, or refused with its reason."""
        record = planned.record
        try:
            _kind, payload = check_envelope(self.register, record)
            row = ticket_row(payload)
            if row is not None:  # taken first: kept even when the ticket is then refused
                self.trail.take(row)
            data = ticket_document(
                self.articles,
                self.register,
                record["id"],
                payload,
                self._taken,
                self._customer,
                self.sales.sale_of,
            )
            checked = check_document(self.db, data, self.references)
        except UserError as exc:
            planned.status, planned.reason, planned.params = "rejected", exc.message, exc.params
        else:
            assert data.number is not None  # a ticket always carries its number
            planned.document = document_bulk.CheckedInput(data, checked, data.number)
            self._numbers[data.number] = checked.external_ref
            self.sales.took(data.number, payload)
        self.planned.append(planned)

    def plan_trail(self, planned: Planned) -> None:
        """Check one chain row against its chain (a break is kept, the row still applied), or
        refuse it when it cannot be read."""
        try:
            _kind, payload = check_envelope(self.register, planned.record)
            self.trail.take(payload)
            self.sales.closing(self.db, self.register, payload)
        except UserError as exc:
            planned.status, planned.reason, planned.params = "rejected", exc.message, exc.params
        self.planned.append(planned)

    def _customer(self, db: Database, code: str) -> int | None:
        if code not in self._customers:  # an unknown code raises, so it is asked again
            self._customers[code] = customer_id(db, code)
        return self._customers[code]

    def _taken(self, _db: Database, _register: Register, number: str, record_id: str) -> bool:
        # As office_record_kinds.number_taken asks; those in the office were ruled out by check_new.
        return number in self._numbers and self._numbers[number] != record_id

    def write(self) -> None:
        """Write the planned documents; each planned ticket then knows its document id."""
        made = [planned for planned in self.planned if planned.document is not None]
        ids = document_bulk.write_documents(
            self.db,
            [planned.document for planned in made if planned.document is not None],
            self.register.source,
        )
        for planned, document_id in zip(made, ids, strict=True):
            planned.document_id = document_id

    def remember(self, received_at: str) -> None:
        """The ``pos_received`` row of each decided ticket, the refused ones too."""
        self.db.conn.executemany(
            "INSERT INTO pos_received (id, register_id, kind, status, reason, params,"
            " document_id, payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    planned.record["id"],
                    self.register.id,
                    str(planned.record.get("kind") or "")[:40],
                    planned.status,
                    planned.reason,
                    kept_params(planned.params),
                    planned.document_id,
                    planned.text,
                    received_at,
                )
                for planned in self.planned
            ],
        )


def _payload(record: dict[str, Any]) -> dict[str, Any]:
    payload = record.get("payload")
    return payload if isinstance(payload, dict) else {}


def _stripped(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _answer_of(slot: Slot) -> dict[str, Any]:
    if not isinstance(slot, Planned):
        return slot
    if slot.status == "applied":
        return answer(slot.record["id"], "applied")
    return answer(slot.record["id"], "rejected", slot.reason, **slot.params)
