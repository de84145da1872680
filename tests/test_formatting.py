"""The display formats (webapp/formatting.py) in French, Dutch and English, and their filters."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal, localcontext

from jinja2 import Environment

from webapp import formatting, i18n


def test_amounts_use_the_languages_marks() -> None:
    with i18n.language("fr"):
        assert formatting.amount(Decimal("1234.5")) == "1\u202f234,50"
        assert formatting.amount(12.3456) == "12,3456"
        assert formatting.money(Decimal("19.999")) == "20,00"
        assert formatting.money("7") == "7,00"
    with i18n.language("en"):
        assert formatting.amount(Decimal("1234.5")) == "1,234.50"
        assert formatting.amount(12.3456) == "12.3456"
        assert formatting.money(Decimal("-0.5")) == "-0.50"
        assert formatting.money(3) == "3.00"


def test_dutch_writes_numbers_and_days_the_belgian_way() -> None:
    with i18n.language("nl"):
        assert formatting.amount(Decimal("1234.5")) == "1.234,50"
        assert formatting.money("7") == "7,00"
        assert formatting.quantity(0.5) == "0,5"
        assert formatting.amount_input(Decimal("12.5")) == "12,50"
        assert formatting.day("2026-01-31") == "31/01/2026"


def test_amounts_that_are_not_numbers_are_shown_as_they_are() -> None:
    with i18n.language("en"):
        assert formatting.amount(None) == "" and formatting.money(None) == ""
        assert formatting.amount("") == ""
        assert formatting.amount("19.00") == "19.00"
        assert formatting.money("n/a") == "n/a", "a file's total may be anything"


def test_quantities_have_no_useless_decimals() -> None:
    with i18n.language("fr"):
        assert formatting.quantity(Decimal("2")) == "2"
        assert formatting.quantity(0.5) == "0,5"
        assert formatting.quantity(Decimal("1500.125")) == "1\u202f500,125"
    with i18n.language("en"):
        assert formatting.quantity(Decimal("21.000")) == "21"
        assert formatting.quantity(None) == ""


def test_amount_input_goes_back_into_a_field_without_grouping() -> None:
    with i18n.language("fr"):
        assert formatting.amount_input(Decimal("1234.5")) == "1234,50"
        assert formatting.amount_input(12.3456) == "12,3456"
    with i18n.language("en"):
        assert formatting.amount_input(Decimal("1234.5")) == "1234.50"
        assert formatting.amount_input(None) == ""


def test_days_read_day_first_in_french_iso_in_english() -> None:
    with i18n.language("fr"):
        assert formatting.day("2026-01-31") == "31/01/2026"
        assert formatting.day("2026-01-31T10:00:00+00:00") == "31/01/2026"
        assert formatting.day(date(2026, 2, 1)) == "01/02/2026"
        assert formatting.day(None) == "" and formatting.day("") == ""
    with i18n.language("en"):
        assert formatting.day("2026-01-31") == "2026-01-31"


def test_local_time_follows_the_language_and_the_local_zone() -> None:
    moment = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    local = moment.astimezone()
    with i18n.language("fr"):
        assert formatting.local_time(moment.isoformat()) == local.strftime("%d/%m/%Y %H:%M")
        assert formatting.local_time(moment, "%H:%M:%S") == local.strftime("%H:%M:%S")
        assert formatting.local_time(None) == ""
    with i18n.language("en"):
        assert formatting.local_time(moment.isoformat()) == local.strftime("%Y-%m-%d %H:%M")
        naive = datetime(2026, 3, 1, 12, 5)  # read as UTC
        assert formatting.local_time(naive) == local.strftime("%Y-%m-%d %H:%M")


def test_the_filters_render_in_templates() -> None:
    environment = Environment(autoescape=True)
    environment.filters.update(formatting.FILTERS)
    template = environment.from_string(
        "{{ total | money }}|{{ price | amount }}|{{ qty | quantity }}|{{ when | day }}"
    )
    values = {"total": Decimal("10"), "price": 1.25, "qty": Decimal("3.0"), "when": "2026-05-04"}
    with i18n.language("fr"):
        assert template.render(**values) == "10,00|1,25|3|04/05/2026"
    with i18n.language("en"):
        assert template.render(**values) == "10.00|1.25|3|2026-05-04"


def _numbers() -> list[Decimal]:
    """Everyday amounts and their edges: signs, zeros, halves to round, every magnitude up to
    past 10**15, long decimals, exponents (what _decimal lets through: finite)."""
    rng = random.Random(20261201)
    numbers = [
        Decimal(text)
        for text in (
            "0",
            "-0",
            "0.00005",
            "-0.00005",
            "0.5",
            "1E+2",
            "1E-9",
            "999.99995",
            "999999999999999.99995",
            "1E+15",
            "-1E+15",
            "123456789012345678",
            "12.34500",
            "0.0001",
            "-7.125",
            "2.5",
            "3.5",
        )
    ]
    for _ in range(6000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
        number = Decimal(digits).scaleb(rng.randint(-12, 6))
        numbers.append(-number if rng.random() < 0.3 else number)
    return numbers


def test_grouped_amounts_are_babels_in_every_language() -> None:
    """The fast path writes what babel writes, number for number (else it goes wrong quietly);
    babel given the precision its rounding needs for the largest."""
    numbers = _numbers()
    for language in ("fr", "nl", "en"):
        with i18n.language(language):
            for minimum, maximum in ((2, 4), (2, 2), (0, 3), (0, 0), (1, 2)):
                pattern = "#,##0." + "0" * minimum + "#" * (maximum - minimum)
                for number in numbers:
                    with localcontext() as context:
                        context.prec = 60
                        expected = formatting._formatted(number, pattern)
                    made = formatting._grouped(number, minimum, maximum)
                    assert made == expected, (language, pattern, number)


def test_absurd_amounts_from_a_file_are_shown_not_failed() -> None:
    """A file's total may be any number: babel's 28 digits raised InvalidOperation from 10**24;
    what is not a figure to write (not finite, or too long) is shown as the text it came as."""
    with i18n.language("fr"):
        assert formatting.amount("1e30") == "1" + "\u202f000" * 10 + ",00"
        assert formatting.money("-123456789012345678901234567890.5") == (
            "-123\u202f456\u202f789\u202f012\u202f345\u202f678\u202f901\u202f234\u202f567\u202f890,50"
        )
        for text in ("1e400", "1e999999999", "NaN", "-nan", "sNaN", "inf", "-Infinity"):
            assert formatting.amount(text) == text
            assert formatting.quantity(text) == text
