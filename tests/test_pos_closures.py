"""Closures on the register (issue 17): totals from the signed ticket chain, the closures a month
or a year needs made first, a period closed once, and the chains holding after.

The tickets are signed rows of a real data folder's chain, written as the register records a sale
(a ticket and its row in one transaction), at chosen moments; the shop's day is read in the time
zone the test sets (Europe/Paris), as the register reads its computer's clock.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from webapp import i18n
from webapp.pos import closures, trail, trail_keys, trail_verify
from webapp.services import Services
from webapp.store import Store

REGISTER = 3


@pytest.fixture(autouse=True)
def paris(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shop's clock in Paris (UTC+1 in winter, +2 in summer)."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def signer() -> trail_keys.Signer:
    return trail_keys.new_signer()


def sell(
    store: Store,
    signer: trail_keys.Signer,
    at: str,
    lines: list[tuple[str, str, str]],
    payments: list[tuple[str, str]] | None = None,
    kind: str = "sale",
) -> str:
    """A ticket signed at ``at`` (UTC): lines of (quantity, unit price incl. VAT, VAT rate)."""
    wire = [
        {"article": "A", "quantity": quantity, "unit_price_incl_vat": price, "vat_rate": rate}
        for quantity, price, rate in lines
    ]
    total = sum((Decimal(q) * Decimal(p) for q, p, _r in lines), Decimal(0))
    with store.write() as db:
        count = db.execute("SELECT count(*) FROM pos_tickets").fetchone()[0]
        number = f"C3-{count + 1:06d}"
        paid = payments or [("CASH", trail.money(total))]
        payload = {
            "number": number,
            "sold_at": at,
            "lines": wire,
            "payments": [{"method": method, "amount": amount} for method, amount in paid],
            "total_incl_vat": trail.money(total),
        }
        db.execute(
            "INSERT INTO pos_tickets (id, number, sold_at, total_incl_vat, payload)"
            " VALUES (?, ?, ?, ?, ?)",
            [f"R3-{number}", number, at, payload["total_incl_vat"], json.dumps(payload)],
        )
        fields = trail.ticket_fields(payload, kind, trail.grand_totals(db))
        trail.append(db, signer, REGISTER, "ticket", kind, number, fields, recorded_at=at)
    return number


def close(store: Store, signer: trail_keys.Signer, period: str, day: str) -> list[Any]:
    return closures.close(store, signer, REGISTER, period, date.fromisoformat(day))


def holds(store: Store, signer: trail_keys.Signer) -> None:
    with store.read() as db:
        assert trail_verify.verify_register(db, REGISTER, {signer.key_id: signer.public_key}) == []


def test_a_day_closure_adds_up_rates_and_payments(
    services: Services, signer: trail_keys.Signer
) -> None:
    store = services.store
    first = sell(
        store, signer, "2025-03-10T08:00:00Z", [("2", "12.00", "20"), ("1", "2.11", "5.5")]
    )
    sell(
        store,
        signer,
        "2025-03-10T15:00:00Z",
        [("1", "30.00", "20")],
        [("CASH", "10.00"), ("CARD", "20.00")],
    )
    # 23:30 UTC is 00:30 in Paris: the next day's ticket, not this one's.
    late = sell(store, signer, "2025-03-10T23:30:00Z", [("1", "5.00", "10")])
    written = close(store, signer, "day", "2025-03-10")
    assert [closure.ref for closure in written] == ["day-2025-03-10"]
    values = written[0].values
    assert values["tickets"] == 2
    assert values["first_ticket"] == first and values["last_ticket"] == "C3-000002"
    assert values["vat"] == {
        "5.5": {"total": "2.11", "base": "2.00", "vat": "0.11"},
        "20": {"total": "54.00", "base": "45.00", "vat": "9.00"},
    }
    assert values["payments"] == {"CARD": "20.00", "CASH": "36.11"}
    assert values["total_incl_vat"] == "56.11"
    assert values["grand_totals"] == {"sales": "56.11", "refunds": "0.00", "absolute": "56.11"}
    assert values["start"] == values["end"] == "2025-03-10"
    nextday = close(store, signer, "day", "2025-03-11")[0].values
    assert nextday["tickets"] == 1 and nextday["first_ticket"] == late
    assert nextday["grand_totals"]["sales"] == "61.11"
    holds(store, signer)


def test_a_refund_lowers_the_period_and_counts_in_refunds(
    services: Services, signer: trail_keys.Signer
) -> None:
    store = services.store
    sell(store, signer, "2025-03-10T08:00:00Z", [("1", "10.00", "20")])
    sell(store, signer, "2025-03-10T09:00:00Z", [("-1", "10.00", "20")], kind="refund")
    values = close(store, signer, "day", "2025-03-10")[0].values
    assert values["total_incl_vat"] == "0.00" and values["tickets"] == 2
    assert values["grand_totals"] == {"sales": "10.00", "refunds": "10.00", "absolute": "20.00"}


def test_an_empty_day_closes_with_zero_totals(
    services: Services, signer: trail_keys.Signer
) -> None:
    written = close(services.store, signer, "day", "2025-03-10")
    values = written[0].values
    assert values["tickets"] == 0 and values["total_incl_vat"] == "0.00"
    assert values["vat"] == {} and values["payments"] == {}
    assert values["first_ticket"] is None
    assert values["grand_totals"] == trail.ZERO_TOTALS
    holds(services.store, signer)


def test_a_period_is_closed_once(services: Services, signer: trail_keys.Signer) -> None:
    store = services.store
    sell(store, signer, "2025-03-10T08:00:00Z", [("1", "10.00", "20")])
    close(store, signer, "day", "2025-03-10")
    with pytest.raises(closures.ClosureError) as refused:
        close(store, signer, "day", "2025-03-10")
    with i18n.language("en"):
        assert refused.value.translated() == "The day 10/03/2025 is already closed."
    close(store, signer, "month", "2025-03-01")
    with pytest.raises(closures.ClosureError):
        close(store, signer, "month", "2025-03-31")
    with pytest.raises(closures.ClosureError):  # its month is closed: no day of it any more
        close(store, signer, "day", "2025-03-20")
    with store.read() as db:
        assert len(closures.list_closures(db)) == 2
    holds(store, signer)


def test_periods_to_come_are_refused(services: Services, signer: trail_keys.Signer) -> None:
    upcoming = date(closures.today().year + 1, 1, 1)
    for period in closures.PERIODS:
        with pytest.raises(closures.ClosureError):
            closures.close(services.store, signer, REGISTER, period, upcoming)
    with pytest.raises(closures.ClosureError):
        closures.close(services.store, signer, REGISTER, "week", date(2025, 1, 1))
    with services.store.read() as db:
        assert closures.list_closures(db) == []


def test_a_month_closes_its_open_days_first(services: Services, signer: trail_keys.Signer) -> None:
    store = services.store
    sell(store, signer, "2025-03-03T09:00:00Z", [("1", "10.00", "20")])
    sell(store, signer, "2025-03-05T09:00:00Z", [("1", "5.50", "5.5")], [("CARD", "5.50")])
    close(store, signer, "day", "2025-03-05")  # closes the 3rd first, then the 5th
    sell(store, signer, "2025-03-20T09:00:00Z", [("2", "1.00", "20")])
    sell(store, signer, "2025-04-01T09:00:00Z", [("1", "100.00", "20")])  # April: left open
    written = close(store, signer, "month", "2025-03-15")
    assert [closure.ref for closure in written] == ["day-2025-03-20", "month-2025-03"]
    month = written[-1].values
    assert month["tickets"] == 3 and month["closures"] == 3
    assert month["start"] == "2025-03-01" and month["end"] == "2025-03-31"
    assert month["total_incl_vat"] == "17.50"
    assert month["payments"] == {"CARD": "5.50", "CASH": "12.00"}
    assert month["vat"]["20"] == {"total": "12.00", "base": "10.00", "vat": "2.00"}
    assert month["grand_totals"]["sales"] == "17.50"  # at the month's end, not April's sale
    with store.read() as db:
        assert closures.days_left_open(db) == [date(2025, 4, 1)]
        refs = [closure.ref for closure in closures.list_closures(db)]
    assert refs == ["month-2025-03", "day-2025-03-20", "day-2025-03-05", "day-2025-03-03"]
    archived = store.path.parent / "archives" / f"relais-register-{REGISTER}-2025-03.zip"
    assert archived.is_file()  # the closed month archived at once
    with store.read() as db:
        row = db.execute("SELECT kind, ref FROM pos_trail WHERE chain = 'archive'").fetchone()
    assert tuple(row) == ("month", archived.name)
    with store.read() as db:  # each closure also an event of the JET (code 50)
        events = db.execute("SELECT count(*) FROM pos_trail WHERE chain = 'event' AND kind = '50'")
        assert events.fetchone()[0] == 4  # the three days and the month
    holds(store, signer)


def test_a_year_closes_its_open_months_and_days(
    services: Services, signer: trail_keys.Signer
) -> None:
    store = services.store
    sell(store, signer, "2025-01-15T09:00:00Z", [("1", "10.00", "20")])
    sell(store, signer, "2025-06-15T09:00:00Z", [("1", "20.00", "20")])
    close(store, signer, "month", "2025-01-31")
    written = close(store, signer, "year", "2025-12-31")
    assert [closure.ref for closure in written] == ["day-2025-06-15", "month-2025-06", "year-2025"]
    year = written[-1].values
    assert year["tickets"] == 2 and year["closures"] == 2 and year["total_incl_vat"] == "30.00"
    with pytest.raises(closures.ClosureError):
        close(store, signer, "month", "2025-07-31")  # its year is closed
    holds(store, signer)


def test_a_ticket_signed_after_its_day_closed_counts_the_next_day(
    services: Services, signer: trail_keys.Signer
) -> None:
    store = services.store
    sell(store, signer, "2025-03-10T08:00:00Z", [("1", "10.00", "20")])
    close(store, signer, "day", "2025-03-10")
    sell(store, signer, "2025-03-10T17:00:00Z", [("1", "4.00", "20")])  # after the Z
    with store.read() as db:
        assert list(closures.open_days(db)) == [date(2025, 3, 11)]
    assert close(store, signer, "day", "2025-03-11")[0].values["total_incl_vat"] == "4.00"


def test_the_shop_day_is_the_local_date(monkeypatch: pytest.MonkeyPatch) -> None:
    assert closures.shop_day("2025-03-10T23:30:00Z") == date(2025, 3, 11)  # Paris, UTC+1
    assert closures.shop_day("2025-07-10T22:30:00Z") == date(2025, 7, 11)  # Paris, UTC+2
    monkeypatch.setenv("TZ", "America/Montreal")
    time.tzset()
    assert closures.shop_day("2025-03-10T23:30:00Z") == date(2025, 3, 10)
    assert os.environ["TZ"] == "America/Montreal"


def test_an_edited_closure_breaks_its_chain(services: Services, signer: trail_keys.Signer) -> None:
    store = services.store
    sell(store, signer, "2025-03-10T08:00:00Z", [("1", "10.00", "20")])
    close(store, signer, "day", "2025-03-10")
    with store.write() as db:  # an intruder lowers the day's total in the file
        db.execute(
            'UPDATE pos_trail SET fields = replace(fields, \'"total_incl_vat":"10.00"\','
            " '\"total_incl_vat\":\"1.00\"') WHERE chain = 'closure'"
        )
    with store.read() as db:
        found = trail_verify.verify_register(db, REGISTER, {signer.key_id: signer.public_key})
    assert [(item.chain, item.seq) for item in found] == [("closure", 1)]
