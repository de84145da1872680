"""How values read to a person: amounts, quantities, dates and times in the reader's language.

One place for display formats, registered once as Jinja filters in ``webapp.app``
(``money``, ``amount``, ``quantity``, ``day``, ``local_time``, ``amount_input``). Controllers
pass raw values (numbers, ISO text) to templates; the templates format them with these filters.
Nothing here is for files or wire formats: those keep a fixed, language-free notation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation, localcontext
from functools import cache
from typing import Any

from babel.core import Locale
from babel.numbers import NumberPattern, parse_pattern

from webapp import clock
from webapp.i18n import COMMA_LANGUAGES, current_language

Number = float | int | Decimal | str | None

DEFAULT_TIME_FORMAT = "%d/%m/%Y %H:%M"


# Belgian French and Belgian Dutch both write 12,50 and 31/01/2026; English keeps the point.
LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "en": "en_GB"}


def _locale() -> str:
    return LOCALES.get(current_language(), "en_GB")


@cache
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


@cache
def _babel_locale(code: str) -> Locale:
    return Locale.parse(code)


def _formatted(number: Decimal, pattern: str) -> str:
    """babel's format_decimal, its pattern and locale parsed once rather than at each call (a
    third of the time of a page of fifty amounts)."""
    return str(_pattern(pattern).apply(number, _babel_locale(_locale())))


@cache
def _separators(code: str) -> tuple[str, str]:
    symbols = _babel_locale(code).number_symbols["latn"]
    return str(symbols["group"]), str(symbols["decimal"])


_QUANTA = [Decimal(1).scaleb(-places) for places in range(5)]
_EVERYDAY = Decimal(10) ** 15
LARGEST = 100  # digits: a number this long is shown as the text it came as


def _grouped(number: Decimal, minimum: int, maximum: int) -> str:
    """What babel writes for the pattern "#,##0." with `minimum` zeros and then hashes up to
    `maximum` decimals (NumberPattern.apply: grouped by three, rounded by the context as its
    quantize is, trailing zeros dropped down to `minimum`), in a quarter of its time: a history or
    documents page shows fifty amounts. From 10**15 on, numbers go to babel (_unusual);
    tests/test_formatting.py compares the two on thousands of numbers in each language."""
    value = abs(number).normalize()
    if value >= _EVERYDAY or maximum >= len(_QUANTA):
        return _unusual(number, minimum, maximum)
    # Quantized to `maximum` places, the fraction has them all: never shorter than `minimum`.
    whole, _, fraction = f"{value.quantize(_QUANTA[maximum]):f}".partition(".")
    while len(fraction) > minimum and fraction[-1] == "0":
        fraction = fraction[:-1]
    group, decimal = _separators(_locale())
    text = f"{int(whole):,}".replace(",", group)
    if fraction:
        text = f"{text}{decimal}{fraction}"
    return f"-{text}" if number.is_signed() else text


def _unusual(number: Decimal, minimum: int, maximum: int) -> str:
    """A number too large for _grouped: babel's, with the precision its rounding needs (the
    default 28 digits raised InvalidOperation from 10**24 on: a page showing a file's absurd total
    failed)."""
    pattern = "#,##0." + "0" * minimum + "#" * (maximum - minimum)
    with localcontext() as context:
        context.prec = max(context.prec, number.adjusted() + maximum + 2)
        return _formatted(number, pattern)


def _decimal(value: Number) -> Decimal | None:
    """A number, or the text of one ("19.00" read from a file); None when it is neither, or is
    not one to write in figures: not finite ("NaN", "inf", "sNaN", which even raises on abs())
    or of LARGEST digits and more ("1e999999999" overflows Decimal's context)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number.adjusted() >= LARGEST:
        return None
    return number


def amount(value: Number, minimum: int = 2, maximum: int = 4) -> str:
    """12.5 -> "12,50" in French and Dutch, "12.50" in English; extra decimals only when they are there.

    Text that is not a number is shown as it is: a file's total may be anything.
    """
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    return _grouped(number, minimum, maximum)


def money(value: Number) -> str:
    """A sum of money: always two decimals ("1 234,50" in French, "1,234.50" in English)."""
    return amount(value, 2, 2)


def quantity(value: Number) -> str:
    """A quantity or a rate: up to three decimals, none when it is whole ("2", "0,5")."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    return _grouped(number, 0, 3)


def amount_input(value: Number) -> str:
    """An amount as it goes back into a form field: no grouping, the language's decimal mark."""
    number = _decimal(value)
    if number is None:
        return ""
    text = f"{number:.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    text = f"{whole}.{decimals.ljust(2, '0')}"
    return text.replace(".", ",") if current_language() in COMMA_LANGUAGES else text


def day(value: str | date | None) -> str:
    """A date (ISO text from the database) as the reader writes dates: 31/01/2026 in French and
    Dutch, 2026-01-31 in English."""
    if not value:
        return ""
    text = value.isoformat() if isinstance(value, date) else value
    iso = text[:10]
    if current_language() in COMMA_LANGUAGES and len(iso) == 10:
        return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"
    return iso


def local_time(value: str | datetime | None, fmt: str = DEFAULT_TIME_FORMAT) -> str:
    """UTC ISO text from the database in the user's local time; ISO order in English."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else clock.parse_iso(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if current_language() == "en" and fmt == DEFAULT_TIME_FORMAT:
        fmt = "%Y-%m-%d %H:%M"
    return moment.astimezone().strftime(fmt)


FILTERS: dict[str, Any] = {
    "money": money,
    "amount": amount,
    "quantity": quantity,
    "amount_input": amount_input,
    "day": day,
    "local_time": local_time,
}
