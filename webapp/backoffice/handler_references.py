"""The small reference tables: VAT rates and sales units."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from webapp.backoffice.handler_base import Handler
from webapp.backoffice.handler_rows import RowProblem, upsert_sql
from webapp.i18n import N_


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
