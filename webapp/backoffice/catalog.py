"""Articles: the searchable list, one article with its prices and stock, creation and edits.

Every list query is served by an index (code, label, family) or by the ``articles_fts`` index, and
pages fetch one row more than they show: the list stays quick with 200,000 articles.
Prices are REAL rounded to 4 decimals in the database and Decimal everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from webapp.backoffice.article_checks import ArticleChange, check_article, check_new_code
from webapp.backoffice.listing import (
    Errors,
    ListQuery,
    Page,
    Sort,
    fetch_page,
    flag_filter,
    id_filter,
    order_by,
    paged,
    parse_flag,
    parse_query,
    text_param,
    to_decimal,
    where_clause,
    window,
)
from webapp.clock import now_iso
from webapp.formatting import amount_input
from webapp.store import Store, one, rows

ARTICLE_SORTS = {
    "code": Sort("a.code ASC", "a.code DESC"),
    "label": Sort(
        "a.label COLLATE NOCASE ASC, a.id ASC",
        "a.label COLLATE NOCASE DESC, a.id DESC",
    ),
}
ARTICLE_FILTERS = {
    "family": id_filter,
    "vat": id_filter,
    "unit": id_filter,
    "export": flag_filter,
    "active": flag_filter,
}
_FILTER_SQL = {
    "family": "a.family_id = ?",
    "vat": "a.vat_rate_id = ?",
    "unit": "a.unit_id = ?",
    "export": "a.export = ?",
    "active": "a.active = ?",
}


@dataclass
class Reference:
    """The choices an article form and the list filters offer."""

    families: list[dict[str, Any]]
    units: list[dict[str, Any]]
    vat_rates: list[dict[str, Any]]
    price_categories: list[dict[str, Any]]

    @property
    def default_category(self) -> dict[str, Any] | None:
        defaults = [row for row in self.price_categories if row["is_default"]]
        candidates = defaults or self.price_categories
        return candidates[0] if candidates else None


def reference(store: Store) -> Reference:
    with store.read() as db:
        return Reference(
            families=rows(db, "SELECT id, code, label FROM article_families ORDER BY label, id"),
            units=rows(db, "SELECT id, code, label, decimals FROM units ORDER BY label, id"),
            vat_rates=rows(
                db, "SELECT id, code, label, rate FROM vat_rates ORDER BY country, rate, id"
            ),
            price_categories=rows(
                db,
                "SELECT id, code, label, is_default FROM price_categories"
                " ORDER BY is_default DESC, label, id",
            ),
        )


def parse_article_query(params: Mapping[str, Any]) -> ListQuery:
    return parse_query(params, ARTICLE_SORTS, "label", ARTICLE_FILTERS)


def article_list_sql(query: ListQuery, price_category_id: int | None) -> tuple[str, list[Any]]:
    """One page of articles with their family, unit, VAT and price in a category."""
    where, args = where_clause(
        query,
        _FILTER_SQL,
        search_sql="a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)",
        integers=_FILTER_SQL.keys(),  # ids and flags
    )
    order = order_by(ARTICLE_SORTS, query)
    ids = f"SELECT a.id FROM articles a{where} ORDER BY {order}"
    select = (
        "SELECT a.id, a.code, a.label, a.barcode, a.export, a.active, a.tags,"
        " f.label AS family, u.code AS unit, v.code AS vat_code, v.rate AS vat_rate,"
        " p.price_excl_vat AS price"
        " FROM {page} JOIN articles a ON a.id = page.id"
        " LEFT JOIN article_families f ON f.id = a.family_id"
        " LEFT JOIN units u ON u.id = a.unit_id"
        " LEFT JOIN vat_rates v ON v.id = a.vat_rate_id"
        " LEFT JOIN article_prices p ON p.article_id = a.id AND p.price_category_id = ?"
    )
    return paged(ids, select, order), [*args, *window(query), price_category_id]


def list_articles(store: Store, query: ListQuery, price_category_id: int | None) -> Page:
    sql, args = article_list_sql(query, price_category_id)
    with store.read() as db:
        result = fetch_page(db, sql, args, query)
    for row in result.rows:
        row["price"] = to_decimal(row["price"])
        row["price_incl_vat"] = incl_vat(row["price"], row["vat_rate"])
    return result


def incl_vat(price: Decimal | None, rate: float | None) -> Decimal | None:
    """The price with VAT, rounded to the cent."""
    if price is None or rate is None:
        return None
    total = price * (1 + Decimal(str(rate)) / 100)
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def get_article(store: Store, article_id: int) -> dict[str, Any] | None:
    """One article with its family, unit and VAT, a price per price category, stock per warehouse."""
    with store.read() as db:
        article = one(
            db,
            "SELECT a.*, f.code AS family_code, f.label AS family, u.code AS unit,"
            " u.label AS unit_label, u.decimals AS unit_decimals, v.code AS vat_code,"
            " v.label AS vat_label, v.rate AS vat_rate"
            " FROM articles a LEFT JOIN article_families f ON f.id = a.family_id"
            " LEFT JOIN units u ON u.id = a.unit_id LEFT JOIN vat_rates v ON v.id = a.vat_rate_id"
            " WHERE a.id = ?",
            [article_id],
        )
        if article is None:
            return None
        prices = rows(
            db,
            "SELECT c.id, c.code, c.label, c.is_default, p.price_excl_vat AS price"
            " FROM price_categories c LEFT JOIN article_prices p"
            " ON p.price_category_id = c.id AND p.article_id = ?"
            " ORDER BY c.is_default DESC, c.label, c.id",
            [article_id],
        )
        stock = rows(
            db,
            "SELECT w.code, w.name, s.quantity FROM stock s JOIN warehouses w ON w.id = s.warehouse_id"
            " WHERE s.article_id = ? ORDER BY w.is_default DESC, w.name",
            [article_id],
        )
    article["prices"] = [_price_row(price, article["vat_rate"]) for price in prices]
    article["stock"] = [{**line, "quantity": to_decimal(line["quantity"])} for line in stock]
    return article


def _price_row(row: dict[str, Any], vat_rate: float | None) -> dict[str, Any]:
    row["price"] = to_decimal(row["price"])
    row["price_incl_vat"] = incl_vat(row["price"], vat_rate)
    return row


def article_form(article: Mapping[str, Any]) -> dict[str, str]:
    """The edit form's values for a stored article."""
    form = {
        "code": article["code"],
        "label": article["label"],
        "family": str(article["family_id"] or ""),
        "unit": str(article["unit_id"]),
        "vat": str(article["vat_rate_id"]),
        "barcode": article["barcode"] or "",
        "tags": article["tags"] or "",
        "export": "1" if article["export"] else "",
        "active": "1" if article["active"] else "",
    }
    for price in article.get("prices", []):
        form[f"price_{price['id']}"] = amount_input(price["price"])
    return form


