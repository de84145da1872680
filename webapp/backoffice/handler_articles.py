"""Articles imported with their prices per price category and their stock, batch by batch."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from webapp.backoffice.columns import Column
from webapp.backoffice.document_totals import PRICE_STEP, QUANTITY_STEP
from webapp.backoffice.handler_base import Applied, Handler, new_families
from webapp.backoffice.handler_changes import ChunkChanges, differs
from webapp.backoffice.handler_lookups import default_warehouse
from webapp.backoffice.handler_rows import BATCH, RowProblem, flag, upsert_sql
from webapp.clock import now_iso
from webapp.csvio import normalise_header
from webapp.i18n import N_

ARTICLE_CHANGES = ChunkChanges(
    "articles", "articles_fts", ("code", "label", "barcode", "tags"), "t.code = c.code", "articles"
)


def stored_price(value: Decimal) -> float:
    """A price as the database keeps it: 4 decimals."""
    return float(value.quantize(PRICE_STEP, ROUND_HALF_UP))


def stored_quantity(value: Decimal) -> float:
    """A quantity as the database keeps it: 3 decimals."""
    return float(value.quantize(QUANTITY_STEP, ROUND_HALF_UP))


class ArticleHandler(Handler):
    """Maps each row into a staging table of its connection (no write to the store); the chunks
    of that table are then applied on the writer by `apply` (see webapp/backoffice/import_apply.py).
    """

    table = "articles"
    bulk = True

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
        self.optional = optional
        self.columns = ["code", "label", "unit_id", "vat_rate_id"]
        self.columns += [{"family": "family_id"}.get(name, name) for name in optional]
        self.columns += ["created_at", "updated_at"]
        self.price_columns = [name for name in present if name in self.categories]
        self.price_names = ["price_excl_vat", *self.price_columns]
        self.getters = [self._getter(name) for name in optional]
        self.has_stock = "stock" in present
        # Staged: the article's columns (the family by its code), then one price per category.
        self.price_categories = [self.default_category]
        self.price_categories += [self.categories[name][0] for name in self.price_columns]
        prices = [f"price_{index}" for index in range(len(self.price_categories))]
        staged = [{"family_id": "family"}.get(name, name) for name in self.columns]
        self.staged = self.stage_rows([*staged, *prices, "stock"])
        self.now = now_iso()

    def extra_column(self, header: str) -> Column | None:
        row = self.conn.execute("SELECT code FROM price_categories").fetchall()
        for (code,) in row:
            if header == normalise_header(f"price_{code}"):
                return Column(header, "decimal", N_("Price excluding VAT in this price category"))
        return None

    def row(self, values: dict[str, Any]) -> None:
        unit = self.lookups.unit(values["unit"])
        vat = self.lookups.vat(values.get("vat_code"), values["vat_rate"])
        params: list[Any] = [values["code"], values["label"], unit, vat]
        params += [get(values) for get in self.getters]
        params += [self.now, self.now]
        for column in self.price_names:
            price = values.get(column)
            if price is None:
                params.append(None)
                continue
            if price < 0:
                raise RowProblem(
                    column, N_("a price cannot be negative ({value})"), value=str(price)
                )
            params.append(stored_price(price))
        stock = values.get("stock") if self.has_stock else None
        params.append(None if stock is None else stored_quantity(stock))
        rows = self.staged.rows
        rows.append(params)
        if len(rows) >= BATCH:
            self.staged.load()

    def _getter(self, name: str) -> Callable[[dict[str, Any]], Any]:
        """How a row gives the value of an optional column, chosen once per file."""
        if name == "family":
            family = self.lookups.family_code
            return lambda values: family("article_families", values.get("family"))
        if name in ("export", "active"):
            return lambda values: flag(values, name)
        if name == "tags":
            return lambda values: values.get("tags") or ""
        return lambda values: values.get(name)

    def finish(self) -> None:
        self.staged.load()

    def apply(self, conn: sqlite3.Connection, chunk: str) -> Applied:
        """One chunk of staged articles written on the writer `conn`, set-based: its new families,
        the upsert, the prices per category and the stock, then their FTS entries and one
        change_log row per article changed (the per-row triggers are off, handler_changes.py)."""
        families = (
            new_families(conn, chunk, "article_families") if "family" in self.optional else []
        )
        expressions = [
            "(SELECT id FROM article_families f WHERE f.code = c.family)"
            if name == "family_id"
            else f"c.{name}"
            for name in self.columns
        ]
        unchanged = ["code", "created_at", "updated_at"]
        created = ARTICLE_CHANGES.note(conn, chunk, differs(self.columns, expressions, unchanged))
        conn.execute(  # a new row's id is the one note() gave it: prices and stock use c.id
            upsert_sql(
                "articles",
                ["code"],
                ["id", *self.columns],
                keep=["id", "created_at"],
                source=f"{chunk} c",
                expressions=["c.new_id", *expressions],
            )
        )
        for index, category in enumerate(self.price_categories):
            self._apply_prices(conn, chunk, f"price_{index}", category)
        conn.execute(
            "INSERT INTO stock (article_id, warehouse_id, quantity) "
            f"SELECT c.id, ?, c.stock FROM {chunk} c WHERE c.stock IS NOT NULL "
            "ON CONFLICT DO UPDATE SET quantity = excluded.quantity "
            "WHERE quantity IS NOT excluded.quantity",
            (self.warehouse,),
        )
        ARTICLE_CHANGES.index(conn, chunk)
        return Applied(created, families)

    def _apply_prices(
        self, conn: sqlite3.Connection, chunk: str, column: str, category: int
    ) -> None:
        ARTICLE_CHANGES.touch(  # the stored articles whose price in this category changes
            conn,
            f"SELECT c.id FROM {chunk} c LEFT JOIN article_prices p ON p.article_id = c.id"
            f" AND p.price_category_id = ? WHERE c.new_id IS NULL AND CASE WHEN c.{column} IS NULL"
            f" THEN p.article_id IS NOT NULL ELSE p.price_excl_vat IS NOT c.{column} END",
            (category,),
        )
        conn.execute(
            "INSERT INTO article_prices (article_id, price_category_id, price_excl_vat) "
            f"SELECT c.id, ?, c.{column} FROM {chunk} c WHERE c.{column} IS NOT NULL "
            "ON CONFLICT DO UPDATE SET price_excl_vat = excluded.price_excl_vat "
            "WHERE price_excl_vat IS NOT excluded.price_excl_vat",
            (category,),
        )
        conn.execute(  # a new article has no price to remove
            "DELETE FROM article_prices WHERE price_category_id = ? AND article_id IN "
            f"(SELECT c.id FROM {chunk} c WHERE c.{column} IS NULL AND c.new_id IS NULL)",
            (category,),
        )
