"""Day, month and year closures on the register (issue 17, docs/pos-trail.md "Closures").

A closure is one signed row of the ``closure`` chain, written by :func:`close` in one transaction
with the closures it needs first (a month closes its open days, a year its open months, each its
own row). Its totals come from the signed rows of the ticket chain, never from ``pos_tickets``:
what a closure states is what was signed.

The shop's day is the local date of this computer's clock (the time zone the operating system is
set to) at the moment the register signed the ticket (its chain row's ``recorded_at``). A ticket
signed after its day was closed (a sale after the Z, or a clock set back) counts in the next day
closed: rows of the ticket chain are closed in order, never twice, none left out.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from webapp.clock import parse_iso, utc_now
from webapp.i18n import N_, UserError, gettext
from webapp.pos import archives, journal, trail, trail_keys
from webapp.pos.register_config import require_config
from webapp.pos.trail_keys import Signer
from webapp.secrets import Vault
from webapp.store import Store

PERIODS = ("day", "month", "year")


class ClosureError(UserError):
    """A closure refused before anything was written (already closed, a day to come…)."""


@dataclass(frozen=True)
class Closure:
    """A row of the closure chain, as the pages and the command line show it."""

    seq: int
    period: str
    ref: str
    recorded_at: str
    values: dict[str, Any]
    signature: str

    @property
    def start(self) -> date:
        return date.fromisoformat(self.values["start"])

    @property
    def end(self) -> date:
        return date.fromisoformat(self.values["end"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "period": self.period,
            "ref": self.ref,
            "recorded_at": self.recorded_at,
            "signature": self.signature,
            **self.values,
        }


def shop_day(moment: str) -> date:
    """The shop's date of a stored UTC moment: this computer's local date."""
    return parse_iso(moment).astimezone().date()


def today() -> date:
    return utc_now().astimezone().date()


def closure_ref(period: str, day: date) -> str:
    """What a closure signs, one per period: day-2026-11-29, month-2026-11, year-2026."""
    if period == "day":
        return f"day-{day.isoformat()}"
    if period == "month":
        return f"month-{day:%Y-%m}"
    return f"year-{day:%Y}"


def period_bounds(period: str, day: date) -> tuple[date, date]:
    if period == "day":
        return day, day
    if period == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return date(day.year, 1, 1), date(day.year, 12, 31)


# --- Reading ---------------------------------------------------------------------------------------


def _closure(row: Mapping[str, Any]) -> Closure:
    return Closure(
        int(row["seq"]),
        str(row["kind"]),
        str(row["ref"]),
        str(row["recorded_at"]),
        json.loads(row["fields"]),
        str(row["signature"]),
    )


_SELECT = (
    "SELECT seq, kind, ref, recorded_at, fields, signature FROM pos_trail WHERE chain = 'closure'"
)


def list_closures(db: Any, limit: int = 500) -> list[Closure]:
    """The closures, newest first."""
    return [_closure(row) for row in db.execute(f"{_SELECT} ORDER BY seq DESC LIMIT ?", [limit])]


def get_closure(db: Any, seq: int) -> Closure | None:
    row = db.execute(f"{_SELECT} AND seq = ?", [seq]).fetchone()
    return None if row is None else _closure(row)


def _by_ref(db: Any, ref: str) -> Closure | None:
    row = db.execute(f"{_SELECT} AND ref = ?", [ref]).fetchone()
    return None if row is None else _closure(row)


def _all(db: Any) -> list[Closure]:
    return [_closure(row) for row in db.execute(f"{_SELECT} ORDER BY seq")]


def _closed_through(db: Any) -> date | None:
    """The last day some closure covers: tickets signed later belong to the next days."""
    row = db.execute(
        "SELECT max(json_extract(fields, '$.end')) FROM pos_trail WHERE chain = 'closure'"
    ).fetchone()
    return date.fromisoformat(row[0]) if row and row[0] else None


def closed_ticket_seq(db: Any) -> int:
    """The last row of the ticket chain a closure covers (rows are closed in order)."""
    row = db.execute(
        "SELECT max(json_extract(fields, '$.last_ticket_seq')) FROM pos_trail"
        " WHERE chain = 'closure'"
    ).fetchone()
    return int(row[0] or 0) if row else 0


def open_days(db: Any) -> dict[date, list[tuple[int, dict[str, Any]]]]:
    """The ticket rows no closure covers yet, by the shop's day they will be closed in."""
    floor = _closed_through(db)
    current = floor + timedelta(days=1) if floor else None
    days: dict[date, list[tuple[int, dict[str, Any]]]] = {}
    rows = db.execute(
        "SELECT seq, recorded_at, fields FROM pos_trail WHERE chain = 'ticket' AND seq > ?"
        " ORDER BY seq",
        [closed_ticket_seq(db)],
    )
    for row in rows:
        day = shop_day(row["recorded_at"])
        current = day if current is None or day > current else current
        days.setdefault(current, []).append((int(row["seq"]), json.loads(row["fields"])))
    return days


