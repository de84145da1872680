"""Check digits of the identifiers the back office checks: GTIN/EAN barcodes, BE and FR VAT numbers.

The same arithmetic checks an imported identifier and makes the demonstration's valid ones.
"""

from __future__ import annotations

import re


def gtin_check_digit(body: str) -> int:
    """The check digit after ``body`` (EAN-8, UPC-A, EAN-13, GTIN-14): weights 3, 1… from the
    right."""
    total = sum(
        int(char) * (3 if index % 2 == 0 else 1) for index, char in enumerate(reversed(body))
    )
    return (10 - total % 10) % 10


def gtin_is_valid(digits: str) -> bool:
    return gtin_check_digit(digits[:-1]) == int(digits[-1])


def ean13(first_twelve: str) -> str:
    """An EAN-13 with its check digit."""
    return f"{first_twelve}{gtin_check_digit(first_twelve)}"


def belgian_check(first_eight: str) -> int:
    """The two check digits of a Belgian company number: 97 - (its first 8 digits mod 97)."""
    return 97 - int(first_eight) % 97


def belgian_number_is_valid(digits: str) -> bool:
    return len(digits) == 10 and belgian_check(digits[:8]) == int(digits[8:])


def be_vat_number(first_eight: str) -> str:
    """Belgian VAT number: BE + 8 digits + their check digits."""
    return f"BE{first_eight}{belgian_check(first_eight):02d}"


def french_vat_key(siren: str) -> int:
    """The key of a French VAT number: (12 + 3 * (SIREN mod 97)) mod 97."""
    return (12 + 3 * (int(siren) % 97)) % 97


def french_vat_is_valid(rest: str) -> bool:
    """``rest`` is what follows "FR": a two-character key and the SIREN."""
    if not re.fullmatch(r"[0-9A-Z]{2}\d{9}", rest):
        return False
    if not rest[:2].isdigit():
        return True  # the old alphabetic keys cannot be checked offline
    return french_vat_key(rest[2:]) == int(rest[:2])


def fr_vat_number(siren: str) -> str:
    """French VAT number: FR + key + SIREN."""
    return f"FR{french_vat_key(siren):02d}{siren}"
