"""The one clock: every moment Relais stores is UTC text in one format.

``2026-11-30T13:05:07.123456Z`` sorts as text in time order, so SQLite compares stored moments
with ``<`` and ``>=`` directly. Rows written before this format had whole seconds
(``…T13:05:07Z``); :func:`parse_iso` reads both, and a comparison across the two formats is at most
one second off, which no retention or staleness rule here is sensitive to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
FILE_STAMP_FORMAT = "%Y%m%d-%H%M%S"
DAYS_PER_MONTH = 30.44


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """A moment as stored text (a naive moment is taken as local time)."""
    return moment.astimezone(UTC).strftime(ISO_FORMAT)


def now_iso() -> str:
    return to_iso(utc_now())


def parse_iso(text: str) -> datetime:
    """A stored moment (either format, or any ISO 8601 with an offset) as an aware UTC datetime."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def months_ago(months: int, now: datetime | None = None) -> datetime:
    """The cut-off of a retention counted in months (a month is 30.44 days, as everywhere here)."""
    return (now or utc_now()) - timedelta(days=round(DAYS_PER_MONTH * months))


def months_ago_iso(months: int, now: datetime | None = None) -> str:
    return to_iso(months_ago(months, now))


def local_day_start_iso(day: date) -> str:
    """The stored moment at which ``day`` begins on this computer's clock."""
    return to_iso(datetime(day.year, day.month, day.day).astimezone())


def file_stamp(moment: datetime | None = None) -> str:
    """Local date and time for a file name (a backup, an export): what the user reads in a folder."""
    return (moment or datetime.now()).strftime(FILE_STAMP_FORMAT)
