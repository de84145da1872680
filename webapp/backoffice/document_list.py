"""Documents (orders, deliveries and the registers' tickets) as the back office browses them: the
list and one document.

Creating documents is ``documents.py``'s job; this module only reads. The list is served by the
date, (kind, date) and (party, date) indexes and fetches one row more than it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from webapp.backoffice.document_types import DOCUMENT_AMOUNTS, LINE_AMOUNTS
from webapp.backoffice.listing import (
    ListQuery,
    Page,
    Sort,
    date_filter,
    fetch_page,
    order_by,
    paged,
    parse_query,
    text_filter,
    to_decimal,
    where_clause,
    window,
)
from webapp.i18n import N_, gettext
from webapp.store import Store, one, rows

KINDS = {"order": N_("Order"), "delivery": N_("Delivery"), "ticket": N_("Ticket")}
# The source of a document made from a register's ticket (webapp/pos/office.py Register.source).
REGISTER_SOURCE = "pos:"
STATUSES = {"open": N_("open"), "closed": N_("closed"), "cancelled": N_("cancelled")}
DOCUMENT_SORTS = {
    "date": Sort("d.doc_date ASC, d.id ASC", "d.doc_date DESC, d.id DESC"),
}


def _kind_filter(value: str) -> str | None:
    return value if value in KINDS else None


DOCUMENT_FILTERS = {
    "kind": _kind_filter,
    "date_from": date_filter,
    "date_to": date_filter,
    "customer": text_filter,
}
_FILTER_SQL = {
    "kind": "d.kind = ?",
    "date_from": "d.doc_date >= ?",
    # doc_date may carry a time after the day: everything before the next day is in.
    "date_to": "d.doc_date < date(?, '+1 day')",
    "customer": "d.party_id IN"
    " (SELECT id FROM parties WHERE kind IN ('customer', 'supplier') AND code = ?)",
}


def status_label(status: str) -> str:
    """A document's status in the reader's language (an unknown one as it is stored)."""
    return gettext(STATUSES[status]) if status in STATUSES else status


def origin_label(source: str | None, number: str) -> str | None:
    """Where a register's ticket comes from, in words ("Register 2, no. C2-000123"); None for
    other documents, whose source and reference are shown as they are."""
    register = (source or "").removeprefix(REGISTER_SOURCE)
    if not source or register == source or not register.isdigit():
        return None
    return gettext("Register {register}, no. {number}", register=register, number=number)


def parse_document_query(params: Mapping[str, Any]) -> ListQuery:
    return parse_query(params, DOCUMENT_SORTS, "-date", DOCUMENT_FILTERS)


def document_list_sql(query: ListQuery) -> tuple[str, list[Any]]:
    """One page of documents with their customer."""
    where, args = where_clause(query, _FILTER_SQL)
    order = order_by(DOCUMENT_SORTS, query)
    ids = f"SELECT d.id FROM documents d{where} ORDER BY {order}"
    select = (
        "SELECT d.id, d.kind, d.number, d.doc_date, d.status, d.total_excl_vat, d.total_vat,"
        " d.total_incl_vat, d.source, d.external_ref, p.id AS party_id, p.kind AS party_kind,"
        " p.code AS party_code, p.last_name, p.first_name, p.company"
        " FROM {page} JOIN documents d ON d.id = page.id LEFT JOIN parties p ON p.id = d.party_id"
    )
    return paged(ids, select, order), [*args, *window(query)]


def _amounts(row: dict[str, Any], names: tuple[str, ...] = DOCUMENT_AMOUNTS) -> dict[str, Any]:
    for name in names:
        row[name] = to_decimal(row[name])
    return row


def list_documents(store: Store, query: ListQuery) -> Page:
    sql, args = document_list_sql(query)
    with store.read() as db:
        result = fetch_page(db, sql, args, query)
    for row in result.rows:
        _amounts(row)
        row["origin"] = origin_label(row["source"], row["number"])
    return result


def get_document(store: Store, document_id: int) -> dict[str, Any] | None:
    """One document with its company, site, customer, carrier, lines, payments and balance."""
    with store.read() as db:
        row = one(
            db,
            "SELECT d.*, c.name AS company_name, s.name AS site_name, w.name AS warehouse_name,"
            " k.name AS carrier_name, p.kind AS party_kind, p.code AS party_code,"
            " p.last_name, p.first_name, p.company"
            " FROM documents d JOIN companies c ON c.id = d.company_id"
            " LEFT JOIN sites s ON s.id = d.site_id LEFT JOIN warehouses w ON w.id = d.warehouse_id"
            " LEFT JOIN carriers k ON k.id = d.carrier_id LEFT JOIN parties p ON p.id = d.party_id"
            " WHERE d.id = ?",
            [document_id],
        )
        if row is None:
            return None
        lines = rows(
            db,
            "SELECT l.*, a.code AS article_code FROM document_lines l"
            " LEFT JOIN articles a ON a.id = l.article_id WHERE l.document_id = ? ORDER BY l.line_no",
            [document_id],
        )
        payments = rows(
            db,
            "SELECT pay.amount, pay.paid_on, m.code AS method_code, m.label AS method"
            " FROM document_payments pay JOIN payment_methods m ON m.id = pay.payment_method_id"
            " WHERE pay.document_id = ? ORDER BY pay.paid_on, pay.id",
            [document_id],
        )
    document = _amounts(row)
    document["lines"] = [_amounts(line, LINE_AMOUNTS) for line in lines]
    document["payments"] = [_amounts(payment, ("amount",)) for payment in payments]
    paid = sum((payment["amount"] for payment in document["payments"]), Decimal("0"))
    document["paid"] = paid
    document["balance"] = (document["total_incl_vat"] or Decimal("0")) - paid
    return document
