"""The office checks a refund or a void against the sale it names (issue 17): the same rules as the
register's, against the sale's record it kept and the refunds and voids of it it applied before,
in one batch (the set-based path) and one record at a time. A refused one writes no document."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.test_pos_validation import ticket_record
from webapp.backoffice.documents import remembered_lookups
from webapp.pos import office, office_records
from webapp.services import Services


def give_back(record_id: str, number: str, sale: str, quantity: str, kind: str = "refund") -> Any:
    total = f"{-14.5 * int(quantity.lstrip('-')):.2f}"
    return ticket_record(
        record_id,
        number,
        {"quantity": quantity},
        payments=[{"method": "CASH", "amount": total}],
        total_incl_vat=total,
        kind=kind,
        refunds=sale,
    )


def apply(services: Services, records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    register = office.get_register(services.store, 3)
    assert register is not None
    answers = office_records.apply_records(services.store, register, records)
    return [(answer["status"], answer.get("reason", "")) for answer in answers]


def one_record(services: Services, record: dict[str, Any]) -> tuple[str, str]:
    """One record through the per-record path (its savepoint, its ``pos_received`` row)."""
    register = office.get_register(services.store, 3)
    assert register is not None
    with services.store.write() as db, remembered_lookups():
        answer = office_records._Chunk(db, register, [record]).apply(record)
    return answer["status"], answer.get("reason", "")


def documents(services: Services) -> list[str]:
    with services.store.read() as db:
        return [row[0] for row in db.execute("SELECT number FROM documents ORDER BY id")]


@pytest.mark.parametrize("one_by_one", [False, True])
def test_refunds_and_voids_checked_against_their_sale(
    office_services: Services,
    tokens: dict[int, str],
    one_by_one: bool,
) -> None:
    sale = ticket_record("R3-s1", "C3-000001", {})  # VR1 × 2
    batch = [
        sale,
        give_back("R3-r1", "C3-000002", "C3-000001", "-1"),
        give_back("R3-r2", "C3-000003", "C3-000001", "-2"),  # only 1 left
        give_back("R3-v1", "C3-000004", "C3-000001", "-2", "void"),  # refunded already
        ticket_record("R3-s2", "C3-000005", {}),
        give_back("R3-v2", "C3-000006", "C3-000005", "-1", "void"),  # not the whole sale
        give_back("R3-v3", "C3-000007", "C3-000005", "-2", "void"),
        give_back("R3-r3", "C3-000008", "C3-000005", "-1"),  # voided: nothing left
    ]
    if one_by_one:  # the per-record path, each in its own transaction: only what was kept
        answers = [one_record(office_services, record) for record in batch]
    else:
        answers = apply(office_services, batch)
    statuses = [status for status, _reason in answers]
    assert statuses == [
        "applied", "applied", "rejected", "rejected", "applied", "rejected", "applied", "rejected"
    ]  # fmt: skip
    reasons = [reason for _status, reason in answers]
    assert "only 1 left" in reasons[2]
    assert "refunded already" in reasons[3]
    assert "whole of ticket C3-000005" in reasons[5]
    assert "only 0 left" in reasons[7]
    assert documents(office_services) == ["C3-000001", "C3-000002", "C3-000005", "C3-000007"]


def chain_row(chain: str, seq: int, ref: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A chain row as a register sends it; its signature is not checked by these rules (an
    unknown key is that row's break: the row is kept all the same)."""
    return {
        "chain": chain, "seq": seq, "kind": "sale" if chain == "ticket" else "day", "ref": ref,
        "recorded_at": "2026-12-01T18:00:00Z", "fields": json.dumps(fields), "previous": "",
        "signature": "AA", "key_id": "k",
    }  # fmt: skip


def signed_sale(record_id: str, number: str, seq: int) -> dict[str, Any]:
    return ticket_record(record_id, number, {}, trail=chain_row("ticket", seq, number, {}))


def closure(record_id: str, seq: int, last_ticket_seq: Any) -> dict[str, Any]:
    row = chain_row("closure", seq, f"day-{seq}", {"last_ticket_seq": last_ticket_seq})
    return {"id": record_id, "register": 3, "seq": 1, "kind": "trail", "payload": row}


@pytest.mark.parametrize("one_by_one", [False, True])
def test_a_sale_of_a_closed_day_is_not_voided_at_the_office(
    office_services: Services,
    tokens: dict[int, str],
    one_by_one: bool,
) -> None:
    batch = [
        signed_sale("R3-s1", "C3-000001", 1),
        signed_sale("R3-s2", "C3-000002", 2),
        closure("R3-z1", 1, 1),  # the day of sale 1 closed; sale 2 is of the next day
        give_back("R3-v1", "C3-000003", "C3-000001", "-2", "void"),
        give_back("R3-v2", "C3-000004", "C3-000002", "-2", "void"),
        give_back("R3-r1", "C3-000005", "C3-000001", "-2"),  # a closed day's sale is refunded
        closure("R3-z2", 2, "x"),  # unreadable cover: it closes nothing
        signed_sale("R3-s3", "C3-000006", 3),
        give_back("R3-v3", "C3-000007", "C3-000006", "-2", "void"),
        closure("R3-z3", 3, 3),
        signed_sale("R3-s4", "C3-000008", 4),
        give_back("R3-v4", "C3-000009", "C3-000006", "-2", "void"),  # its day closed since
        give_back("R3-v5", "C3-000010", "C3-000008", "-2", "void"),
    ]
    if one_by_one:
        answers = [one_record(office_services, record) for record in batch]
    else:
        answers = apply(office_services, batch)
    statuses = [status for status, _reason in answers]
    assert statuses == [
        "applied", "applied", "applied", "rejected", "applied", "applied", "applied", "applied",
        "applied", "applied", "applied", "rejected", "applied",
    ], answers  # fmt: skip
    assert answers[3][1] == "Ticket C3-000001 is in a closed day: refund it instead."
    assert "C3-000006 is in a closed day" in answers[11][1]  # as the register checks: first
    assert "C3-000003" not in documents(office_services)
    assert {"C3-000004", "C3-000005", "C3-000007", "C3-000010"} <= set(documents(office_services))
