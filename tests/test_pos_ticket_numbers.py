"""A register's next ticket number (webapp.pos.selling.next_number): one index seek, and right
past 999999 and beside another register's prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from webapp.pos.selling import next_number
from webapp.store import Store


def _with_numbers(tmp_path: Path, numbers: list[str]) -> Store:
    store = Store(tmp_path / "relais.sqlite3")
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO pos_tickets (id, number, sold_at, total_incl_vat, payload)"
            " VALUES (?, ?, '2026-12-01T10:00:00Z', '1.00', '{}')",
            [(f"R1-{index}", number) for index, number in enumerate(numbers)],
        )
    return store


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ([], "C1-000001"),
        (["C1-000001", "C1-000002", "C1-000010"], "C1-000011"),
        # Another prefix that starts with this one, and another register's, are not counted.
        (["C1-000004", "C1-X000009", "C12-000050"], "C1-000005"),
        (["C1-999998", "C1-999999"], "C1-1000000"),
        (["C1-999999", "C1-1000000", "C1-1000001"], "C1-1000002"),
        (["C1-999999", "C1-9999999"], "C1-10000000"),
    ],
)
def test_next_number(tmp_path: Path, numbers: list[str], expected: str) -> None:
    store = _with_numbers(tmp_path, numbers)
    with store.read() as db:
        assert next_number(db, "C1-") == expected
    store.close()
