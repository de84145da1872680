"""The office checks a refund or a void against the sale it names (issue 17): the same rules as the
register's, against the sale's record it kept and the refunds and voids of it it applied before,
in one batch (the set-based path) and one record at a time. A refused one writes no document."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_pos_register import office_services, tokens  # noqa: F401 - fixtures
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
    office_services: Services,  # noqa: F811
    tokens: dict[int, str],  # noqa: F811
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
