"""Pushed tickets are decided first, then written set-based (issue 14): the office keeps exactly
what the per-record path (a savepoint per record) keeps, refusals included, and falls back to that
path for what the set-based one does not take."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_pos_batch import statuses
from tests.test_pos_office import shop, ticket  # noqa: F401 - the office fixture
from webapp.pos import office, office_records
from webapp.services import Services
from webapp.store import Store

Shop = tuple[Services, office.Register]

TABLES = {
    "documents": "SELECT * FROM documents WHERE kind = 'ticket' ORDER BY id",
    "document_lines": "SELECT * FROM document_lines ORDER BY id",
    "document_payments": "SELECT * FROM document_payments ORDER BY id",
    "pos_received": "SELECT * FROM pos_received ORDER BY id",
}
TIMES = ("created_at", "received_at")  # the moment each path ran


def mixed_batch() -> list[Any]:
    """Tickets applied and refused for every reason the office checks, and a customer record."""
    two_payments = [{"method": "CASH", "amount": "20.00"}, {"method": "CARD", "amount": "9.00"}]
    no_article = [
        {"label": "Bouchon", "quantity": "1.5", "unit_price_incl_vat": "3.10", "vat_rate": "20"}
    ]
    return [
        ticket("R3-t1", "C3-000001"),
        ticket("R3-t2", "C3-000002", customer="C001"),
        ticket("R3-t3", "C3-000003", customer="NOBODY"),  # unknown customer
        ticket("R3-t4", "C3-000001"),  # number taken in this transaction
        ticket("R3-t5", "C3-000005", total_incl_vat="30.00"),  # totals differ
        ticket("R3-t6", "C3-000006", payments=two_payments),
        ticket("R3-t7", "C3-000007", payments=[{"method": "GOLD", "amount": "29.00"}]),
        ticket("R3-t8", "C3-000008", lines=no_article, payments=[], total_incl_vat=None),
        ticket(
            "R3-t9",
            "C3-000009",
            lines=[{"article": "GHOST", "quantity": "1", "unit_price_incl_vat": "2"}],
        ),
        ticket("R3-t10", "C3-000010", sold_at="yesterday"),
        {"id": "R3-t11", "register": 4, "kind": "ticket", "payload": {}},  # another sender
        ticket("R3-t1", "C3-000001"),  # an id seen earlier in the batch
        {"id": "R3-c1", "kind": "customer", "payload": {"code": "C777", "last_name": "Neuf"}},
        ticket("R3-t12", "C3-000012", customer="C777"),
        ticket("R3-t13", "C3-000013", lines=[{"article": "VR1", "quantity": "0"}]),
        ticket("R3-t14 ", "C3-000014"),  # the document keeps its id stripped...
        ticket("R3-t14", "C3-000015"),  # ...so this one is given that document
        ticket("R3-t15 ", "C3-000016"),
        ticket("R3-t15", "C3-000016"),  # the same number, that same document
        # Twin lines, checked once per transaction: each keeps its own number and spelling.
        ticket("R3-t16", "C3-000017", lines=[VR1_ONE, VR1_ONE], payments=[], total_incl_vat=None),
        ticket("R3-t17", "C3-000018", lines=[VR1_ONE, {**VR1_ONE, "quantity": "1.0"}]),
        # A refund of a ticket of this very batch, and one of a ticket the office does not have.
        refund("R3-t18", "C3-000019", "C3-000001"),
        refund("R3-t19", "C3-000020", "C3-999999"),
    ]


def refund(record_id: str, number: str, refunds: str) -> dict[str, Any]:
    """One bottle of VR1 given back in cash on ticket `refunds`."""
    lines = [{**VR1_ONE, "quantity": "-1", "vat_rate": "20"}]
    payments = [{"method": "CASH", "amount": "-14.50"}]
    return ticket(
        record_id,
        number,
        kind="refund",
        refunds=refunds,
        lines=lines,
        payments=payments,
        total_incl_vat="-14.50",
    )


VR1_ONE = {"article": "VR1", "label": "Vin rouge", "quantity": "1", "unit_price_incl_vat": "14.50"}


def stored(store: Store) -> dict[str, list[dict[str, Any]]]:
    with store.read() as db:
        found = {name: [dict(row) for row in db.execute(sql)] for name, sql in TABLES.items()}
    for table in found.values():
        for row in table:
            for column in TIMES:
                row.pop(column, None)
    return found


def forget(store: Store) -> None:
    """The pushed tickets removed, ids and numbers free again (the highest ids are reused)."""
    with store.write() as db:
        db.execute("DELETE FROM document_payments")
        db.execute("DELETE FROM document_lines")
        db.execute("DELETE FROM documents WHERE kind = 'ticket'")
        db.execute("DELETE FROM pos_received")
        db.execute("DELETE FROM parties WHERE code = 'C777'")


def one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_records._Chunk, "apply_tickets", lambda *args: [])


@pytest.mark.parametrize("chunk", [250, 4])
def test_set_based_and_per_record_paths_keep_the_same_rows(
    shop: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
) -> None:
    services, register = shop
    store = services.store
    monkeypatch.setattr(office_records, "CHUNK_RECORDS", chunk)
    monkeypatch.setattr(office_records, "CHUNK_SECONDS", 60.0)
    batch = mixed_batch()
    set_based = office_records.apply_records(store, register, batch)
    kept = stored(store)
    forget(store)
    one_by_one(monkeypatch)
    per_record = office_records.apply_records(store, register, batch)
    assert set_based == per_record
    assert stored(store) == kept
    assert statuses(set_based).count("applied") == 13
    assert statuses(set_based)[-2:] == ["applied", "rejected"]
    assert len(kept["documents"]) == 10 and len(kept["pos_received"]) == 22
    assert kept["documents"][-1]["number"] == "C3-000019"
    assert kept["documents"][-1]["total_incl_vat"] == -14.5
    twins = [
        row for row in kept["document_lines"] if row["document_id"] == kept["documents"][-2]["id"]
    ]
    assert [row["line_no"] for row in twins] == [1, 2]


def test_tickets_only_never_take_the_per_record_path(
    shop: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services, register = shop

    def per_record(*args: Any) -> Any:
        raise AssertionError("the per-record path was taken")

    monkeypatch.setattr(office_records._Chunk, "apply", per_record)
    batch = [ticket(f"R3-t{n}", f"C3-{n:06d}") for n in range(1, 40)]
    batch[7]["payload"]["total_incl_vat"] = "1.00"
    results = office_records.apply_records(services.store, register, batch)
    assert statuses(results) == ["applied"] * 7 + ["rejected"] + ["applied"] * 31


def test_a_ticket_already_in_the_office_goes_the_per_record_way(
    shop: Shop,  # noqa: F811
) -> None:
    """A document already there for a ticket's number (another source, or this ticket's own
    document without its pos_received row): answered as the per-record path always did."""
    services, register = shop
    store = services.store
    first = office_records.apply_records(store, register, [ticket("R3-a", "C3-000001")])
    assert statuses(first) == ["applied"]
    with store.write() as db:
        db.execute("DELETE FROM pos_received")  # as if the answer had been lost with the row
    again = office_records.apply_records(
        store, register, [ticket("R3-a", "C3-000001"), ticket("R3-b", "C3-000001")]
    )
    assert statuses(again) == ["applied", "rejected"]
    assert "already used" in again[1]["reason"]
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM documents WHERE kind = 'ticket'").fetchone()[0] == 1
