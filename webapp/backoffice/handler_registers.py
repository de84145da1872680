"""Cash registers and their users (with the registers each user may use)."""

from __future__ import annotations

from typing import Any

from webapp.backoffice.handler_base import Handler
from webapp.backoffice.handler_lookups import default_warehouse
from webapp.backoffice.handler_rows import RowProblem, flag, upsert_sql
from webapp.i18n import N_


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
            [flag(values, "active")] if "active" in self.present else []
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
            default = default_warehouse(self.conn)
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
            params.append(flag(values, "active"))
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
