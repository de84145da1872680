"""The integer-cents line totals of a reception equal compute_line's Decimals, exactly."""

from __future__ import annotations

import random
from decimal import Decimal

from webapp.backoffice.document_totals import compute_line
from webapp.econnector.batch_amounts import LineAmounts

RATES = ["0", "2.1", "5.5", "6", "10", "12", "19.6", "20", "21", "8.125", "0.0001", "99.9999"]


def _expected(quantity: Decimal, price: Decimal, rate: Decimal) -> tuple[object, ...]:
    totals = compute_line(quantity, price, rate, prices_include_vat=True)
    stored = (
        float(quantity),
        float(totals.unit_price_excl_vat),
        float(rate),
        float(totals.total_excl_vat),
        float(totals.total_incl_vat),
    )
    return totals, stored


def _same(amounts: LineAmounts, quantity: Decimal, price: Decimal, rate: Decimal) -> None:
    totals, stored = amounts.compute(quantity, price, rate)
    expected_totals, expected_stored = _expected(quantity, price, rate)
    assert stored == expected_stored, (quantity, price, rate)
    assert totals == expected_totals, (quantity, price, rate)
    # the same digits too, not only the same values (the totals are written as text elsewhere)
    for field in ("unit_price_excl_vat", "total_excl_vat", "total_incl_vat"):
        assert str(getattr(totals, field)) == str(getattr(expected_totals, field))


def test_random_lines_equal_compute_line() -> None:
    rng = random.Random(14)
    amounts = LineAmounts()
    for _ in range(60_000):
        quantity = Decimal(rng.randint(1, 10 ** rng.randint(1, 7))).scaleb(-rng.randint(0, 3))
        price = Decimal(rng.randint(0, 10 ** rng.randint(1, 9))).scaleb(-4)
        rate = (
            Decimal(rng.choice(RATES))
            if rng.random() < 0.8
            else Decimal(rng.randint(0, 10**6)).scaleb(-4)
        )
        _same(amounts, quantity, price, rate)


def test_halves_and_near_halves_equal_compute_line() -> None:
    """Totals whose quotient falls on or next to a half cent, where rounding could differ."""
    amounts = LineAmounts()
    for rate in map(Decimal, RATES):
        factor = 1 + rate / 100
        for cents in range(1, 3000):
            for offset in (-1, 0, 1):
                price = ((Decimal(cents) + Decimal("0.5")) * factor / 100).quantize(
                    Decimal("0.0001")
                ) + Decimal(offset).scaleb(-4)
                if price > 0:
                    _same(amounts, Decimal(1), price, rate)


def test_edges_go_to_the_decimal_path() -> None:
    amounts = LineAmounts()
    cases = [
        ("-2", "3.5000", "20"),  # a negative quantity (a return)
        ("1", "0.0000", "20"),  # a free line
        ("0.001", "0.0001", "20"),  # rounds to zero cents
        ("1.0005", "3.0000", "20"),  # more places than a quantity has
        ("1", "3.0000", "20.00001"),  # a rate with more places
        ("999999", "999999999.0000", "20"),  # beyond the largest amount
        ("1", "9.9900", "-0"),
        ("1.000", "9.9900", "20.0"),
    ]
    for quantity, price, rate in cases:
        _same(amounts, Decimal(quantity), Decimal(price), Decimal(rate))
