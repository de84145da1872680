"""Cash-book continuity in the pull: every CODA statement delivered (any source) is recorded with
its delivery, and Scrada's `currentBalance` (`GET cashBook/{id}`) is compared with the last one.

Against the simulator over real HTTP: the partner feed (full mode) and the drop folder of an
account without the feed (documented-only).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_scrada_pull import configure, delivered_files, run_pull
from tests.test_scrada_pushed import drop_files, statement, use_sources
from webapp.scrada import continuity
from webapp.services import Services
from webapp.simulators.scrada import ScradaSimulator


@pytest.fixture
def full() -> Iterator[ScradaSimulator]:
    sim = ScradaSimulator(rate_limit=None)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def documented() -> Iterator[ScradaSimulator]:
    sim = ScradaSimulator(rate_limit=None, documented_only=True)
    sim.start()
    yield sim
    sim.stop()


def recorded(services: Services) -> list[tuple[str, int, str]]:
    with services.store.read() as db:
        rows = db.execute(
            "SELECT account, number, company_id FROM scrada_statements ORDER BY year, number"
        ).fetchall()
    return [(str(row[0]), int(row[1]), str(row[2])) for row in rows]


def kinds(services: Services) -> list[str]:
    return [problem.kind for problem in continuity.open_problems(services.store)]


def test_statements_from_the_feed_are_recorded_and_the_balance_agrees(
    services: Services, full: ScradaSimulator, tmp_path: Path
) -> None:
    shop = full.add_company("Boulangerie Dupont", documents=3)
    book = shop.cash_books[0]
    configure(services, full, tmp_path / "compta")
    assert run_pull(services)["status"] == "success"
    rows = recorded(services)
    assert [number for _account, number, _company in rows] == [1, 2, 3]
    assert {company for _account, _number, company in rows} == {shop.id}
    with services.store.read() as db:
        delivered = db.execute(
            "SELECT count(*) FROM scrada_deliveries WHERE book_kind = 'cash-book'"
        ).fetchone()[0]
    assert delivered == 3
    asked = [
        path
        for method, path, status in full.requests
        if method == "GET" and path.endswith(f"/cashBook/{book.id}") and status == 200
    ]
    assert len(asked) == 1, "the current balance is asked once, after the statements"
    assert kinds(services) == [], "consecutive, and Scrada's balance is the last one's"
    again = len(full.requests)
    run_pull(services)
    assert not [p for _m, p, _s in full.requests[again:] if p.endswith(f"/cashBook/{book.id}")]


def test_statements_from_the_drop_folder_gap_and_balance(
    services: Services, documented: ScradaSimulator, tmp_path: Path
) -> None:
    shop = documented.add_company("Boulangerie Dupont", documents=3)
    root, drop = tmp_path / "compta", tmp_path / "drop"
    drop.mkdir()
    configure(services, documented, root, company_ids=[shop.id])
    use_sources(services, drop=drop)

    drop_files(drop, ("first.cod", statement(documented, shop, 0)))
    assert run_pull(services)["status"] == "success"
    assert [number for _a, number, _c in recorded(services)] == [1]
    assert kinds(services) == ["balance"], "Scrada's balance is two statements ahead"

    drop_files(drop, ("third.cod", statement(documented, shop, 2)))
    assert run_pull(services)["status"] == "success"
    assert kinds(services) == ["gap"], "the balance agrees with the third; the second is missing"
    (gap,) = continuity.open_problems(services.store)
    assert gap.params["number"] == "2" and gap.company_id == shop.id

    drop_files(drop, ("second.cod", statement(documented, shop, 1)))
    assert run_pull(services)["status"] == "success"
    assert kinds(services) == [], "the missing statement arrived"
    assert [number for _a, number, _c in recorded(services)] == [1, 2, 3]
    assert len(delivered_files(root)) == 3


def test_a_quarantined_statement_is_not_recorded(
    services: Services, documented: ScradaSimulator, tmp_path: Path
) -> None:
    shop = documented.add_company("Boulangerie Dupont", documents=1)
    root, drop = tmp_path / "compta", tmp_path / "drop"
    drop.mkdir()
    configure(services, documented, root, company_ids=[shop.id])
    use_sources(services, drop=drop)
    good = statement(documented, shop, 0)
    # Record 9's credit sum no longer matches the movements: the file is refused as a whole.
    lines = good.split(b"\r\n")
    last = next(i for i, line in enumerate(lines) if line.startswith(b"9"))
    lines[last] = lines[last][:37] + b"9" + lines[last][38:]
    drop_files(drop, ("broken.cod", b"\r\n".join(lines)))
    assert run_pull(services)["status"] == "warning"
    assert recorded(services) == []
