"""Line and document totals: Decimal money, each line rounded to the cent (``ROUND_HALF_UP``).

For prices excluding VAT the line total incl. VAT is derived from the rounded total excl. VAT; for
prices including VAT (tickets, web shops) the line total incl. VAT is exact and the total excl. VAT
is derived from it, so the document total is what the customer paid. The document totals are the
sums of the lines and the VAT total is incl. minus excl.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.0001")
QUANTITY_STEP = Decimal("0.001")
TOLERANCE = Decimal("0.01")
# Amounts are stored as REAL, exact to 15 significant digits: cents stay exact below this.
MAX_AMOUNT = Decimal("1e11")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineTotals:
    unit_price_excl_vat: Decimal
    total_excl_vat: Decimal
    total_incl_vat: Decimal


def to_decimal(value: Any) -> Decimal:
    """A stored REAL (or anything) as the decimal it was written as."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def is_number(value: object) -> bool:
    """A finite Decimal (the only kind of number the checks accept)."""
    return isinstance(value, Decimal) and value.is_finite()


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def sum_money(amounts: Iterable[Decimal]) -> Decimal:
    """A sum of amounts, 0.00 when there are none."""
    return sum(amounts, Decimal("0.00"))


def price_excl_vat(price_incl_vat: Decimal, vat_rate: Decimal) -> Decimal:
    """A unit price including VAT as the price excluding VAT that is stored (4 places)."""
    return (price_incl_vat / (1 + vat_rate / HUNDRED)).quantize(PRICE_STEP, rounding=ROUND_HALF_UP)


def compute_line(
    quantity: Decimal, unit_price: Decimal, vat_rate: Decimal, *, prices_include_vat: bool
) -> LineTotals:
    """Unit price excl. VAT (4 places) and the line totals excl. and incl. VAT (2 places)."""
    factor = 1 + vat_rate / HUNDRED
    if prices_include_vat:
        total_incl = round_money(quantity * unit_price)
        total_excl = round_money(total_incl / factor)
        price_excl = price_excl_vat(unit_price, vat_rate)
    else:
        total_excl = round_money(quantity * unit_price)
        total_incl = round_money(total_excl * factor)
        price_excl = unit_price
    return LineTotals(price_excl, total_excl, total_incl)


def is_amount_too_large(totals: LineTotals) -> bool:
    return abs(totals.total_incl_vat) >= MAX_AMOUNT or abs(totals.total_excl_vat) >= MAX_AMOUNT