def days_left_open(db: Any, before: date | None = None) -> list[date]:
    """Days with tickets not closed, before ``before`` (today): what the sales screen offers."""
    limit = before or today()
    return sorted(day for day in open_days(db) if day < limit)


# --- Totals ----------------------------------------------------------------------------------------


class _Sums:
    def __init__(self) -> None:
        self.tickets = 0
        self.vat: dict[str, list[Decimal]] = {}
        self.payments: dict[str, Decimal] = {}
        self.total = Decimal(0)
        self.first: str | None = None
        self.last: str | None = None

    def add(self, values: Mapping[str, Any], tickets: int, first: Any, last: Any) -> None:
        self.tickets += tickets
        for rate, amounts in values["vat"].items():
            found = self.vat.setdefault(rate, [Decimal(0), Decimal(0), Decimal(0)])
            for index, name in enumerate(("total", "base", "vat")):
                found[index] += Decimal(amounts[name])
        for method, amount in values["payments"].items():
            self.payments[method] = self.payments.get(method, Decimal(0)) + Decimal(amount)
        self.total += Decimal(values["total_incl_vat"])
        self.first = self.first or (str(first) if first else None)
        self.last = str(last) if last else self.last

    def fields(self) -> dict[str, Any]:
        vat = {
            rate: {
                name: trail.money(amount)
                for name, amount in zip(("total", "base", "vat"), sums, strict=True)
            }
            for rate, sums in sorted(self.vat.items(), key=lambda item: Decimal(item[0]))
        }
        return {
            "tickets": self.tickets,
            "first_ticket": self.first,
            "last_ticket": self.last,
            "vat": vat,
            "payments": {
                method: trail.money(self.payments[method]) for method in sorted(self.payments)
            },
            "total_incl_vat": trail.money(self.total),
        }


def _grand_totals_at(db: Any, seq: int) -> dict[str, str]:
    """The perpetual grand totals as the ticket row ``seq`` signed them."""
    row = db.execute(
        "SELECT fields FROM pos_trail WHERE chain = 'ticket' AND seq = ?", [seq]
    ).fetchone()
    if row is None:
        return dict(trail.ZERO_TOTALS)
    totals: dict[str, str] = json.loads(row["fields"])["grand_totals"]
    return totals


# --- Writing ---------------------------------------------------------------------------------------


def _write(
    db: Any,
    signer: Signer,
    register: int,
    period: str,
    day: date,
    sums: _Sums,
    last_seq: int,
    covers: int,
) -> Closure:
    start, end = period_bounds(period, day)
    fields = {
        "period": period,
        "start": start.isoformat(),
        "end": end.isoformat(),
        **sums.fields(),
        "closures": covers,
        "last_ticket_seq": last_seq,
        "grand_totals": _grand_totals_at(db, last_seq),
    }
    ref = closure_ref(period, day)
    row = trail.append(db, signer, register, "closure", period, ref, fields)
    journal.record_event(db, signer, register, journal.PERIOD_CLOSURE, details={"ref": ref})
    return Closure(row.seq, period, ref, row.recorded_at, dict(fields), row.signature)


def _close_open_days(db: Any, signer: Signer, register: int, through: date) -> list[Closure]:
    """Each day with tickets not closed, up to ``through``: its own signed row, oldest first."""
    written = []
    watermark = closed_ticket_seq(db)
    for day, rows in sorted(open_days(db).items()):
        if day > through:
            break
        sums = _Sums()
        for _seq, values in rows:
            sums.add(values, 1, values["number"], values["number"])
        watermark = rows[-1][0]
        written.append(_write(db, signer, register, "day", day, sums, watermark, 0))
    return written


ALREADY_CLOSED = {
    "day": N_("The day {start} is already closed."),
    "month": N_("The month {start} is already closed."),
    "year": N_("The year {start} is already closed."),
}


CLOSURE_TITLES = {
    "day": N_("Day closure {name}"),
    "month": N_("Month closure {name}"),
    "year": N_("Year closure {name}"),
}


def closure_title(closure: Closure) -> str:
    """ "Clôture du jour 29/11/2026": what the pages and the Z report call a closure."""
    return gettext(CLOSURE_TITLES[closure.period], name=period_name(closure.period, closure.start))


