"""A received line's totals in integer cents, equal to document_totals.compute_line (prices
including VAT).

A reception computes tens of thousands of distinct (quantity, price, rate) totals; Decimal
division and three quantizes each were a tenth of its time. Quantities (3 places), prices
(4 places) and rates (4 places here) are scaled integers, so every step is an exact integer
product or quotient rounded half up, away from zero, as ``ROUND_HALF_UP`` does. compute_line
divides to 28 significant digits before rounding: for a quotient n / D the distance to a half is
0 or at least 1 / (2·D) (D ≤ 2·10^6 here), far above 28 digits' error below 10^13 cents, so both
round the same way. Anything outside those bounds (a negative or zero value, more places, huge
amounts) goes to compute_line itself. ``tests/test_econnector_batch_amounts.py`` compares both on
many random values.
"""

from __future__ import annotations

from decimal import Decimal

from webapp.backoffice.document_totals import LineTotals, compute_line

SCALES_KEPT = 4096
_LIMIT = 10**13  # cents below 1e11 (MAX_AMOUNT): larger ones go to compute_line
_TEN_6 = 10**6


def _scaled(value: Decimal, places: int) -> int | None:
    """value × 10^places as an int, when it is exact, not negative and finite; else None."""
    if not value.is_finite() or value < 0:
        return None
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -places:
        scaled = value.scaleb(places)
        if scaled != scaled.to_integral_value():
            return None
    return int(value.scaleb(places))


class LineAmounts:
    """compute_line(q, p, r, prices_include_vat=True) and the REALs stored for it: (quantity,
    unit price excl. VAT, rate, total excl., total incl.), each float the correctly rounded value
    of the same Decimal. The scaled integers of distinct values are kept (bounded)."""

    def __init__(self) -> None:
        self.scaled: dict[tuple[Decimal, int], int | None] = {}

    def _int(self, value: Decimal, places: int) -> int | None:
        key = (value, places)
        found = self.scaled.get(key, -1)
        if found == -1:
            if len(self.scaled) >= SCALES_KEPT:
                self.scaled.clear()
            found = self.scaled[key] = _scaled(value, places)
        return found

    def compute(
        self, quantity: Decimal, price: Decimal, rate: Decimal
    ) -> tuple[LineTotals, tuple[float, float, float, float, float]]:
        q, p, r = self._int(quantity, 3), self._int(price, 4), self._int(rate, 4)
        if not q or not p or r is None or r > _TEN_6:
            return _decimal(quantity, price, rate)
        incl = (q * p + 50_000) // 100_000  # cents, half up
        if incl >= _LIMIT or incl == 0:
            return _decimal(quantity, price, rate)
        divisor = _TEN_6 + r  # factor = divisor / 10^6
        excl = (2 * incl * _TEN_6 + divisor) // (2 * divisor)
        price_excl = (2 * p * _TEN_6 + divisor) // (2 * divisor)
        totals = LineTotals(
            Decimal(price_excl).scaleb(-4), Decimal(excl).scaleb(-2), Decimal(incl).scaleb(-2)
        )
        return totals, (q / 1000, price_excl / 10_000, r / 10_000, excl / 100, incl / 100)


def _decimal(
    quantity: Decimal, price: Decimal, rate: Decimal
) -> tuple[LineTotals, tuple[float, float, float, float, float]]:
    totals = compute_line(quantity, price, rate, prices_include_vat=True)
    stored = (
        float(quantity),
        float(totals.unit_price_excl_vat),
        float(rate),
        float(totals.total_excl_vat),
        float(totals.total_incl_vat),
    )
    return totals, stored
