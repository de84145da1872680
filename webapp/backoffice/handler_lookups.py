"""The reference tables an import checks its rows against, read once per import."""

from __future__ import annotations

import sqlite3
import unicodedata
from decimal import Decimal

from webapp.backoffice.handler_rows import RowProblem
from webapp.i18n import N_


def fold(text: str) -> str:
    """Case- and accent-insensitive form, for matching names such as 'Belgique' or 'kilogramme'."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def default_warehouse(conn: sqlite3.Connection) -> int:
    """Where stock and registers go when no warehouse is named: the default one, else the first."""
    row = conn.execute("SELECT id FROM warehouses ORDER BY is_default DESC, id LIMIT 1").fetchone()
    return int(row[0])


class Lookups:
    """Reference tables read once per import; families are created on first sight."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.created: list[str] = []
        self.units: dict[str, int] = {}
        for row in conn.execute("SELECT id, code, label FROM units"):
            self.units.setdefault(fold(row[1]), row[0])
        for row in conn.execute("SELECT id, code, label FROM units"):
            self.units.setdefault(fold(row[2]), row[0])
        self.vat_codes: dict[str, int] = {
            fold(row[1]): row[0] for row in conn.execute("SELECT id, code FROM vat_rates")
        }
        self.vat_by_rate: dict[Decimal, list[tuple[int, str, str | None]]] = {}
        for row in conn.execute("SELECT id, code, rate, country FROM vat_rates ORDER BY code"):
            rate = Decimal(str(row[2])).normalize()
            self.vat_by_rate.setdefault(rate, []).append((row[0], row[1], row[3]))
        company = conn.execute(
            "SELECT id, country FROM companies ORDER BY is_default DESC, id LIMIT 1"
        ).fetchone()
        self.company_id = company[0]
        self.home_country = company[1]
        self.countries: dict[str, str] = {}
        for code, alpha3, name_en, name_fr in conn.execute(
            "SELECT code, alpha3, name_en, name_fr FROM countries"
        ):
            for name in (code, alpha3, name_en, name_fr):
                self.countries[fold(name)] = code
        self.families: dict[tuple[str, str], int] = {}
        self.family_codes: dict[tuple[str, str], str] = {}
        self._vat_seen: dict[tuple[str, str], int] = {}

    def unit(self, value: str) -> int:
        found = self.units.get(value)
        if found is None:
            found = self.units.get(fold(value))
            if found is not None:
                self.units[value] = found  # the raw spelling too: rows repeat the same few units
        if found is None:
            known = ", ".join(
                row[0] for row in self.conn.execute("SELECT code FROM units ORDER BY code LIMIT 12")
            )
            raise RowProblem(
                "unit", N_("{value} is not a known unit (known: {known})"), value=value, known=known
            )
        return found

    def vat(self, code: str | None, rate_text: str | None) -> int:
        key = (code or "", rate_text or "")
        found = self._vat_seen.get(key)
        if found is None:
            found = self._vat(code, rate_text)
            self._vat_seen[key] = found
        return found

    def _vat(self, code: str | None, rate_text: str | None) -> int:
        if code:
            found = self.vat_codes.get(fold(code))
            if found is None:
                raise RowProblem("vat_code", N_("{value} is not a known VAT code"), value=code)
            return found
        text = (rate_text or "").strip()
        by_code = self.vat_codes.get(fold(text))
        if by_code is not None:
            return by_code
        return self._vat_by_rate(text)

    def _vat_by_rate(self, text: str) -> int:
        try:
            rate = Decimal(text.replace("%", "").replace(",", ".").strip()).normalize()
        except ArithmeticError as exc:
            raise RowProblem(
                "vat_rate", N_("{value} is neither a VAT rate nor a VAT code"), value=text
            ) from exc
        candidates = self.vat_by_rate.get(rate, [])
        home = [item for item in candidates if item[2] == self.home_country]
        if len(home) == 1 or (len(candidates) == 1):
            return (home or candidates)[0][0]
        if not candidates:
            raise RowProblem("vat_rate", N_("no VAT rate of {value} % exists"), value=text)
        raise RowProblem(
            "vat_rate",
            N_("several VAT rates are {value} %: give the VAT code ({codes})"),
            value=text,
            codes=", ".join(item[1] for item in candidates),
        )

    def country(self, value: str | None, column: str = "country") -> str | None:
        if not value:
            return None
        found = self.countries.get(value)
        if found is None:
            found = self.countries.get(fold(value))
            if found is None:
                raise RowProblem(column, N_("{value} is not a known country"), value=value)
            self.countries[value] = found  # the raw spelling too: folded once, not per row
        return found

    def family(self, table: str, code: str | None, kind: str | None = None) -> int | None:
        if not code:
            return None
        cache_key = (kind or "", code)
        if cache_key in self.families:
            return self.families[cache_key]
        folded = (kind or "", fold(code))
        if folded in self.families:
            self.families[cache_key] = self.families[folded]
            return self.families[folded]
        where, params = (
            ("code = ?", [code]) if kind is None else ("kind = ? AND code = ?", [kind, code])
        )
        row = self.conn.execute(f"SELECT id FROM {table} WHERE {where}", params).fetchone()
        if row is None:
            columns = "code, label" if kind is None else "kind, code, label"
            values = [code, code] if kind is None else [kind, code, code]
            cursor = self.conn.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in values)})", values
            )
            row = (cursor.lastrowid,)
            self.created.append(f"{table}:{code}")
        self.families[cache_key] = self.families[folded] = int(row[0])
        return int(row[0])

    def family_code(self, table: str, code: str | None, kind: str | None = None) -> str | None:
        """The code a family is written under, found once per spelling without writing anything.

        The family's own code if it exists, else the first spelling of the file (accents and case
        folded as `family` does); the applying chunk creates the new ones (import_apply.py).
        """
        if not code:
            return None
        found = self.family_codes.get((kind or "", code))
        if found is not None:
            return found
        folded = (kind or "", "\x1f" + fold(code))
        found = self.family_codes.get(folded)
        if found is None:
            where, params = (
                ("code = ?", [code]) if kind is None else ("kind = ? AND code = ?", [kind, code])
            )
            row = self.conn.execute(f"SELECT code FROM {table} WHERE {where}", params).fetchone()
            found = str(row[0]) if row else code
            self.family_codes[folded] = found
        self.family_codes[(kind or "", code)] = found
        return found
