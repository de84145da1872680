"""How a column's text becomes its value: one parser per column type, each raising ValueProblem.

The import, the article and party forms and the e-connector read values through these, so a value
is accepted or refused the same way wherever it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from webapp.backoffice.identifiers import (
    belgian_number_is_valid,
    french_vat_is_valid,
    gtin_is_valid,
)
from webapp.csvio import CsvFormat, ValueProblem, parse_date, parse_decimal, unguard_formula
from webapp.numbers import MAX_INTEGER_DIGITS, MAX_PLACES

if TYPE_CHECKING:
    from webapp.backoffice.columns import Column

# A number as most files write it ("14,50", "-3", "120"): what parse_decimal accepts unchanged, so
# it is read straight into a Decimal; anything else (spaces, €, %, grouping) takes the full path.
_PLAIN_NUMBER = {
    mark: re.compile(rf"[+-]?\d{{1,{MAX_INTEGER_DIGITS}}}(?:\{mark}\d{{1,{MAX_PLACES}}})?")
    for mark in (",", ".")
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FLAGS = {
    "1": True,
    "0": False,
    "oui": True,
    "non": False,
    "o": True,
    "n": False,
    "yes": True,
    "no": False,
    "y": True,
    "true": True,
    "false": False,
    "vrai": True,
    "faux": False,
    "x": True,
}


def parse_flag(raw: str) -> bool:
    flag = _FLAGS.get(raw.strip().lower())
    if flag is None:
        raise ValueProblem("{value} is not yes or no (use 1/0 or oui/non)", value=raw)
    return flag


def parse_integer(raw: str) -> int:
    value = raw.strip()
    if not re.fullmatch(r"[+-]?\d{1,12}", value):
        raise ValueProblem("{value} is not a whole number", value=raw)
    return int(value)


def parse_email(raw: str) -> str:
    value = raw.strip()
    if not _EMAIL.match(value):
        raise ValueProblem("{value} is not an e-mail address", value=raw)
    return value


def parse_tags(raw: str) -> str:
    seen: dict[str, None] = {}
    for tag in re.split(r"[\s,;]+", raw.strip().lower()):
        if tag:
            seen[tag] = None
    return " ".join(seen)


def parse_numbers(raw: str) -> list[int]:
    numbers = []
    for part in re.split(r"[\s,;]+", raw.strip()):
        if part:
            numbers.append(parse_integer(part))
    return numbers


def parse_barcode(raw: str) -> str:
    value = raw.strip().replace(" ", "")
    if not re.fullmatch(r"[0-9A-Za-z\-.$/+%]{1,64}", value):
        raise ValueProblem("{value} is not a barcode", value=raw)
    if value.isdigit() and len(value) in (8, 12, 13, 14) and not gtin_is_valid(value):
        raise ValueProblem("{value}: the check digit of this EAN/GTIN is wrong", value=raw)
    return value


def parse_vat_number(raw: str, country: str | None = None) -> str:
    value = re.sub(r"[\s.\-/]", "", raw.strip().upper())
    if value.isdigit() and country == "BE" and len(value) in (9, 10):
        value = "BE" + value.zfill(10)
    if not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,13}", value):
        raise ValueProblem(
            "{value} is not a VAT number (two country letters, then digits)", value=raw
        )
    prefix, rest = value[:2], value[2:]
    if prefix == "BE" and not (rest.isdigit() and belgian_number_is_valid(rest.zfill(10))):
        raise ValueProblem("{value} is not a valid Belgian VAT number", value=raw)
    if prefix == "FR" and not french_vat_is_valid(rest):
        raise ValueProblem("{value} is not a valid French VAT number", value=raw)
    return "BE" + rest.zfill(10) if prefix == "BE" else value


def parse_party_kind(raw: str) -> str:
    value = raw.strip().lower()
    kinds = {"customer": "customer", "client": "customer", "supplier": "supplier"}
    kinds["fournisseur"] = "supplier"
    if value not in kinds:
        raise ValueProblem("{value} is neither customer nor supplier", value=raw)
    return kinds[value]


def value_parser(column: Column, fmt: CsvFormat) -> Callable[[str], Any]:
    """The function turning this column's text into its value (raises ValueProblem)."""
    simple: dict[str, Callable[[str], Any]] = {
        "flag": parse_flag,
        "integer": parse_integer,
        "email": parse_email,
        "tags": parse_tags,
        "numbers": parse_numbers,
        "barcode": parse_barcode,
        "party_kind": parse_party_kind,
    }
    if column.type in simple:
        return simple[column.type]
    if column.type == "decimal":
        return _decimal_parser(fmt.decimal)
    if column.type == "date":
        order = fmt.date_format
        return lambda raw: _date(raw, order)
    return _text_parser(column.max_length)


def _text_parser(limit: int) -> Callable[[str], str]:
    """A text column's check: trimmed, our formula guard undone, length and control characters."""

    def parse(raw: str) -> str:
        value = raw.strip()
        if value[:1] == "'":
            value = unguard_formula(value)
        if len(value) > limit:
            raise ValueProblem(
                "is {length} characters long; the limit is {limit}", length=len(value), limit=limit
            )
        if not value.isprintable() and _CONTROL.search(value):
            raise ValueProblem("contains control characters")
        return value

    return parse


def _decimal_parser(mark: str) -> Callable[[str], Decimal]:
    plain = _PLAIN_NUMBER[mark].fullmatch if mark in _PLAIN_NUMBER else None

    def parse(raw: str) -> Decimal:
        if plain is not None and plain(raw):
            return Decimal(raw.replace(",", ".") if mark == "," else raw)
        return _decimal(raw, mark)

    return parse


def _decimal(raw: str, mark: str) -> Decimal:
    return parse_decimal(raw.replace("%", "") if "%" in raw else raw, mark)


def _date(raw: str, order: str) -> date:
    return parse_date(raw, order)
