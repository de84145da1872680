"""Every check of a document before anything is written: references, origin, lines, totals.

Unit prices are kept excluding VAT with 4 decimals, quantities with 3, totals with 2 (see
:mod:`webapp.backoffice.document_totals`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlite_utils import Database

from webapp.backoffice.document_lookups import lookup
from webapp.backoffice.document_payments import CheckedPayment, check_paid_total, check_payment
from webapp.backoffice.document_totals import (
    PRICE_STEP,
    QUANTITY_STEP,
    TOLERANCE,
    LineTotals,
    compute_line,
    is_amount_too_large,
    is_number,
    sum_money,
    to_decimal,
)
from webapp.backoffice.document_types import (
    KINDS,
    DocumentError,
    DocumentInput,
    DuplicateDocument,
    LineInput,
    TotalMismatch,
)
from webapp.i18n import N_
from webapp.store import one


@dataclass(frozen=True)
class CheckedLine:
    line_no: int
    article_id: int | None
    label: str
    quantity: Decimal
    unit_code: str | None
    vat_rate: Decimal
    totals: LineTotals


@dataclass(frozen=True)
class CheckedDocument:
    company_id: int
    doc_date: date
    source: str | None
    external_ref: str | None
    lines: list[CheckedLine]
    payments: list[CheckedPayment]
    total_excl_vat: Decimal
    total_incl_vat: Decimal

    @property
    def total_vat(self) -> Decimal:
        return self.total_incl_vat - self.total_excl_vat


@dataclass
class BatchReferences:
    """What a batch of documents asks once rather than once per document: the companies, parties,
    sites, warehouses and carriers it names (the batch changes none of them), and, with
    ``origins_new``, that no document of the office has the source and reference of one of its
    documents (the caller asked that for the whole batch, and gives each reference once)."""

    origins_new: bool = False
    answers: dict[tuple[str, tuple[Any, ...]], dict[str, Any] | None] = field(default_factory=dict)
    # A line checked once per batch: a till sells the same article at the same price all day, and
    # nothing a line's check reads (its article, VAT rate, unit) changes within the batch.
    lines: dict[tuple[Any, ...], CheckedLine] = field(default_factory=dict)

    def one(self, db: Database, sql: str, params: list[Any]) -> dict[str, Any] | None:
        key = (sql, tuple(params))
        if key not in self.answers:
            self.answers[key] = one(db, sql, params)
        return self.answers[key]


def _one(
    db: Database, sql: str, params: list[Any], batch: BatchReferences | None
) -> dict[str, Any] | None:
    return one(db, sql, params) if batch is None else batch.one(db, sql, params)


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _company_id(db: Database, company_id: int | None, batch: BatchReferences | None = None) -> int:
    if company_id is None:
        row = _one(db, "SELECT id FROM companies ORDER BY is_default DESC, id LIMIT 1", [], batch)
        if row is None:
            raise DocumentError(N_("No company is defined: create one first."))
        return int(row["id"])
    if _one(db, "SELECT id FROM companies WHERE id = ?", [company_id], batch) is None:
        raise DocumentError(N_("Company {company} does not exist."), company=company_id)
    return company_id


def _exists(db: Database, sql: str, params: list[Any], batch: BatchReferences | None) -> bool:
    return _one(db, sql, params, batch) is not None


def _check_references(
    db: Database, data: DocumentInput, company_id: int, batch: BatchReferences | None = None
) -> None:
    if data.kind not in KINDS:
        raise DocumentError(
            N_("Unknown document kind {kind}: expected order, delivery or ticket."), kind=data.kind
        )
    customer = "SELECT id FROM parties WHERE id = ? AND kind = 'customer'"
    if data.party_id is not None and not _exists(db, customer, [data.party_id], batch):
        raise DocumentError(N_("Customer {customer} does not exist."), customer=data.party_id)
    site = "SELECT id FROM sites WHERE id = ? AND company_id = ?"
    if data.site_id is not None and not _exists(db, site, [data.site_id, company_id], batch):
        raise DocumentError(
            N_("Site {site} does not belong to company {company}."),
            site=data.site_id,
            company=company_id,
        )
    warehouse = "SELECT id FROM warehouses WHERE id = ?"
    if data.warehouse_id is not None and not _exists(db, warehouse, [data.warehouse_id], batch):
        raise DocumentError(
            N_("Warehouse {warehouse} does not exist."), warehouse=data.warehouse_id
        )
    carrier = "SELECT id FROM carriers WHERE id = ?"
    if data.carrier_id is not None and not _exists(db, carrier, [data.carrier_id], batch):
        raise DocumentError(N_("Carrier {carrier} does not exist."), carrier=data.carrier_id)


def _doc_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise DocumentError(N_("The document date is missing or is not a date."))


def check_origin(data: DocumentInput) -> tuple[str | None, str | None]:
    """The source and external reference, both given or both None."""
    source, external_ref = _clean(data.source), _clean(data.external_ref)
    if (source is None) != (external_ref is None):
        raise DocumentError(
            N_("A document from elsewhere needs both its source and its external reference.")
        )
    return source, external_ref


def _check_not_integrated(db: Database, source: str, external_ref: str) -> None:
    existing = one(
        db,
        "SELECT id, number FROM documents WHERE source = ? AND external_ref = ?",
        [source, external_ref],
    )
    if existing is not None:
        raise DuplicateDocument(source, external_ref, int(existing["id"]), existing["number"])


def _article(db: Database, line: LineInput, number: int) -> dict[str, Any] | None:
    if line.article_id is None:
        return None
    article = lookup(
        db,
        "SELECT a.label, u.code AS unit_code, v.rate FROM articles a"
        " JOIN units u ON u.id = a.unit_id JOIN vat_rates v ON v.id = a.vat_rate_id"
        " WHERE a.id = ?",
        [line.article_id],
    )
    if article is None:
        raise DocumentError(
            N_("Line {line}: article {article} does not exist."),
            line=number,
            article=line.article_id,
        )
    return article


def _vat_rate(
    db: Database, line: LineInput, article: dict[str, Any] | None, number: int
) -> Decimal:
    if line.vat_rate is None:
        if article is None:
            raise DocumentError(N_("Line {line}: the VAT rate is missing."), line=number)
        return to_decimal(article["rate"])
    rate = line.vat_rate
    if not rate.is_finite() or not lookup(
        db, "SELECT id FROM vat_rates WHERE abs(rate - ?) < 0.00001", [float(rate)]
    ):
        raise DocumentError(
            N_("Line {line}: the VAT rate {rate} % is not in the VAT rates table."),
            line=number,
            rate=str(rate),
        )
    return rate


def _unit_code(
    db: Database, line: LineInput, article: dict[str, Any] | None, number: int
) -> str | None:
    code = _clean(line.unit_code)
    if code is None:
        return None if article is None else str(article["unit_code"])
    row = lookup(db, "SELECT code FROM units WHERE code = ?", [code])
    if row is None:
        raise DocumentError(N_("Line {line}: unit {unit} does not exist."), line=number, unit=code)
    return str(row["code"])


def _quantity(line: LineInput, number: int) -> Decimal:
    quantity = line.quantity
    if not is_number(quantity):
        raise DocumentError(N_("Line {line}: the quantity is not a number."), line=number)
    if quantity != quantity.quantize(QUANTITY_STEP):
        raise DocumentError(
            N_("Line {line}: the quantity {quantity} has more than 3 decimals."),
            line=number,
            quantity=str(quantity),
        )
    if quantity == 0:
        raise DocumentError(N_("Line {line}: the quantity must not be zero."), line=number)
    return quantity


def _unit_price(line: LineInput, number: int) -> Decimal:
    price = line.unit_price
    if not is_number(price):
        raise DocumentError(N_("Line {line}: the unit price is not a number."), line=number)
    if price < 0:
        raise DocumentError(
            N_("Line {line}: the unit price must not be negative ({price})."),
            line=number,
            price=str(price),
        )
    return price.quantize(PRICE_STEP, rounding=ROUND_HALF_UP)


def _check_line(
    db: Database, line: LineInput, number: int, prices_include_vat: bool
) -> CheckedLine:
    quantity = _quantity(line, number)
    price = _unit_price(line, number)
    article = _article(db, line, number)
    label = (line.label or "").strip() or (str(article["label"]) if article else "")
    if not label:
        raise DocumentError(N_("Line {line}: the label is missing."), line=number)
    rate = _vat_rate(db, line, article, number)
    totals = compute_line(quantity, price, rate, prices_include_vat=prices_include_vat)
    if is_amount_too_large(totals):
        raise DocumentError(N_("Line {line}: the amount is too large."), line=number)
    unit = _unit_code(db, line, article, number)
    return CheckedLine(number, line.article_id, label, quantity, unit, rate, totals)


def _batch_line(
    db: Database,
    line: LineInput,
    number: int,
    prices_include_vat: bool,
    batch: BatchReferences | None,
) -> CheckedLine:
    """A line checked, or its twin's check in the same batch (only passed checks are kept)."""
    if batch is None:
        return _check_line(db, line, number, prices_include_vat)
    # Decimals by their text: 1 and 1.0 are equal but are not stored the same.
    key = (
        line.label,
        str(line.quantity),
        str(line.unit_price),
        None if line.vat_rate is None else str(line.vat_rate),
        line.article_id,
        line.unit_code,
        prices_include_vat,
    )
    checked = batch.lines.get(key)
    if checked is None:
        checked = batch.lines[key] = _check_line(db, line, number, prices_include_vat)
    return checked if checked.line_no == number else replace(checked, line_no=number)


