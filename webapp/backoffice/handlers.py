"""How each kind of import row is checked against the reference tables and written.

Handlers run inside the importer's transaction, on the writer connection. Big kinds (articles,
customers, suppliers) are written in batches with `executemany`; an upsert touches a row only when
one of its values changed, so re-importing a file leaves unchanged rows (and their change marks)
alone.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from webapp.backoffice.columns import Column, parse_vat_number
from webapp.clock import now_iso
from webapp.csvio import CsvFormat, ValueProblem, normalise_header
from webapp.i18n import N_

BATCH = 1000
PRICE_PLACES = Decimal("0.0001")
QUANTITY_PLACES = Decimal("0.001")


class RowProblem(Exception):
    def __init__(self, column: str | None, message: str, **params: Any) -> None:
        super().__init__(message)
        self.column = column
        self.message = message
        self.params = params

    @classmethod
    def from_value(cls, column: str, problem: ValueProblem) -> RowProblem:
        return cls(column, problem.message, **problem.params)


def fold(text: str) -> str:
    """Case- and accent-insensitive form, for matching names such as 'Belgique' or 'kilogramme'."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def money(value: Decimal) -> float:
    return float(value.quantize(PRICE_PLACES, ROUND_HALF_UP))


def quantity(value: Decimal) -> float:
    return float(value.quantize(QUANTITY_PLACES, ROUND_HALF_UP))


def upsert_sql(
    table: str,
    conflict: Sequence[str],
    columns: Sequence[str],
    keep: Sequence[str] = (),
    source: str | None = None,
) -> str:
    """INSERT … ON CONFLICT DO UPDATE of the non-key columns, only where a value differs.

    With `source` (a staging table with the same column names) the rows come from one
    INSERT … SELECT: one statement per batch lets FTS5 index the batch at once, about six times
    faster than a trigger firing statement by statement.
    """
    names = ", ".join(columns)
    values = (
        f"SELECT {names} FROM {source} WHERE true"
        if source
        else ("VALUES (" + ", ".join("?" for _ in columns) + ")")
    )
    changing = [name for name in columns if name not in conflict and name not in keep]
    updates = [name for name in changing if name != "updated_at"]
    sets = ", ".join(f"{name} = excluded.{name}" for name in changing)
    differs = " OR ".join(f"{table}.{name} IS NOT excluded.{name}" for name in updates) or "0"
    return (
        f"INSERT INTO {table} ({names}) {values} "
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets} WHERE {differs}"
    )


class Stage:
    """A temporary table that batches of rows pass through on their way in."""

    def __init__(self, conn: sqlite3.Connection, name: str, columns: Sequence[str]) -> None:
        self.conn = conn
        self.name = f"temp.{name}"
        self.columns = list(columns)
        definitions = ", ".join(
            f"{column} {'TEXT COLLATE NOCASE' if column == 'code' else ''}" for column in columns
        )
        conn.execute(f"DROP TABLE IF EXISTS {self.name}")
        conn.execute(f"CREATE TEMP TABLE {name} ({definitions})")
        self.insert = f"INSERT INTO {self.name} VALUES ({', '.join('?' for _ in columns)})"
        self.rows: list[Sequence[Any]] = []

    def add(self, row: Sequence[Any]) -> None:
        self.rows.append(row)

    def load(self) -> bool:
        """Move the batched rows into the table; False when there were none."""
        if not self.rows:
            return False
        self.conn.executemany(self.insert, self.rows)
        self.rows = []
        return True

    def clear(self) -> None:
        self.conn.execute(f"DELETE FROM {self.name}")

    def drop(self) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {self.name}")


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
        found = self.countries.get(value) or self.countries.get(fold(value))
        if found is None:
            raise RowProblem(column, N_("{value} is not a known country"), value=value)
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


