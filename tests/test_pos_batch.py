"""The office applies a pushed batch a few hundred records per transaction, each record under its
own savepoint (issue 14). The chunk size is made small here so that one batch spans several
transactions; the faults are planted in the office's real database (temporary triggers)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_pos_office import shop, ticket  # noqa: F401 - the office fixture
from webapp.pos import office, office_records
from webapp.services import Services
from webapp.store import Store

Shop = tuple[Services, office.Register]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(office_records, "CHUNK_RECORDS", 4)
    monkeypatch.setattr(office_records, "CHUNK_SECONDS", 60.0)
    return 4


def tickets(count: int, start: int = 1) -> list[dict[str, Any]]:
    return [ticket(f"R3-t{n}", f"C3-{n:06d}") for n in range(start, start + count)]


def statuses(results: list[dict[str, Any]]) -> list[str]:
    return [result["status"] for result in results]


def kept(store: Store) -> tuple[list[str], list[str]]:
    """The tickets in the back office and the records kept as applied, by id."""
    with store.read() as db:
        documents = db.execute(
            "SELECT external_ref FROM documents WHERE kind = 'ticket' ORDER BY external_ref"
        ).fetchall()
        received = db.execute(
            "SELECT id FROM pos_received WHERE status = 'applied' ORDER BY id"
        ).fetchall()
    return [row[0] for row in documents], [row[0] for row in received]


def plant(store: Store, sql: str) -> None:
    with store.write() as db:
        db.execute(sql)


def test_a_batch_over_several_transactions_applies_each_record_once(
    shop: Shop,  # noqa: F811
    small_chunks: int,
) -> None:
    services, register = shop
    store = services.store
    batch = tickets(11)
    batch[2]["payload"]["lines"][0]["article"] = "GHOST"  # refused, in the first transaction
    batch[5]["payload"]["total_incl_vat"] = "30.00"  # refused, in the second
    batch.insert(8, ticket("R3-t2", "C3-000099"))  # an id seen earlier in the same batch
    results = office_records.apply_records(store, register, batch)
    expected = ["applied"] * 12
    expected[2] = expected[5] = "rejected"
    expected[8] = "already_applied"
    assert statuses(results) == expected
    assert results[2]["reason"] == "Line 1: unknown article GHOST."
    refs, applied = kept(store)
    assert refs == applied == sorted(r["id"] for r in results if r["status"] == "applied")

    again = office_records.apply_records(store, register, batch)
    assert statuses(again) == ["already_applied" if s != "rejected" else s for s in expected]
    assert [r.get("reason") for r in again] == [r.get("reason") for r in results]
    assert kept(store) == (refs, applied), "nothing doubled"


def test_a_record_the_office_fails_on_rolls_back_alone(
    shop: Shop,  # noqa: F811
    small_chunks: int,
) -> None:
    """The document of the sixth ticket is written, then keeping its id fails (the office's
    fault, not the record's): its savepoint undoes the document; the five before it are
    committed and answered, the ones after it stay for the next push."""
    services, register = shop
    store = services.store
    plant(
        store,
        "CREATE TEMP TRIGGER full_disk BEFORE INSERT ON pos_received WHEN NEW.id = 'R3-t6'"
        " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    )
    batch = tickets(9)
    results = office_records.apply_records(store, register, batch)
    assert statuses(results) == ["applied"] * 5
    assert kept(store) == ([f"R3-t{n}" for n in range(1, 6)],) * 2

    plant(store, "DROP TRIGGER temp.full_disk")
    again = office_records.apply_records(store, register, batch)
    assert statuses(again) == ["already_applied"] * 5 + ["applied"] * 4
    assert kept(store) == ([f"R3-t{n}" for n in range(1, 10)],) * 2


def test_a_transaction_sqlite_undid_answers_only_what_was_committed(
    shop: Shop,  # noqa: F811
    small_chunks: int,
) -> None:
    """SQLite rolls the whole transaction back (as on an I/O error): the records of that
    transaction were applied under savepoints but never committed, so they are not answered."""
    services, register = shop
    store = services.store
    plant(
        store,
        "CREATE TEMP TRIGGER io_error BEFORE INSERT ON documents WHEN NEW.number = 'C3-000007'"
        " BEGIN SELECT RAISE(ROLLBACK, 'disk I/O error'); END",
    )
    batch = tickets(10)
    results = office_records.apply_records(store, register, batch)
    assert statuses(results) == ["applied"] * small_chunks, "the first transaction only"
    assert kept(store) == ([f"R3-t{n}" for n in range(1, 5)],) * 2

    plant(store, "DROP TRIGGER temp.io_error")
    again = office_records.apply_records(store, register, batch)
    assert statuses(again) == ["already_applied"] * 4 + ["applied"] * 6
    assert kept(store) == (sorted(f"R3-t{n}" for n in range(1, 11)),) * 2


def test_records_refused_before_any_write_are_answered_in_order(
    shop: Shop,  # noqa: F811
    small_chunks: int,
) -> None:
    """Records without an id, with another register's prefix or text SQLite cannot store are
    answered in their place and never kept; they count in the chunk like the others."""
    services, register = shop
    store = services.store
    batch: list[Any] = [
        "not an object",
        ticket("R3-a", "C3-000001"),
        ticket("R4-b", "C3-000002"),
        {"id": "R3-\ud800", "kind": "ticket", "payload": {}},
        ticket("R3-c", "C3-000003"),
        {"kind": "ticket"},
    ]
    results = office_records.apply_records(store, register, batch)
    assert statuses(results) == [
        "rejected",
        "applied",
        "rejected",
        "rejected",
        "applied",
        "rejected",
    ]
    assert "R3-" in results[2]["reason"] and "Unicode" in results[3]["reason"]
    assert kept(store) == (["R3-a", "R3-c"],) * 2
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM pos_received").fetchone()[0] == 2