def blank_article_form(ref: Reference) -> dict[str, str]:
    """A new article: the first unit ("U" when there is one), the first VAT rate, exported, active."""
    unit = next((u for u in ref.units if str(u["code"]).upper() == "U"), None)
    unit = unit or (ref.units[0] if ref.units else None)
    vat = ref.vat_rates[0] if ref.vat_rates else None
    return {
        "code": "",
        "label": "",
        "family": "",
        "unit": str(unit["id"]) if unit else "",
        "vat": str(vat["id"]) if vat else "",
        "barcode": "",
        "tags": "",
        "export": "1",
        "active": "1",
    }


def form_values(data: Mapping[str, Any], ref: Reference) -> dict[str, str]:
    """What the user sent, as the form shows it back (trimmed text, checkboxes as "1" or "")."""
    values = {
        name: text_param(data, name)
        for name in ("code", "label", "family", "unit", "vat", "barcode", "tags")
    }
    values["export"] = "1" if parse_flag(data.get("export")) else ""
    values["active"] = "1" if parse_flag(data.get("active")) else ""
    for category in ref.price_categories:
        key = f"price_{category['id']}"
        values[key] = text_param(data, key)
    return values


def create_article(store: Store, data: Mapping[str, Any]) -> int:
    """Check and insert a new article with its prices; raises FormError with every problem found."""
    ref = reference(store)
    values = form_values(data, ref)
    with store.write() as db:
        errors = Errors()
        code = check_new_code(db, values["code"], errors)
        change = check_article(db, values, ref.price_categories, errors)
        errors.raise_if_any()
        moment = now_iso()
        columns = ["code", *ArticleChange.COLUMNS, "created_at", "updated_at"]
        cursor = db.execute(
            f"INSERT INTO articles ({', '.join(columns)})"
            f" VALUES ({', '.join('?' for _ in columns)})",
            [code, *change.column_values(), moment, moment],
        )
        article_id = int(cursor.lastrowid or 0)
        _write_prices(db, article_id, change.prices)
    return article_id


def update_article(store: Store, article_id: int, data: Mapping[str, Any]) -> bool:
    """Check and save an edited article (its code stays); False when it no longer exists."""
    ref = reference(store)
    values = form_values(data, ref)
    with store.write() as db:
        if db.execute("SELECT 1 FROM articles WHERE id = ?", [article_id]).fetchone() is None:
            return False
        errors = Errors()
        change = check_article(db, values, ref.price_categories, errors)
        errors.raise_if_any()
        assignments = ", ".join(f"{column} = ?" for column in ArticleChange.COLUMNS)
        db.execute(
            f"UPDATE articles SET {assignments}, updated_at = ? WHERE id = ?",
            [*change.column_values(), now_iso(), article_id],
        )
        _write_prices(db, article_id, change.prices)
    return True


def _write_prices(db: Any, article_id: int, prices: Mapping[int, Decimal | None]) -> None:
    for category_id, price in prices.items():
        if price is None:
            db.execute(
                "DELETE FROM article_prices WHERE article_id = ? AND price_category_id = ?",
                [article_id, category_id],
            )
        else:
            db.execute(
                "INSERT INTO article_prices (article_id, price_category_id, price_excl_vat)"
                " VALUES (?, ?, ?) ON CONFLICT (article_id, price_category_id)"
                " DO UPDATE SET price_excl_vat = excluded.price_excl_vat",
                [article_id, category_id, float(price)],
            )
