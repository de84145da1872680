"""Articles imported with their prices per price category and their stock, batch by batch."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from webapp.backoffice.columns import Column
from webapp.backoffice.document_totals import PRICE_STEP, QUANTITY_STEP
from webapp.backoffice.handler_base import Handler
from webapp.backoffice.handler_lookups import default_warehouse
from webapp.backoffice.handler_rows import BATCH, RowProblem, flag, upsert_sql
from webapp.clock import now_iso
from webapp.csvio import normalise_header
from webapp.i18n import N_


def stored_price(value: Decimal) -> float:
    """A price as the database keeps it: 4 decimals."""
    return float(value.quantize(PRICE_STEP, ROUND_HALF_UP))


def stored_quantity(value: Decimal) -> float:
    """A quantity as the database keeps it: 3 decimals."""
    return float(value.quantize(QUANTITY_STEP, ROUND_HALF_UP))


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
        self.warehouse = default_warehouse(self.conn)
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
            self.prices.add((category, None if price is None else stored_price(price), code))
        if "stock" in self.present and values.get("stock") is not None:
            self.stock.add((self.warehouse, stored_quantity(values["stock"]), code))
        if len(self.articles.rows) >= BATCH:
            self.finish()

    def _optional(self, name: str, values: dict[str, Any]) -> Any:
        if name == "family":
            return self.lookups.family("article_families", values.get("family"))
        if name in ("export", "active"):
            return flag(values, name)
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
