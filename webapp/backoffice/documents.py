"""Orders and deliveries: the one place where a document is checked, numbered, totalled and written.

The e-connector (orders from a web shop) and the register sync (tickets) call
:func:`create_document` inside their own ``store.write()`` transaction. Everything is checked
before anything is written, and the writes run in a savepoint, so a refused document leaves no
trace even when the caller catches the error and commits what else it did.

Rules:

- Numbers come from ``document_sequences`` ("CO000001", "BL000001"), per company and kind, and
  advance in the same transaction as the document: a rolled-back document leaves no gap.
- ``source`` + ``external_ref`` identify a document that came from elsewhere: the same pair is
  never integrated twice (:class:`DuplicateDocument`, or :func:`get_or_create_document`).
- Money is :class:`~decimal.Decimal` with ``ROUND_HALF_UP``. Each line is rounded to the cent,
  the document totals are the sums of the lines and the VAT total is incl. minus excl. For prices
  excluding VAT the line total incl. VAT is derived from the rounded total excl. VAT; for prices
  including VAT (tickets, web shops) the line total incl. VAT is exact and the total excl. VAT is
  derived from it, so the document total is what the customer paid.
- Unit prices are stored excluding VAT with 4 decimals, quantities with 3, totals with 2. The
  database holds them as REAL; they are read back through ``Decimal(str(value))``.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlite_utils import Database

from webapp.clock import now_iso
from webapp.i18n import N_, UserError

KINDS = ("order", "delivery", "ticket")
DEFAULT_PREFIXES = {"order": "CO", "delivery": "BL", "ticket": "TK"}
NUMBER_DIGITS = 6

CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.0001")
QUANTITY_STEP = Decimal("0.001")
TOLERANCE = Decimal("0.01")
# Amounts are stored as REAL, exact to 15 significant digits: cents stay exact below this.
MAX_AMOUNT = Decimal("1e11")
HUNDRED = Decimal(100)


class DocumentError(UserError):
    """A document refused by the checks; the message is an English msgid with its fields."""


class DuplicateDocument(DocumentError):
    """The source + external reference was already integrated: a document is never taken twice."""

    def __init__(self, source: str, external_ref: str, document_id: int, number: str) -> None:
        super().__init__(
            N_("Document {external_ref} from {source} was already integrated as {number}."),
            source=source,
            external_ref=external_ref,
            number=number,
        )
        self.document_id = document_id
        self.number = number


class TotalMismatch(DocumentError):
    """The computed total including VAT is not the one the sender announced."""

    def __init__(self, computed: Decimal, expected: Decimal) -> None:
        super().__init__(
            N_(
                "The computed total including VAT ({computed}) differs from the expected"
                " total ({expected})."
            ),
            computed=str(computed),
            expected=str(expected),
        )
        self.computed = computed
        self.expected = expected


# --- Input -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    """One line. ``unit_price`` excludes or includes VAT as the document's flag says.

    With an article, an empty label, a missing VAT rate or unit are taken from the article.
    """

    label: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal | None = None
    article_id: int | None = None
    unit_code: str | None = None


@dataclass(frozen=True)
class PaymentInput:
    """A payment by method code ("CASH", "CARD", ...); dated the document's date by default."""

    method: str
    amount: Decimal
    paid_on: date | None = None


@dataclass(frozen=True)
class DocumentInput:
    kind: str
    doc_date: date
    lines: Sequence[LineInput]
    party_id: int | None = None
    company_id: int | None = None
    prices_include_vat: bool = False
    payments: Sequence[PaymentInput] = ()
    source: str | None = None
    external_ref: str | None = None
    expected_total_incl_vat: Decimal | None = None
    site_id: int | None = None
    warehouse_id: int | None = None
    carrier_id: int | None = None
    # A number made elsewhere (a register's ticket number); None takes the next of the sequence.
    number: str | None = None


# --- Output ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedDocument:
    id: int
    number: str
    kind: str
    company_id: int
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    created: bool = True


@dataclass(frozen=True)
class DocumentLine:
    line_no: int
    article_id: int | None
    label: str
    quantity: Decimal
    unit_code: str | None
    unit_price_excl_vat: Decimal
    vat_rate: Decimal
    total_excl_vat: Decimal
    total_incl_vat: Decimal


@dataclass(frozen=True)
class DocumentPayment:
    method: str
    method_label: str
    amount: Decimal
    paid_on: date