def period_name(period: str, day: date) -> str:
    """A period as the shop reads it: 29/11/2026, 11/2026, 2026."""
    if period == "day":
        return f"{day:%d/%m/%Y}"
    if period == "month":
        return f"{day:%m/%Y}"
    return f"{day:%Y}"


def _refuse(db: Any, period: str, day: date) -> None:
    """The closure cannot be made: already made, a period not over, or one closed since."""
    _start, end = period_bounds(period, day)
    if _by_ref(db, closure_ref(period, day)) is not None:
        raise ClosureError(ALREADY_CLOSED[period], start=period_name(period, day))
    if period == "day" and day > today():
        raise ClosureError(N_("A day to come cannot be closed ({day})."), day=f"{day:%d/%m/%Y}")
    if period != "day" and end > today():
        raise ClosureError(
            N_("This period is not over: it can be closed from its last day, {end}."),
            end=f"{end:%d/%m/%Y}",
        )
    through = _closed_through(db)
    if period == "day" and through and day <= through:
        raise ClosureError(
            N_("The days up to {day} are already closed."), day=f"{through:%d/%m/%Y}"
        )
    if period == "month" and _by_ref(db, closure_ref("year", day)) is not None:
        raise ClosureError(ALREADY_CLOSED["year"], start=period_name("year", day))


def close_in(db: Any, signer: Signer, register: int, period: str, day: date) -> list[Closure]:
    """The closure of ``period`` holding ``day``, after the ones it needs; oldest first."""
    if period not in PERIODS:
        raise ClosureError(N_("Unknown period: {period} (day, month or year)."), period=period)
    _refuse(db, period, day)
    start, end = period_bounds(period, day)
    if period == "day":
        written = _close_open_days(db, signer, register, day)
        if written and written[-1].ref == closure_ref("day", day):
            return written
        sums = _Sums()  # a day without tickets may be closed: zero totals
        watermark = closed_ticket_seq(db)
        return [*written, _write(db, signer, register, "day", day, sums, watermark, 0)]
    written = _close_open_days(db, signer, register, end)
    if period == "year":
        written += _close_open_months(db, signer, register, day.year)
    below = "day" if period == "month" else "month"
    covered = [
        closure for closure in _all(db) if closure.period == below and start <= closure.start <= end
    ]
    sums = _Sums()
    for closure in covered:
        values = closure.values
        sums.add(values, int(values["tickets"]), values["first_ticket"], values["last_ticket"])
    watermark = closed_ticket_seq(db)
    closure = _write(db, signer, register, period, day, sums, watermark, len(covered))
    return [*written, closure]


def _close_open_months(db: Any, signer: Signer, register: int, year: int) -> list[Closure]:
    """The months of ``year`` with day closures and no month closure yet, each closed."""
    months = sorted(
        {
            closure.start.month
            for closure in _all(db)
            if closure.period == "day" and closure.start.year == year
        }
    )
    written: list[Closure] = []
    for month in months:
        first = date(year, month, 1)
        if _by_ref(db, closure_ref("month", first)) is None:
            written += close_in(db, signer, register, "month", first)
    return written


def close(
    store: Store, signer: Signer, register: int, period: str, day: date | None = None
) -> list[Closure]:
    """Close ``period`` (the one holding ``day``, today by default) in one transaction; the
    closures written, oldest first, the one asked for last."""
    with store.write() as db:
        written = close_in(db, signer, register, period, day or today())
    _archive_closed(store, signer, register, written)
    return written


def _archive_closed(store: Store, signer: Signer, register: int, written: list[Closure]) -> None:
    """Each month or year just closed archived, after the closure's commit; a kill -9 between
    leaves it closed, not archived: `relais pos archive make` writes it."""
    for closure in (found for found in written if found.period in ("month", "year")):
        text = f"{closure.start:%Y-%m}" if closure.period == "month" else f"{closure.start:%Y}"
        archives.write_archive(store, signer, register, archives.period(closure.period, text))


def totals_lines(values: Mapping[str, Any]) -> Iterable[tuple[str, str, str, str]]:
    """(rate, total, base, VAT) of a closure, rates in order, for the pages."""
    for rate, amounts in values.get("vat", {}).items():
        yield rate, amounts["total"], amounts["base"], amounts["vat"]


def close_here(store: Store, vault: Vault, period: str, day: date | None = None) -> list[Closure]:
    """Close on this register with its own key: a locked vault or a folder that never joined
    is refused before anything is written."""
    config = require_config(store)  # first: an office's vault gets no register key
    signer = trail_keys.ensure_signer(vault)
    return close(store, signer, config.number, period, day)
