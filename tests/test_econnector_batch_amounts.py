"""A line's amounts in integers (webapp/econnector/batch_checks.py) are compute_line's, to the
last digit of every number stored, including the halves that round up."""

from __future__ import annotations

import random
from decimal import Decimal

from webapp.econnector.batch_checks import ReferenceAnswers, _computed

RATES = ("0", "2.1", "5.5", "6", "8.5", "10", "12", "19.6", "20", "21", "20.00")


def test_amounts_in_integers_are_compute_lines() -> None:
    answers = ReferenceAnswers()
    rng = random.Random(14)
    cases = [
        (Decimal(rng.randint(1, 60)), Decimal(rng.randint(1, 999_999)) / 100, Decimal(rate))
        for _ in range(20_000)
        for rate in (rng.choice(RATES),)
    ]
    # halves: 1.055 / 1.055 → 1.00 exactly half-way on the cent in the prices excl. VAT
    cases += [(Decimal(1), Decimal("1.055") * k, Decimal("5.5")) for k in range(1, 200)]
    for quantity, price, rate in cases:
        price = price.quantize(Decimal("0.0001"))
        fast = answers._in_integers(quantity, price, rate)
        if fast is None:  # a price with half cents: compute_line's own
            assert price != price.quantize(Decimal("0.01"))
            continue
        assert fast == _computed(quantity, price, rate), (quantity, price, rate)


def test_other_lines_are_left_to_compute_line() -> None:
    answers = ReferenceAnswers()
    for quantity, price, rate in (
        ("1.5", "10", "20"),  # a part of a unit
        ("-2", "10", "20"),  # a return
        ("2", "0", "20"),  # free
        ("2", "10.005", "20"),  # half a cent
        ("2", "10", "5.555"),  # a rate in thousandths
        ("1", "1E+12", "20"),  # too large
    ):
        assert answers._in_integers(Decimal(quantity), Decimal(price), Decimal(rate)) is None
