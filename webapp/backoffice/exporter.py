"""`relais backoffice export KIND FILE`: the back office as CSV, streamed, written atomically.

The columns are the importer's own (webapp/backoffice/columns.py), so an exported file imports back
unchanged. UTF-8 with BOM, `;` and a decimal comma by default (what French Excel opens directly);
text cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from webapp.backoffice.columns import KINDS
from webapp.backoffice.handler_lookups import default_warehouse
from webapp.backoffice.importer import ImportProblem
from webapp.csvio import CsvOptions, CsvWriter, WriteFormat
from webapp.store import Store

FETCH = 2000


@dataclass
class ExportReport:
    kind: str
    file: str
    rows: int
    format: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "kind": self.kind,
            "file": self.file,
            "rows": self.rows,
            "format": self.format,
        }


def _price(value: float | None) -> Decimal | None:
    if value is None:
        return None
    return (
        Decimal(str(value)).quantize(Decimal("0.01"))
        if round(value, 2) == value
        else Decimal(str(value))
    )


def _number(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).normalize()


def _streamed(store: Store, sql: str, params: list[Any] | None = None) -> Iterator[tuple[Any, ...]]:
    """The rows as tuples, a batch at a time: an export of 200,000 rows is never held whole."""
    with store.read() as db:
        cursor = db.conn.execute(sql, params or [])
        while batch := cursor.fetchmany(FETCH):
            yield from batch


def _articles(store: Store) -> tuple[list[str], Iterator[list[Any]]]:
    with store.read() as db:
        categories = list(
            db.conn.execute(
                "SELECT id, code FROM price_categories WHERE is_default = 0 ORDER BY code"
            )
        )
        default = db.conn.execute(
            "SELECT id FROM price_categories WHERE is_default = 1"
        ).fetchone()[0]
        warehouse = default_warehouse(db.conn)
    header = ["code", "label", "unit", "vat_rate", "price_excl_vat", "vat_code", "family"]
    header += ["barcode", "export", "tags", "stock", "active"]
    header += [f"price_{code.lower()}" for _id, code in categories]
    extra = "".join(
        f", (SELECT price_excl_vat FROM article_prices WHERE article_id = a.id"
        f" AND price_category_id = {int(ident)})"
        for ident, _code in categories
    )
    sql = (
        "SELECT a.code, a.label, u.code, v.rate, p.price_excl_vat, v.code, f.code, a.barcode,"
        " a.export, a.tags, s.quantity, a.active" + extra + " FROM articles a"
        " JOIN units u ON u.id = a.unit_id JOIN vat_rates v ON v.id = a.vat_rate_id"
        " LEFT JOIN article_families f ON f.id = a.family_id"
        " LEFT JOIN article_prices p ON p.article_id = a.id AND p.price_category_id = ?"
        " LEFT JOIN stock s ON s.article_id = a.id AND s.warehouse_id = ?"
        " ORDER BY a.code"
    )

    def rows() -> Iterator[list[Any]]:
        for row in _streamed(store, sql, [default, warehouse]):
            values = list(row)
            values[3] = _number(values[3])
            values[4] = _price(values[4])
            values[8], values[11] = bool(values[8]), bool(values[11])
            values[10] = _number(values[10])
            values[12:] = [_price(price) for price in values[12:]]
            yield values

    return header, rows()


def _parties(kind: str) -> Callable[[Store], tuple[list[str], Iterator[list[Any]]]]:
    def export(store: Store) -> tuple[list[str], Iterator[list[Any]]]:
        header = [column.name for column in KINDS[f"{kind}s"].columns]
        sql = (
            "SELECT p.code, p.last_name, p.first_name, p.company, p.email, p.phone, p.address,"
            " p.postcode, p.city, p.country, p.vat_number, f.code, p.created_on FROM parties p"
            " LEFT JOIN party_families f ON f.id = p.family_id WHERE p.kind = ? ORDER BY p.code"
        )

        def rows() -> Iterator[list[Any]]:
            for row in _streamed(store, sql, [kind]):
                values = list(row)
                values[12] = _date(values[12])
                yield values

        return header, rows()

    return export


def _date(value: str | None) -> Any:
    from datetime import date

    return date.fromisoformat(value) if value else None


def _simple(
    header: list[str], sql: str, convert: Callable[[list[Any]], None] | None = None
) -> Callable[[Store], tuple[list[str], Iterator[list[Any]]]]:
    def export(store: Store) -> tuple[list[str], Iterator[list[Any]]]:
        def rows() -> Iterator[list[Any]]:
            for row in _streamed(store, sql):
                values = list(row)
                if convert:
                    convert(values)
                yield values

        return header, rows()

    return export


def _users_convert(values: list[Any]) -> None:
    values[3] = bool(values[3])


def _registers_convert(values: list[Any]) -> None:
    values[5] = bool(values[5])


def _vat_convert(values: list[Any]) -> None:
    values[2] = _number(values[2])
    values[4], values[5] = _date(values[4]), _date(values[5])


EXPORTS: dict[str, Callable[[Store], tuple[list[str], Iterator[list[Any]]]]] = {
    "articles": _articles,
    "customers": _parties("customer"),
    "suppliers": _parties("supplier"),
    "contacts": _simple(
        [
            "customer_code",
            "contact_no",
            "last_name",
            "first_name",
            "role",
            "email",
            "phone",
            "kind",
        ],
        "SELECT p.code, c.contact_no, c.last_name, c.first_name, c.role, c.email, c.phone, p.kind"
        " FROM contacts c JOIN parties p ON p.id = c.party_id ORDER BY p.kind, p.code, c.contact_no",
    ),
    "users": _simple(
        ["code", "name", "registers", "active"],
        "SELECT u.code, u.name, (SELECT group_concat(number, ' ') FROM (SELECT r.number"
        " FROM pos_user_registers ur JOIN pos_registers r ON r.id = ur.register_id"
        " WHERE ur.user_id = u.id ORDER BY r.number)), u.active FROM pos_users u ORDER BY u.code",
        _users_convert,
    ),
    "registers": _simple(
        ["number", "label", "company", "warehouse", "ticket_prefix", "active"],
        "SELECT r.number, r.label, c.code, w.code, r.ticket_prefix, r.active FROM pos_registers r"
        " JOIN companies c ON c.id = r.company_id LEFT JOIN warehouses w ON w.id = r.warehouse_id"
        " ORDER BY r.number",
        _registers_convert,
    ),
    "vat_rates": _simple(
        ["code", "label", "rate", "country", "valid_from", "valid_to"],
        "SELECT code, label, rate, country, valid_from, valid_to FROM vat_rates ORDER BY code",
        _vat_convert,
    ),
    "units": _simple(
        ["code", "label", "decimals"], "SELECT code, label, decimals FROM units ORDER BY code"
    ),
}


def export_csv(
    store: Store,
    kind: str,
    path: Path,
    options: CsvOptions | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> ExportReport:
    """Write every row of `kind` to `path`; the file appears whole or not at all."""
    if kind not in EXPORTS:
        raise ImportProblem(
            "Unknown kind {kind}: choose one of {kinds}.", kind=kind, kinds=", ".join(EXPORTS)
        )
    fmt = WriteFormat.from_options(options or CsvOptions())
    header, rows = EXPORTS[kind](store)
    with CsvWriter(Path(path), fmt) as writer:
        writer.header(header)
        for values in rows:
            writer.row(values)
            if progress and writer.rows % FETCH == 0:
                progress(writer.rows)
    described = {
        "encoding": fmt.encoding,
        "delimiter": "tab" if fmt.delimiter == "\t" else fmt.delimiter,
        "decimal": fmt.decimal,
    }
    return ExportReport(kind, str(path), writer.rows, described)
