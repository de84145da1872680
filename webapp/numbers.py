"""One strict decimal parser for every number Relais is given: CSV cells, forms, JSON from a register.

Python's `Decimal()` accepts `1e3`, `1_000`, `NaN`, `Infinity` and 25-digit values that later overflow a
`quantize`; a shopkeeper's file or a register never means any of those. Every input goes through
`parse_decimal`, which accepts only an optional sign, digits and one decimal mark, within bounds, and
raises `NumberProblem` (a msgid with its params) naming the field and the limit.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from webapp.i18n import N_

# 15 integer digits: a billion euros with room to spare, and every value fits SQLite's REAL exactly
# enough to round-trip at 2–6 places; 10 decimal places covers every unit price and quantity.
MAX_INTEGER_DIGITS = 15
MAX_PLACES = 10
MAX_TEXT = 64  # longer than any valid number: refused before any regular expression runs

_DIGITS = rf"(\d{{1,{MAX_INTEGER_DIGITS}}})"
_PLACES = rf"(\d{{1,{MAX_PLACES}}})"
_PATTERNS = {
    ".": re.compile(rf"[+-]?{_DIGITS}(?:\.{_PLACES})?"),
    ",": re.compile(rf"[+-]?{_DIGITS}(?:,{_PLACES})?"),
}
_ANY_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


class NumberProblem(ValueError):
    """A value that is not a number Relais accepts; `message` is a msgid, `params` its fields."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _to_text(value: Any, what: str) -> str:
    if isinstance(value, bool) or value is None:
        raise NumberProblem(N_("{field}: {value} is not a number"), field=what, value=_shown(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NumberProblem(N_("{field}: {value} is not a number"), field=what, value=value)
        # repr gives the shortest text that reads back as the same float ("0.1", not 0.1000…055)
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        return text
    if isinstance(value, int | Decimal):
        if isinstance(value, Decimal) and not value.is_finite():
            raise NumberProblem(N_("{field}: {value} is not a number"), field=what, value=value)
        return _plain(value) if isinstance(value, Decimal) else str(value)
    if isinstance(value, str):
        return value.strip()
    raise NumberProblem(N_("{field}: {value} is not a number"), field=what, value=_shown(value))


def _plain(number: Decimal) -> str:
    """`format(number, "f")`, unless that text would be huge: JSON read with Decimal numbers can
    give 1E+999999999, a gigabyte of zeros in fixed notation; it stays in scientific notation."""
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and (number.adjusted() > MAX_TEXT or exponent < -MAX_TEXT):
        return str(number)
    return format(number, "f")


def _huge(value: Any) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value.adjusted() > MAX_TEXT


def parse_decimal(
    value: Any,
    *,
    what: str = "value",
    mark: str = ".",
    limit: Decimal | int | None = None,
    places: int | None = None,
    negative: bool = True,
) -> Decimal:
    """`value` as a Decimal, or `NumberProblem` naming `what` and the rule it broke.

    `mark` is the decimal mark of text input ("." or ","); `limit` bounds the absolute value;
    `places` the number of decimals; `negative=False` refuses values below zero.
    """
    if _huge(value):  # over any limit; its text was kept short (see _plain)
        return check_decimal(value, what=what, limit=limit, places=places, negative=negative)
    text = _to_text(value, what)
    if len(text) > MAX_TEXT:
        raise NumberProblem(
            N_("{field}: {value} is over the limit of {limit}"),
            field=what,
            value=_shown(text),
            limit=_limit_text(limit),
        )
    match = _PATTERNS[mark].fullmatch(text)
    if match is None:
        if (
            _ANY_NUMBER.fullmatch(text)
            and len(text.lstrip("+-").split(mark)[0]) > MAX_INTEGER_DIGITS
        ):
            raise NumberProblem(
                N_("{field}: {value} is over the limit of {limit}"),
                field=what,
                value=_shown(text),
                limit=_limit_text(limit),
            )
        if _ANY_NUMBER.fullmatch(text) and mark in text:
            raise NumberProblem(
                N_("{field}: {value} has more than {places} decimals"),
                field=what,
                value=_shown(text),
                places=places if places is not None else MAX_PLACES,
            )
        raise NumberProblem(N_("{field}: {value} is not a number"), field=what, value=_shown(text))
    try:
        number = Decimal(text.replace(",", ".") if mark == "," else text)
    except InvalidOperation:  # pragma: no cover - the pattern rules this out
        raise NumberProblem(
            N_("{field}: {value} is not a number"), field=what, value=text
        ) from None
    return check_decimal(number, what=what, limit=limit, places=places, negative=negative)


def check_decimal(
    number: Decimal,
    *,
    what: str = "value",
    limit: Decimal | int | None = None,
    places: int | None = None,
    negative: bool = True,
) -> Decimal:
    """The bounds of `parse_decimal` applied to a number already parsed."""
    if not number.is_finite():
        raise NumberProblem(N_("{field}: {value} is not a number"), field=what, value=number)
    if not negative and number < 0:
        raise NumberProblem(
            N_("{field}: {value} may not be negative"), field=what, value=_shown(_plain(number))
        )
    bound = Decimal(limit) if limit is not None else Decimal(10) ** MAX_INTEGER_DIGITS
    size = number.copy_abs()  # abs() would round in the context and overflow on 1E+999999999
    if size > bound or (limit is None and size >= bound):
        raise NumberProblem(
            N_("{field}: {value} is over the limit of {limit}"),
            field=what,
            value=_shown(_plain(number)),
            limit=_limit_text(limit),
        )
    exponent = number.as_tuple().exponent
    too_fine = places is not None and isinstance(exponent, int) and -exponent > places
    if too_fine and number != number.quantize(Decimal(1).scaleb(-(places or 0))):
        raise NumberProblem(
            N_("{field}: {value} has more than {places} decimals"),
            field=what,
            value=_shown(_plain(number)),
            places=places,
        )
    return number


def _limit_text(limit: Decimal | int | None) -> str:
    if limit is None:
        return f"10^{MAX_INTEGER_DIGITS}"
    return f"{Decimal(limit):,f}"