@dataclass(frozen=True)
class Document:
    id: int
    company_id: int
    kind: str
    number: str
    doc_date: date
    party_id: int | None
    site_id: int | None
    warehouse_id: int | None
    carrier_id: int | None
    status: str
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    source: str | None
    external_ref: str | None
    created_at: str
    lines: tuple[DocumentLine, ...] = field(default=())
    payments: tuple[DocumentPayment, ...] = field(default=())


@dataclass(frozen=True)
class LineTotals:
    unit_price_excl_vat: Decimal
    total_excl_vat: Decimal
    total_incl_vat: Decimal


# --- Money -----------------------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal:
    """A stored REAL (or anything) as the decimal it was written as."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def compute_line(
    quantity: Decimal, unit_price: Decimal, vat_rate: Decimal, *, prices_include_vat: bool
) -> LineTotals:
    """Unit price excl. VAT (4 places) and the line totals excl. and incl. VAT (2 places)."""
    factor = 1 + vat_rate / HUNDRED
    if prices_include_vat:
        total_incl = round_money(quantity * unit_price)
        total_excl = round_money(total_incl / factor)
        price_excl = (unit_price / factor).quantize(PRICE_STEP, rounding=ROUND_HALF_UP)
    else:
        total_excl = round_money(quantity * unit_price)
        total_incl = round_money(total_excl * factor)
        price_excl = unit_price
    return LineTotals(price_excl, total_excl, total_incl)


# --- Checks ----------------------------------------------------------------------------------


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
class CheckedPayment:
    method_id: int
    amount: Decimal
    paid_on: date


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


def _rows(db: Database, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = db.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(db: Database, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    cache = _LOOKUPS.get()
    if cache is not None and sql.startswith(_CACHEABLE):
        key = (sql, tuple(params))
        if key not in cache:
            rows = _rows(db, sql, params)
            cache[key] = rows[0] if rows else None
        found: dict[str, Any] | None = cache[key]
        return found
    rows = _rows(db, sql, params)
    return rows[0] if rows else None


# Reference lookups (articles, VAT rates, units, payment methods) may be remembered for the
# length of a batch that does not change them: a reception of 30,000 documents asks the same few
# hundred questions over and over.
_LOOKUPS: contextvars.ContextVar[dict[tuple[str, tuple[Any, ...]], Any] | None] = (
    contextvars.ContextVar("document_lookups", default=None)
)
_CACHEABLE = (
    "SELECT a.label, u.code AS unit_code, v.rate FROM articles a",
    "SELECT id FROM vat_rates",
    "SELECT code FROM units",
    "SELECT id, active FROM payment_methods",
)


@contextlib.contextmanager
def remembered_lookups() -> Iterator[None]:
    """Within this block, reference lookups are asked once each (the caller changes none)."""
    token = _LOOKUPS.set({})
    try:
        yield
    finally:
        _LOOKUPS.reset(token)


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _company_id(db: Database, company_id: int | None) -> int:
    if company_id is None:
        row = _one(db, "SELECT id FROM companies ORDER BY is_default DESC, id LIMIT 1")
        if row is None:
            raise DocumentError(N_("No company is defined: create one first."))
        return int(row["id"])
    if _one(db, "SELECT id FROM companies WHERE id = ?", [company_id]) is None:
        raise DocumentError(N_("Company {company} does not exist."), company=company_id)
    return company_id


def _exists(db: Database, sql: str, params: Sequence[Any]) -> bool:
    return _one(db, sql, params) is not None


def _check_references(db: Database, data: DocumentInput, company_id: int) -> None:
    if data.kind not in KINDS:
        raise DocumentError(
            N_("Unknown document kind {kind}: expected order, delivery or ticket."), kind=data.kind
        )
    customer = "SELECT id FROM parties WHERE id = ? AND kind = 'customer'"
    if data.party_id is not None and not _exists(db, customer, [data.party_id]):
        raise DocumentError(N_("Customer {customer} does not exist."), customer=data.party_id)
    site = "SELECT id FROM sites WHERE id = ? AND company_id = ?"
    if data.site_id is not None and not _exists(db, site, [data.site_id, company_id]):
        raise DocumentError(
            N_("Site {site} does not belong to company {company}."),
            site=data.site_id,
            company=company_id,
        )
    warehouse = "SELECT id FROM warehouses WHERE id = ?"
    if data.warehouse_id is not None and not _exists(db, warehouse, [data.warehouse_id]):
        raise DocumentError(
            N_("Warehouse {warehouse} does not exist."), warehouse=data.warehouse_id
        )
    carrier = "SELECT id FROM carriers WHERE id = ?"
    if data.carrier_id is not None and not _exists(db, carrier, [data.carrier_id]):
        raise DocumentError(N_("Carrier {carrier} does not exist."), carrier=data.carrier_id)


def _doc_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise DocumentError(N_("The document date is missing or is not a date."))


def _check_origin(data: DocumentInput) -> tuple[str | None, str | None]:
    source, external_ref = _clean(data.source), _clean(data.external_ref)
    if (source is None) != (external_ref is None):
        raise DocumentError(
            N_("A document from elsewhere needs both its source and its external reference.")
        )
    return source, external_ref


def _is_number(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _article(db: Database, line: LineInput, number: int) -> dict[str, Any] | None:
    if line.article_id is None:
        return None
    article = _one(
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
    if not rate.is_finite() or not _one(
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
    row = _one(db, "SELECT code FROM units WHERE code = ?", [code])
    if row is None:
        raise DocumentError(N_("Line {line}: unit {unit} does not exist."), line=number, unit=code)
    return str(row["code"])


def _quantity(line: LineInput, number: int) -> Decimal:
    quantity = line.quantity
    if not _is_number(quantity):
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
    if not _is_number(price):
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
    if abs(totals.total_incl_vat) >= MAX_AMOUNT or abs(totals.total_excl_vat) >= MAX_AMOUNT:
        raise DocumentError(N_("Line {line}: the amount is too large."), line=number)
    unit = _unit_code(db, line, article, number)
    return CheckedLine(number, line.article_id, label, quantity, unit, rate, totals)


def _check_payment(
    db: Database, payment: PaymentInput, number: int, doc_date: date
) -> CheckedPayment:
    method = _one(
        db,
        "SELECT id, active FROM payment_methods WHERE code = ?",
        [(payment.method or "").strip()],
    )
    if method is None:
        raise DocumentError(
            N_("Payment {payment}: unknown payment method {method}."),
            payment=number,
            method=payment.method,
        )
    if not method["active"]:
        raise DocumentError(
            N_("Payment {payment}: the payment method {method} is no longer in use."),
            payment=number,
            method=payment.method,
        )
    amount = payment.amount
    if not _is_number(amount) or round_money(amount) == 0:
        raise DocumentError(
            N_("Payment {payment}: the amount must be a number other than zero."), payment=number
        )
    paid_on = doc_date if payment.paid_on is None else payment.paid_on
    if not isinstance(paid_on, date):
        raise DocumentError(N_("Payment {payment}: the date is not a date."), payment=number)
    if isinstance(paid_on, datetime):
        paid_on = paid_on.date()
    return CheckedPayment(int(method["id"]), round_money(amount), paid_on)


def _check_totals(total: Decimal, payments: list[CheckedPayment], expected: Decimal | None) -> None:
    if expected is not None and abs(total - expected) > TOLERANCE:
        raise TotalMismatch(total, expected)
    paid = sum((payment.amount for payment in payments), Decimal("0.00"))
    if paid * total < 0:
        raise DocumentError(
            N_("The payments ({paid}) and the document total ({total}) have opposite signs."),
            paid=str(paid),
            total=str(total),
        )
    if abs(paid) > abs(total):
        raise DocumentError(
            N_("The payments ({paid}) exceed the document total including VAT ({total})."),
            paid=str(paid),
            total=str(total),
        )


def check_document(db: Database, data: DocumentInput) -> CheckedDocument:
    """Every check of :func:`create_document`, without writing anything."""
    company_id = _company_id(db, data.company_id)
    doc_date = _doc_date(data.doc_date)
    _check_references(db, data, company_id)
    source, external_ref = _check_origin(data)
    if source is not None and external_ref is not None:
        existing = find_document(db, source, external_ref)
        if existing is not None:
            raise DuplicateDocument(source, external_ref, existing.id, existing.number)
    if not data.lines:
        raise DocumentError(N_("A document needs at least one line."))
    lines = [
        _check_line(db, line, number, data.prices_include_vat)
        for number, line in enumerate(data.lines, start=1)
    ]
    payments = [
        _check_payment(db, payment, number, doc_date)
        for number, payment in enumerate(data.payments, start=1)
    ]
    total_excl = sum((line.totals.total_excl_vat for line in lines), Decimal("0.00"))
    total_incl = sum((line.totals.total_incl_vat for line in lines), Decimal("0.00"))
    _check_totals(total_incl, payments, data.expected_total_incl_vat)
    return CheckedDocument(
        company_id, doc_date, source, external_ref, lines, payments, total_excl, total_incl
    )


# --- Writing ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _savepoint(db: Database, name: str) -> Iterator[None]:
    db.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        db.execute(f"ROLLBACK TO {name}")
        db.execute(f"RELEASE {name}")
        raise
    db.execute(f"RELEASE {name}")


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}{value:0{NUMBER_DIGITS}d}"


def _next_number(db: Database, company_id: int, kind: str) -> str:
    row = _one(
        db,
        "UPDATE document_sequences SET next_value = next_value + 1"
        " WHERE company_id = ? AND kind = ? RETURNING prefix, next_value - 1 AS value",
        [company_id, kind],
    )
    if row is None:
        prefix = DEFAULT_PREFIXES[kind]
        db.execute(
            "INSERT INTO document_sequences (company_id, kind, prefix, next_value)"
            " VALUES (?, ?, ?, 2)",
            [company_id, kind, prefix],
        )
        return format_number(prefix, 1)
    return format_number(str(row["prefix"]), int(row["value"]))


def _insert_header(db: Database, data: DocumentInput, checked: CheckedDocument, number: str) -> int:
    row = _one(
        db,
        "INSERT INTO documents (company_id, site_id, kind, number, doc_date, party_id,"
        " carrier_id, warehouse_id, total_excl_vat, total_vat, total_incl_vat, source,"
        " external_ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING id",
        [
            checked.company_id,
            data.site_id,
            data.kind,
            number,
            checked.doc_date.isoformat(),
            data.party_id,
            data.carrier_id,
            data.warehouse_id,
            float(checked.total_excl_vat),
            float(checked.total_vat),
            float(checked.total_incl_vat),
            checked.source,
            checked.external_ref,
            now_iso(),
        ],
    )
    assert row is not None  # RETURNING always yields the inserted row
    return int(row["id"])


def _insert_lines(db: Database, document_id: int, lines: list[CheckedLine]) -> None:
    db.conn.executemany(
        "INSERT INTO document_lines (document_id, line_no, article_id, label, quantity,"
        " unit_code, unit_price_excl_vat, vat_rate, total_excl_vat, total_incl_vat)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                document_id,
                line.line_no,
                line.article_id,
                line.label,
                float(line.quantity),
                line.unit_code,
                float(line.totals.unit_price_excl_vat),
                float(line.vat_rate),
                float(line.totals.total_excl_vat),
                float(line.totals.total_incl_vat),
            )
            for line in lines
        ],
    )


def _insert_payments(db: Database, document_id: int, payments: list[CheckedPayment]) -> None:
    for payment in payments:
        db.execute(
            "INSERT INTO document_payments (document_id, payment_method_id, amount, paid_on)"
            " VALUES (?, ?, ?, ?)",
            [document_id, payment.method_id, float(payment.amount), payment.paid_on.isoformat()],
        )


def create_document(db: Database, data: DocumentInput) -> CreatedDocument:
    """Check, number and write one document in the caller's transaction.

    Raises :class:`DocumentError` (or its :class:`DuplicateDocument` and :class:`TotalMismatch`)
    with nothing written.
    """
    checked = check_document(db, data)
    with _savepoint(db, "create_document"):
        number = data.number or _next_number(db, checked.company_id, data.kind)
        document_id = _insert_header(db, data, checked, number)
        _insert_lines(db, document_id, checked.lines)
        _insert_payments(db, document_id, checked.payments)
    return CreatedDocument(
        id=document_id,
        number=number,
        kind=data.kind,
        company_id=checked.company_id,
        total_excl_vat=checked.total_excl_vat,
        total_vat=checked.total_vat,
        total_incl_vat=checked.total_incl_vat,
    )


def get_or_create_document(db: Database, data: DocumentInput) -> CreatedDocument:
    """Like :func:`create_document`, but a source + reference already integrated returns the
    existing document (``created`` is False) instead of raising."""
    source, external_ref = _check_origin(data)
    if source is not None and external_ref is not None:
        existing = find_document(db, source, external_ref)
        if existing is not None:
            return CreatedDocument(
                id=existing.id,
                number=existing.number,
                kind=existing.kind,
                company_id=existing.company_id,
                total_excl_vat=existing.total_excl_vat,
                total_vat=existing.total_vat,
                total_incl_vat=existing.total_incl_vat,
                created=False,
            )
    return create_document(db, data)


# --- Reading and deleting --------------------------------------------------------------------

_HEADER_SQL = (
    "SELECT id, company_id, kind, number, doc_date, party_id, site_id, warehouse_id, carrier_id,"
    " status, total_excl_vat, total_vat, total_incl_vat, source, external_ref, created_at"
    " FROM documents"
)


def _lines_of(db: Database, document_id: int) -> tuple[DocumentLine, ...]:
    rows = _rows(
        db,
        "SELECT line_no, article_id, label, quantity, unit_code, unit_price_excl_vat, vat_rate,"
        " total_excl_vat, total_incl_vat FROM document_lines WHERE document_id = ?"
        " ORDER BY line_no",
        [document_id],
    )
    money = ("quantity", "unit_price_excl_vat", "vat_rate", "total_excl_vat", "total_incl_vat")
    return tuple(
        DocumentLine(**{**row, **{key: to_decimal(row[key]) for key in money}}) for row in rows
    )


def _payments_of(db: Database, document_id: int) -> tuple[DocumentPayment, ...]:
    rows = _rows(
        db,
        "SELECT m.code, m.label, p.amount, p.paid_on FROM document_payments p"
        " JOIN payment_methods m ON m.id = p.payment_method_id WHERE p.document_id = ?"
        " ORDER BY p.id",
        [document_id],
    )
    return tuple(
        DocumentPayment(
            method=row["code"],
            method_label=row["label"],
            amount=to_decimal(row["amount"]),
            paid_on=date.fromisoformat(row["paid_on"]),
        )
        for row in rows
    )


def _document(db: Database, row: dict[str, Any] | None) -> Document | None:
    if row is None:
        return None
    money = {key: to_decimal(row[key]) for key in ("total_excl_vat", "total_vat", "total_incl_vat")}
    return Document(
        **{**row, **money, "doc_date": date.fromisoformat(row["doc_date"])},
        lines=_lines_of(db, row["id"]),
        payments=_payments_of(db, row["id"]),
    )


def get_document(db: Database, document_id: int) -> Document | None:
    """A document with its lines and payments, or None."""
    return _document(db, _one(db, f"{_HEADER_SQL} WHERE id = ?", [document_id]))


def find_document(db: Database, source: str, external_ref: str) -> Document | None:
    """The document integrated from ``source`` under ``external_ref``, or None."""
    return _document(
        db,
        _one(db, f"{_HEADER_SQL} WHERE source = ? AND external_ref = ?", [source, external_ref]),
    )


def delete_document(db: Database, document_id: int) -> None:
    """Delete a document, its lines and payments; only the latest of its numbering sequence, so
    that numbers keep having no gaps (its number is given again to the next document)."""
    document = _one(
        db, "SELECT company_id, kind, number FROM documents WHERE id = ?", [document_id]
    )
    if document is None:
        raise DocumentError(N_("Document {document} does not exist."), document=document_id)
    sequence = _one(
        db,
        "SELECT prefix, next_value FROM document_sequences WHERE company_id = ? AND kind = ?",
        [document["company_id"], document["kind"]],
    )
    latest = format_number(sequence["prefix"], sequence["next_value"] - 1) if sequence else None
    if document["number"] != latest:
        raise DocumentError(
            N_(
                "Document {number} cannot be deleted: only the latest one of its numbering"
                " ({latest}) can be, so that numbers have no gaps."
            ),
            number=document["number"],
            latest=latest or "-",
        )
    with _savepoint(db, "delete_document"):
        db.execute("DELETE FROM document_payments WHERE document_id = ?", [document_id])
        db.execute("DELETE FROM document_lines WHERE document_id = ?", [document_id])
        db.execute("DELETE FROM documents WHERE id = ?", [document_id])
        db.execute(
            "UPDATE document_sequences SET next_value = next_value - 1"
            " WHERE company_id = ? AND kind = ?",
            [document["company_id"], document["kind"]],
        )
