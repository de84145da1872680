"""The values of a shop's CSV file: decimal marks and dates as spreadsheets write them.

Detection looks at a sample of a file's values; parsing keeps the habits ('1 234,50', '12,5 €',
'1.234,50' in a comma file) and then hands the plain number to `webapp.numbers`, the one strict
parser, so a CSV cell is bounded like every other input (no 25-digit price that later overflows).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from webapp.numbers import NumberProblem
from webapp.numbers import parse_decimal as parse_number

DATE_FORMATS = {"dmy": "DD/MM/YYYY", "ymd": "YYYY-MM-DD", "mdy": "MM/DD/YYYY"}

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+(?:Z|[+-]\d\d:?\d\d)?)?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?: [0-9:]+)?$")
_GROUPED_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_GROUPED_POINT = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACES = str.maketrans("", "", " \u00a0\u202f'")
_MAX_RAW = 100  # a grouped number with a currency sign is still far shorter


class ValueProblem(ValueError):
    """One field that does not hold what its column needs; the message is a msgid."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def _decimal_vote(value: str) -> str | None:
    """The decimal mark one value shows, or None when it cannot tell ('1.234' or '12')."""
    commas, points = value.count(","), value.count(".")
    if commas and points:
        return "," if value.rfind(",") > value.rfind(".") else "."
    for mark, count in ((",", commas), (".", points)):
        if count > 1:
            return "." if mark == "," else ","  # repeated: a thousands separator
        if count == 1:
            digits_after = len(value) - value.index(mark) - 1
            return None if digits_after == 3 else mark
    return None


def detect_decimal(samples: Iterable[str], delimiter: str) -> str:
    votes = {",": 0, ".": 0}
    for raw in samples:
        value = raw.translate(_SPACES).replace("€", "").replace("%", "")
        if value and re.fullmatch(r"[+-]?[\d.,]+", value):
            mark = _decimal_vote(value)
            if mark:
                votes[mark] += 1
    if votes[","] != votes["."]:
        return "," if votes[","] > votes["."] else "."
    return "," if delimiter != "," else "."


def detect_date_format(samples: Iterable[str]) -> str:
    day_first = month_first = iso = 0
    for raw in samples:
        value = raw.strip()
        if _ISO_DATE.match(value):
            iso += 1
            continue
        match = _NUMERIC_DATE.match(value)
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            day_first += first > 12
            month_first += second > 12 and first <= 12
    if month_first and not day_first:
        return "mdy"
    if iso and not (day_first or month_first):
        return "ymd"
    return "dmy"


def parse_decimal(raw: str, decimal_mark: str) -> Decimal:
    """'1 234,50', '1.234,50', '12,5 €' (comma files) or '1,234.50' (point files) → Decimal."""
    if len(raw) > _MAX_RAW:
        raise ValueProblem("{value} is not a number", value=raw[:40] + "…")
    value = raw.translate(_SPACES).replace("€", "")
    other = "." if decimal_mark == "," else ","
    if other in value:
        grouped = _GROUPED_COMMA if decimal_mark == "," else _GROUPED_POINT
        if not grouped.match(value):
            raise ValueProblem(
                "{value} is not a number with a decimal {mark} (the decimal mark of this file)",
                value=raw,
                mark=decimal_mark,
            )
        value = value.replace(other, "")
    try:
        return parse_number(value, mark=decimal_mark)
    except NumberProblem as problem:
        raise _value_problem(problem, raw) from None


def _value_problem(problem: NumberProblem, raw: str) -> ValueProblem:
    """The strict parser's refusal in the words of a CSV cell (the column is named beside it)."""
    if "limit" in problem.params:
        return ValueProblem(
            "{value} is over the limit of {limit}", value=raw, limit=problem.params["limit"]
        )
    if "places" in problem.params:
        return ValueProblem(
            "{value} has more than {places} decimals", value=raw, places=problem.params["places"]
        )
    return ValueProblem("{value} is not a number", value=raw)


def parse_date(raw: str, date_format: str) -> date:
    value = raw.strip()
    iso = _ISO_DATE.match(value)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        match = _NUMERIC_DATE.match(value)
        if not match or date_format == "ymd":
            raise ValueProblem(
                "{value} is not a date (expected {format})",
                value=raw,
                format=DATE_FORMATS[date_format if date_format != "ymd" else "dmy"],
            )
        first, second, year = (int(part) for part in match.groups())
        year += 2000 if len(match.group(3)) == 2 else 0
        day, month = (second, first) if date_format == "mdy" else (first, second)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueProblem("{value} is not a real date", value=raw) from exc


def unguard_formula(value: str) -> str:
    """Undo our own export guard: a leading apostrophe before = + - @ is not part of the value."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        return value[1:]
    return value