def check_document(
    db: Database, data: DocumentInput, batch: BatchReferences | None = None
) -> CheckedDocument:
    """Every check of :func:`~webapp.backoffice.documents.create_document`, writing nothing;
    ``batch`` remembers the references of a batch's documents (see :class:`BatchReferences`)."""
    company_id = _company_id(db, data.company_id, batch)
    doc_date = _doc_date(data.doc_date)
    _check_references(db, data, company_id, batch)
    source, external_ref = check_origin(data)
    origins_new = batch is not None and batch.origins_new
    if source is not None and external_ref is not None and not origins_new:
        _check_not_integrated(db, source, external_ref)
    if not data.lines:
        raise DocumentError(N_("A document needs at least one line."))
    lines = [
        _batch_line(db, line, number, data.prices_include_vat, batch)
        for number, line in enumerate(data.lines, start=1)
    ]
    payments = [
        check_payment(db, payment, number, doc_date)
        for number, payment in enumerate(data.payments, start=1)
    ]
    total_excl = sum_money(line.totals.total_excl_vat for line in lines)
    total_incl = sum_money(line.totals.total_incl_vat for line in lines)
    expected = data.expected_total_incl_vat
    if expected is not None and abs(total_incl - expected) > TOLERANCE:
        raise TotalMismatch(total_incl, expected)
    check_paid_total(payments, total_incl)
    return CheckedDocument(
        company_id, doc_date, source, external_ref, lines, payments, total_excl, total_incl
    )