class Handler:
    table = ""
    count_where = ""
    count_params: tuple[Any, ...] = ()

    def __init__(self, conn: sqlite3.Connection, fmt: CsvFormat) -> None:
        self.conn = conn
        self.format = fmt
        self.lookups = Lookups(conn)
        self.present: set[str] = set()
        self._before = 0
        self.stages: list[Stage] = []

    def stage(self, name: str, columns: Sequence[str]) -> Stage:
        created = Stage(self.conn, name, columns)
        self.stages.append(created)
        return created

    def close(self) -> None:
        for stage in self.stages:
            stage.drop()

    @property
    def created_references(self) -> list[str]:
        return self.lookups.created

    def extra_column(self, header: str) -> Column | None:
        return None

    def start(self, present: set[str]) -> None:
        self.present = present
        self._before = self._count()

    def _count(self) -> int:
        where = f" WHERE {self.count_where}" if self.count_where else ""
        row = self.conn.execute(
            f"SELECT count(*) FROM {self.table}{where}", self.count_params
        ).fetchone()
        return int(row[0])

    def row(self, values: dict[str, Any]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Write what is still batched."""

    def counts(self, valid_rows: int) -> tuple[int, int]:
        created = self._count() - self._before
        return created, max(valid_rows - created, 0)


def _flag(values: dict[str, Any], name: str, default: bool = True) -> int:
    value = values.get(name)
    return int(default if value is None else value)


class ArticleHandler(Handler):
    table = "articles"

    def start(self, present: set[str]) -> None:
        super().start(present)
        self.categories = {
            normalise_header(f"price_{row[1]}"): (row[0], bool(row[2]))
            for row in self.conn.execute("SELECT id, code, is_default FROM price_categories")
        }
        self.default_category = next(
            ident for ident, default in self.categories.values() if default
        )
        self.warehouse = self.conn.execute(
            "SELECT id FROM warehouses ORDER BY is_default DESC, id LIMIT 1"
        ).fetchone()[0]
        optional = [
            name for name in ("family", "barcode", "export", "tags", "active") if name in present
        ]
        self.columns = ["code", "label", "unit_id", "vat_rate_id"]
        self.columns += [{"family": "family_id"}.get(name, name) for name in optional]
        self.optional = optional
        columns = [*self.columns, "created_at", "updated_at"]
        self.articles = self.stage("stage_articles", columns)
        self.sql = upsert_sql(
            "articles", ["code"], columns, keep=["created_at"], source=self.articles.name
        )
        self.price_columns = [name for name in present if name in self.categories]
        self.prices = self.stage("stage_prices", ["category", "price", "code"])
        self.stock = self.stage("stage_stock", ["warehouse", "quantity", "code"])
        self.now = now_iso()

    def extra_column(self, header: str) -> Column | None:
        row = self.conn.execute("SELECT code FROM price_categories").fetchall()
        for (code,) in row:
            if header == normalise_header(f"price_{code}"):
                return Column(header, "decimal", N_("Price excluding VAT in this price category"))
        return None

    def row(self, values: dict[str, Any]) -> None:
        code = values["code"]
        unit = self.lookups.unit(values["unit"])
        vat = self.lookups.vat(values.get("vat_code"), values["vat_rate"])
        params: list[Any] = [code, values["label"], unit, vat]
        for name in self.optional:
            params.append(self._optional(name, values))
        params += [self.now, self.now]
        prices = [(self.default_category, values["price_excl_vat"], "price_excl_vat")]
        prices += [
            (self.categories[name][0], values.get(name), name) for name in self.price_columns
        ]
        for _category, price, column in prices:
            if price is not None and price < 0:
                raise RowProblem(
                    column, N_("a price cannot be negative ({value})"), value=str(price)
                )
        self.articles.add(params)
        for category, price, _column in prices:
            self.prices.add((category, None if price is None else money(price), code))
        if "stock" in self.present and values.get("stock") is not None:
            self.stock.add((self.warehouse, quantity(values["stock"]), code))
        if len(self.articles.rows) >= BATCH:
            self.finish()

    def _optional(self, name: str, values: dict[str, Any]) -> Any:
        if name == "family":
            return self.lookups.family("article_families", values.get("family"))
        if name in ("export", "active"):
            return _flag(values, name)
        if name == "tags":
            return values.get("tags") or ""
        return values.get(name)

    def finish(self) -> None:
        if not self.articles.load():
            return
        self.conn.execute(self.sql)
        self.articles.clear()
        if self.prices.load():
            self.conn.execute(
                "INSERT INTO article_prices (article_id, price_category_id, price_excl_vat) "
                f"SELECT a.id, s.category, s.price FROM {self.prices.name} s "
                "JOIN articles a ON a.code = s.code WHERE s.price IS NOT NULL "
                "ON CONFLICT DO UPDATE SET price_excl_vat = excluded.price_excl_vat "
                "WHERE price_excl_vat IS NOT excluded.price_excl_vat"
            )
            self.conn.execute(
                "DELETE FROM article_prices WHERE (article_id, price_category_id) IN "
                f"(SELECT a.id, s.category FROM {self.prices.name} s "
                "JOIN articles a ON a.code = s.code WHERE s.price IS NULL)"
            )
            self.prices.clear()
        if self.stock.load():
            self.conn.execute(
                "INSERT INTO stock (article_id, warehouse_id, quantity) "
                f"SELECT a.id, s.warehouse, s.quantity FROM {self.stock.name} s "
                "JOIN articles a ON a.code = s.code WHERE true "
                "ON CONFLICT DO UPDATE SET quantity = excluded.quantity "
                "WHERE quantity IS NOT excluded.quantity"
            )
            self.stock.clear()


class PartyHandler(Handler):
    table = "parties"
    count_where = "kind = ?"
    fields = ("last_name", "first_name", "company", "email", "phone", "address", "postcode", "city")

    def __init__(self, conn: sqlite3.Connection, fmt: CsvFormat, kind: str) -> None:
        super().__init__(conn, fmt)
        self.kind = kind
        self.count_params = (kind,)

    def start(self, present: set[str]) -> None:
        super().start(present)
        names = [name for name in self.fields if name in present]
        optional = [
            name for name in ("country", "vat_number", "family", "created_on") if name in present
        ]
        self.names = names
        self.optional = optional
        columns = ["kind", "code", *names]
        columns += [{"family": "family_id"}.get(name, name) for name in optional]
        columns += ["created_at", "updated_at"]
        self.batch = self.stage("stage_parties", columns)
        self.sql = upsert_sql(
            "parties", ["kind", "code"], columns, keep=["created_at"], source=self.batch.name
        )
        self.now = now_iso()

    def row(self, values: dict[str, Any]) -> None:
        if not (values.get("last_name") or values.get("company")):
            column = "last_name" if "last_name" in self.present else "company"
            raise RowProblem(column, N_("a last name or a company name is needed"))
        country = self.lookups.country(values.get("country"))
        params: list[Any] = [self.kind, values["code"]]
        params += [values.get(name) or "" for name in self.names]
        for name in self.optional:
            params.append(self._optional(name, values, country))
        params += [self.now, self.now]
        self.batch.add(params)
        if len(self.batch.rows) >= BATCH:
            self.finish()

    def _optional(self, name: str, values: dict[str, Any], country: str | None) -> Any:
        if name == "country":
            return country
        if name == "family":
            return self.lookups.family("party_families", values.get("family"), self.kind)
        if name == "created_on":
            value = values.get("created_on")
            return value.isoformat() if isinstance(value, date) else None
        raw = values.get("vat_number")
        if not raw:
            return ""
        try:
            return parse_vat_number(raw, country)
        except ValueProblem as problem:
            raise RowProblem.from_value("vat_number", problem) from problem

    def finish(self) -> None:
        if self.batch.load():
            self.conn.execute(self.sql)
            self.batch.clear()


class ContactHandler(Handler):
    table = "contacts"

    def row(self, values: dict[str, Any]) -> None:
        kind = values.get("kind") or "customer"
        party = self.conn.execute(
            "SELECT id FROM parties WHERE kind = ? AND code = ?", (kind, values["customer_code"])
        ).fetchone()
        if party is None:
            message = (
                N_("no customer has the code {value}")
                if kind == "customer"
                else N_("no supplier has the code {value}")
            )
            raise RowProblem("customer_code", message, value=values["customer_code"])
        number = values.get("contact_no")
        if number is None:
            number = self.conn.execute(
                "SELECT coalesce(max(contact_no), 0) + 1 FROM contacts WHERE party_id = ?",
                (party[0],),
            ).fetchone()[0]
        elif number < 1:
            raise RowProblem("contact_no", N_("must be 1 or more"))
        columns = ["party_id", "contact_no", "last_name", "first_name", "role", "email", "phone"]
        params = [party[0], number] + [values.get(name) or "" for name in columns[2:]]
        self.conn.execute(upsert_sql("contacts", ["party_id", "contact_no"], columns), params)


class UserHandler(Handler):
    table = "pos_users"

    def row(self, values: dict[str, Any]) -> None:
        registers = []
        for number in values.get("registers") or []:
            found = self.conn.execute(
                "SELECT id FROM pos_registers WHERE number = ?", (number,)
            ).fetchone()
            if found is None:
                raise RowProblem("registers", N_("register {value} does not exist"), value=number)
            registers.append(found[0])
        columns = ["code", "name"] + (["active"] if "active" in self.present else [])
        params = [values["code"], values["name"]] + (
            [_flag(values, "active")] if "active" in self.present else []
        )
        self.conn.execute(upsert_sql("pos_users", ["code"], columns), params)
        user = self.conn.execute(
            "SELECT id FROM pos_users WHERE code = ?", (values["code"],)
        ).fetchone()[0]
        current = {
            row[0]
            for row in self.conn.execute(
                "SELECT register_id FROM pos_user_registers WHERE user_id = ?", (user,)
            )
        }
        wanted = set(registers)
        for register in current - wanted:
            self.conn.execute(
                "DELETE FROM pos_user_registers WHERE user_id = ? AND register_id = ?",
                (user, register),
            )
        for register in wanted - current:
            self.conn.execute(
                "INSERT INTO pos_user_registers (user_id, register_id) VALUES (?, ?)",
                (user, register),
            )


class RegisterHandler(Handler):
    table = "pos_registers"

    def row(self, values: dict[str, Any]) -> None:
        number = values["number"]
        if number < 1:
            raise RowProblem("number", N_("must be 1 or more"))
        company = self._reference(
            "companies", "company", values.get("company"), self.lookups.company_id
        )
        columns = ["number", "label", "company_id"]
        params: list[Any] = [number, values["label"], company]
        if "warehouse" in self.present or not self._exists(number):
            default = self.conn.execute(
                "SELECT id FROM warehouses ORDER BY is_default DESC, id LIMIT 1"
            ).fetchone()[0]
            columns.append("warehouse_id")
            params.append(
                self._reference("warehouses", "warehouse", values.get("warehouse"), default)
            )
        prefix = values.get("ticket_prefix")
        if prefix or not self._exists(number):
            columns.append("ticket_prefix")
            params.append(prefix or f"C{number}-")
        if "active" in self.present:
            columns.append("active")
            params.append(_flag(values, "active"))
        self.conn.execute(upsert_sql("pos_registers", ["number"], columns), params)

    def _exists(self, number: int) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM pos_registers WHERE number = ?", (number,)).fetchone()
            is not None
        )

    def _reference(self, table: str, column: str, code: str | None, default: int) -> int:
        if not code:
            return default
        row = self.conn.execute(f"SELECT id FROM {table} WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise RowProblem(column, N_("{value} does not exist"), value=code)
        return int(row[0])


class VatRateHandler(Handler):
    table = "vat_rates"

    def row(self, values: dict[str, Any]) -> None:
        rate: Decimal = values["rate"]
        if not Decimal(0) <= rate <= Decimal(100):
            raise RowProblem(
                "rate", N_("a VAT rate is between 0 and 100 ({value})"), value=str(rate)
            )
        start, end = values.get("valid_from"), values.get("valid_to")
        if start and end and end < start:
            raise RowProblem("valid_to", N_("ends before it starts"))
        country = self.lookups.country(values.get("country"))
        columns = ["code", "label", "rate"]
        params: list[Any] = [values["code"], values["label"], float(rate)]
        for name, value in (("country", country), ("valid_from", start), ("valid_to", end)):
            if name in self.present:
                columns.append(name)
                params.append(value.isoformat() if isinstance(value, date) else value)
        self.conn.execute(upsert_sql("vat_rates", ["code"], columns), params)


class UnitHandler(Handler):
    table = "units"

    def row(self, values: dict[str, Any]) -> None:
        decimals = values.get("decimals")
        if decimals is not None and not 0 <= decimals <= 6:
            raise RowProblem("decimals", N_("must be between 0 and 6"))
        columns = ["code", "label"] + (["decimals"] if "decimals" in self.present else [])
        params = [values["code"], values["label"]] + (
            [decimals or 0] if "decimals" in self.present else []
        )
        self.conn.execute(upsert_sql("units", ["code"], columns), params)


def make(kind: str, conn: sqlite3.Connection, fmt: CsvFormat) -> Handler:
    if kind in ("customers", "suppliers"):
        return PartyHandler(conn, fmt, kind[:-1])
    simple: dict[str, type[Handler]] = {
        "articles": ArticleHandler,
        "contacts": ContactHandler,
        "users": UserHandler,
        "registers": RegisterHandler,
        "vat_rates": VatRateHandler,
        "units": UnitHandler,
    }
    return simple[kind](conn, fmt)
