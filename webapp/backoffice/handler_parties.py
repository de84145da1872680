"""Customers and suppliers imported in batches, and their contacts row by row."""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from webapp.backoffice.column_values import parse_vat_number
from webapp.backoffice.handler_base import Applied, Handler, new_families
from webapp.backoffice.handler_changes import ChunkChanges, differs
from webapp.backoffice.handler_rows import BATCH, RowProblem, upsert_sql
from webapp.clock import now_iso
from webapp.csvio import CsvFormat, ValueProblem
from webapp.i18n import N_

PARTY_FTS = ("code", "last_name", "first_name", "company", "city", "email")
PARTY_MATCH = "t.kind = c.kind AND t.code = c.code"


class PartyHandler(Handler):
    """Customers or suppliers mapped into a staging table, applied chunk by chunk (`apply`)."""

    table = "parties"
    count_where = "kind = ?"
    fields = ("last_name", "first_name", "company", "email", "phone", "address", "postcode", "city")
    bulk = True

    def __init__(self, conn: sqlite3.Connection, fmt: CsvFormat, kind: str) -> None:
        super().__init__(conn, fmt)
        self.kind = kind
        self.count_params = (kind,)
        entity = "customers" if kind == "customer" else None  # suppliers stay in the office
        self.changes = ChunkChanges("parties", "parties_fts", PARTY_FTS, PARTY_MATCH, entity)

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
        self.columns = columns
        self.staged = self.stage_rows([{"family_id": "family"}.get(name, name) for name in columns])
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
        self.staged.add(params)
        if len(self.staged.rows) >= BATCH:
            self.staged.load()

    def _optional(self, name: str, values: dict[str, Any], country: str | None) -> Any:
        if name == "country":
            return country
        if name == "family":
            return self.lookups.family_code("party_families", values.get("family"), self.kind)
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
        self.staged.load()

    def apply(self, conn: sqlite3.Connection, chunk: str) -> Applied:
        """One chunk of staged parties on the writer: new families, one upsert, then their FTS
        entries and change-log rows set-based (handler_changes.py)."""
        families = (
            new_families(conn, chunk, "party_families", self.kind)
            if "family" in self.optional
            else []
        )
        family = "(SELECT id FROM party_families f WHERE f.kind = c.kind AND f.code = c.family)"
        expressions = [family if name == "family_id" else f"c.{name}" for name in self.columns]
        changes = self.changes
        unchanged = ["kind", "code", "created_at", "updated_at"]
        created = changes.note(conn, chunk, differs(self.columns, expressions, unchanged))
        conn.execute(  # a new row's id is the one note() gave it
            upsert_sql(
                "parties",
                ["kind", "code"],
                ["id", *self.columns],
                keep=["id", "created_at"],
                source=f"{chunk} c",
                expressions=["c.new_id", *expressions],
            )
        )
        changes.index(conn, chunk)
        return Applied(created, families)


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
