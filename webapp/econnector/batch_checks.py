"""The checks of create_document for a received document, without a query per document.

A chunk of received documents is checked against reference answers asked once per distinct value
(an article, a VAT rate, a unit, a payment method) and once per chunk (the connector's company,
site and carrier): the same rules, in the same order, with the same messages as
:func:`webapp.backoffice.document_checks.check_document`, so a document refused one way is refused
the other way for the same reason, and its totals are the same Decimals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from webapp.backoffice import document_checks as checks
from webapp.backoffice.document_payments import CheckedPayment, check_paid_total, check_payment
from webapp.backoffice.document_totals import (
    MAX_AMOUNT,
    TOLERANCE,
    LineTotals,
    compute_line,
    is_amount_too_large,
)
from webapp.backoffice.document_types import (
    DocumentError,
    DocumentInput,
    LineInput,
    PaymentInput,
    TotalMismatch,
)
from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import SourceDocument, SourceLine
from webapp.i18n import N_
from webapp.store import one

AMOUNTS_KEPT = 16_384
_UNKNOWN: Any = object()


@dataclass(frozen=True)
class CheckedReceived:
    """A received document that create_document would accept, with what it would write."""

    doc_date: Any
    lines: list[ReceivedLine]
    payments: list[CheckedPayment]
    total_excl_vat: Decimal
    total_incl_vat: Decimal

    @property
    def total_vat(self) -> Decimal:
        return self.total_incl_vat - self.total_excl_vat


# A line's amounts: its totals excl. and incl. VAT in cents (what the document's totals sum), and
# the numbers stored (quantity, unit price excl. VAT, VAT rate, totals excl. and incl. VAT) as the
# REALs the per-document path writes. A plain tuple: there is one per line of the file.
Amounts = tuple[int, int, tuple[float, float, float, float, float]]

# compute_line's limit on a line's amounts (is_amount_too_large), in cents.
MAX_CENTS = int(MAX_AMOUNT * 100)


# A received line with its article, VAT rate and unit resolved from the outside codes.
Resolved = tuple[SourceLine, int, Decimal, str | None]


# A checked line: (line number, article id, label, unit code, amounts), what
# document_checks.CheckedLine holds; a plain tuple, as there is one per line of the file.
ReceivedLine = tuple[int, int | None, str, str | None, Amounts]


class ReferenceAnswers:
    """Articles, VAT rates and units asked once each for the whole reception (a reception changes
    none of them)."""

    def __init__(self) -> None:
        self.articles: dict[int, dict[str, Any] | None] = {}
        self.rates: dict[Decimal, bool] = {}
        self.units: dict[str, str | None] = {}
        self.amounts: dict[tuple[Any, Any, Any], Amounts] = {}
        # A quantity, a price and a rate as whole units, cents and hundredths (None: not so).
        self.scaled: dict[Decimal, int | None] = {}
        self.cents: dict[Decimal, int | None] = {}
        self.hundredths: dict[Decimal, tuple[int | None, float]] = {}  # and as stored
        # (article, label, unit) → (label, unit code) of lines that passed
        self.described: dict[tuple[int, str, str | None], tuple[str, str | None]] = {}
        self.quantities: set[Decimal] = set()  # quantities that passed
        self.prices: dict[Decimal, Decimal] = {}  # prices that passed → as stored (4 places)
        # The outside codes of the file, resolved (Resolver's answers, asked once each).
        self.outside_articles: dict[tuple[str, str], int | None] = {}
        self.outside_rates: dict[str, Decimal | None] = {}
        self.outside_units: dict[str, str | None] = {}
        self.outside_countries: dict[str, str | None] = {}

    def amounts_of(self, quantity: Decimal, price: Decimal, rate: Decimal) -> Amounts | None:
        """A line's amounts when its quantity, price and rate each passed before, computed as
        compute_line does; None when one did not, or when the amount is too large."""
        stored_price = self.prices.get(price)
        if stored_price is None or quantity not in self.quantities or not self.rates.get(rate):
            return None
        amounts = self._in_integers(quantity, stored_price, rate) or _computed(
            quantity, stored_price, rate
        )
        if amounts is not None:
            self.remember((quantity, price, rate), amounts)
        return amounts

    def _in_integers(self, quantity: Decimal, price: Decimal, rate: Decimal) -> Amounts | None:
        """compute_line(prices_include_vat=True) in integers for the usual line (a whole
        positive quantity, a positive price in cents, a rate in hundredths of a percent): the same
        numbers, rounded half up as the Decimals are, at a tenth of the cost; None for any other
        line (compute_line's then)."""
        count = self.scaled.get(quantity, _UNKNOWN)
        if count is _UNKNOWN:
            count = self.scaled[quantity] = _scaled(quantity, 0)
        cents = self.cents.get(price, _UNKNOWN)
        if cents is _UNKNOWN:
            cents = self.cents[price] = _scaled(price, 2)
        known = self.hundredths.get(rate)
        if known is None:
            known = self.hundredths[rate] = (_scaled(rate, 2, minimum=0), float(rate))
        hundredths, stored_rate = known
        if count is None or cents is None or hundredths is None:
            return None
        incl = count * cents
        if incl >= MAX_CENTS:
            return None
        divisor = 10_000 + hundredths  # 1 + rate / 100, in ten-thousandths
        excl = _half_up(incl * 10_000, divisor)
        price_excl = _half_up(cents * 1_000_000, divisor)  # 4 places
        return (
            excl,
            incl,
            (float(count), price_excl / 10_000, stored_rate, excl / 100, incl / 100),
        )

    def remember(self, key: tuple[Any, Any, Any], amounts: Amounts) -> None:
        for kept in (self.amounts, self.scaled, self.cents):
            if len(kept) >= AMOUNTS_KEPT:  # bounded: memory stays flat in the file size
                kept.clear()
        self.amounts[key] = amounts

    def passed(
        self, resolved: Resolved, label: str, unit: str | None, quantity: Decimal, price: Decimal
    ) -> None:
        """A line passed every check: its sides are known good for the next lines."""
        for kept in (self.described, self.quantities, self.prices):
            if len(kept) >= AMOUNTS_KEPT:  # each bounded apart (amounts fills fastest)
                kept.clear()
        source, article_id, _rate, unit_code = resolved
        self.described[(article_id, source.label, unit_code)] = (label, unit)
        self.quantities.add(quantity)
        self.prices[source.unit_price_incl_vat] = price

    def article(self, db: Database, article_id: int) -> dict[str, Any] | None:
        if article_id not in self.articles:
            self.articles[article_id] = one(
                db,
                "SELECT a.label, u.code AS unit_code, v.rate FROM articles a"
                " JOIN units u ON u.id = a.unit_id JOIN vat_rates v ON v.id = a.vat_rate_id"
                " WHERE a.id = ?",
                [article_id],
            )
        return self.articles[article_id]

    def rate_exists(self, db: Database, rate: Decimal) -> bool:
        if rate not in self.rates:
            found = one(db, "SELECT id FROM vat_rates WHERE abs(rate - ?) < 0.00001", [float(rate)])
            self.rates[rate] = found is not None
        return self.rates[rate]

    def unit(self, db: Database, code: str) -> str | None:
        if code not in self.units:
            row = one(db, "SELECT code FROM units WHERE code = ?", [code])
            self.units[code] = None if row is None else str(row["code"])
        return self.units[code]


def connector_problem(db: Database, connector: Connector) -> tuple[int, DocumentError | None]:
    """The company documents go to, and the refusal every document would meet (the connector's
    company, kind, site or carrier gone): asked once per chunk."""
    data = DocumentInput(
        kind=connector.doc_type,
        doc_date=date.min,  # not checked here: only the references are
        lines=[],
        company_id=connector.company_id,
        site_id=connector.site_id,
        carrier_id=connector.carrier_id,
    )
    try:
        company_id = checks._company_id(db, connector.company_id)
        checks._check_references(db, data, company_id)
    except DocumentError as refused:
        return 0, _kept(refused)
    return company_id, None


@dataclass(frozen=True)
class Outcome:
    """check_document's answer for a received document, found outside the write lock. The
    refusal as a duplicate comes in between (asked of the database for a whole chunk, under the
    lock): `before` is a refusal that precedes it, `after` the document or a refusal that follows
    it."""

    before: DocumentError | None
    after: CheckedReceived | DocumentError | None

    def result(self, duplicate: DocumentError | None) -> CheckedReceived | DocumentError:
        if self.before is not None:
            return self.before
        if duplicate is not None:
            return duplicate
        assert self.after is not None
        return self.after


def check_received(
    db: Database,
    answers: ReferenceAnswers,
    connector: Connector,
    document: SourceDocument,
    lines: list[Resolved],
) -> Outcome:
    """check_document's rules after its references (checked by connector_problem), on any
    connection (only reference tables are read)."""
    try:
        doc_date = checks._doc_date(document.header["doc_date"])
        if not (document.doc_ref or "").strip():
            raise DocumentError(
                N_("A document from elsewhere needs both its source and its external reference.")
            )
    except DocumentError as refused:
        return Outcome(_kept(refused), None)
    try:
        return Outcome(None, _check_rest(db, answers, connector, document, lines, doc_date))
    except DocumentError as refused:
        return Outcome(None, _kept(refused))


def _kept(refused: DocumentError) -> DocumentError:
    """The refusal without its traceback (whose frames hold the chunk that holds the refusal: a
    cycle only the collector frees, see webapp/collection.py), kept until the chunk is written."""
    return refused.with_traceback(None)


def _check_rest(
    db: Database,
    answers: ReferenceAnswers,
    connector: Connector,
    document: SourceDocument,
    lines: list[Resolved],
    doc_date: date,
) -> CheckedReceived:
    if not lines:
        raise DocumentError(N_("A document needs at least one line."))
    checked = [_line(db, answers, line, number) for number, line in enumerate(lines, start=1)]
    total = document.header["total_incl_vat"]
    payments = []
    if connector.generate_payment:
        method = str(document.header.get("payment_method") or "CASH")
        payments = [check_payment(db, PaymentInput(method=method, amount=total), 1, doc_date)]
    # sum_money's Decimals (two places), from the lines' cents
    total_excl = Decimal(sum([line[4][0] for line in checked])).scaleb(-2)
    total_incl = Decimal(sum([line[4][1] for line in checked])).scaleb(-2)
    if total is not None and abs(total_incl - total) > TOLERANCE:
        raise TotalMismatch(total_incl, total)
    check_paid_total(payments, total_incl)
    return CheckedReceived(doc_date, checked, payments, total_excl, total_incl)


def _line(db: Database, answers: ReferenceAnswers, line: Resolved, number: int) -> ReceivedLine:
    """document_checks._check_line. Its checks are of (quantity, price, VAT rate) on one side
    and of (article, label, unit) on the other: a line whose two sides both passed before passes,
    with the same results; any other goes through every check, in check_document's order."""
    source, article_id, rate, unit_code = line
    described = answers.described.get((article_id, source.label, unit_code))
    if described is not None:
        quantity, price = source.quantity, source.unit_price_incl_vat
        amounts = answers.amounts.get((quantity, price, rate)) or answers.amounts_of(
            quantity, price, rate
        )
        if amounts is not None:
            return (number, article_id, described[0], described[1], amounts)
    return _checked_line(db, answers, line, number)


def _checked_line(
    db: Database, answers: ReferenceAnswers, resolved: Resolved, number: int
) -> ReceivedLine:
    source, article_id, vat_rate, unit_code = resolved
    line = LineInput(
        label=source.label,
        quantity=source.quantity,
        unit_price=source.unit_price_incl_vat,
        vat_rate=vat_rate,
        article_id=article_id,
        unit_code=unit_code,
    )
    quantity = checks._quantity(line, number)
    price = checks._unit_price(line, number)
    article = _article(db, answers, line, number)
    label = (line.label or "").strip() or (str(article["label"]) if article else "")
    if not label:
        raise DocumentError(N_("Line {line}: the label is missing."), line=number)
    rate = _rate(db, answers, line, article, number)
    totals = compute_line(quantity, price, rate, prices_include_vat=True)
    if is_amount_too_large(totals):
        raise DocumentError(N_("Line {line}: the amount is too large."), line=number)
    unit = _unit(db, answers, line, article, number)
    amounts = _amounts(quantity, rate, totals)
    answers.remember((source.quantity, source.unit_price_incl_vat, vat_rate), amounts)
    answers.passed(resolved, label, unit, quantity, price)
    return (number, article_id, label, unit, amounts)


def _computed(quantity: Decimal, price: Decimal, rate: Decimal) -> Amounts | None:
    """compute_line's amounts; None when they are too large."""
    totals = compute_line(quantity, price, rate, prices_include_vat=True)
    if is_amount_too_large(totals):
        return None
    return _amounts(quantity, rate, totals)


def _amounts(quantity: Decimal, rate: Decimal, totals: LineTotals) -> Amounts:
    stored = (
        float(quantity),
        float(totals.unit_price_excl_vat),
        float(rate),
        float(totals.total_excl_vat),
        float(totals.total_incl_vat),
    )
    return (_cents(totals.total_excl_vat), _cents(totals.total_incl_vat), stored)


def _cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))  # an amount rounded to the cent: exact


def _scaled(value: Decimal, places: int, minimum: int = 1) -> int | None:
    """value × 10^places when it is a whole number of at least `minimum`, else None."""
    if not value.is_finite():
        return None
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value() or scaled < minimum:
        return None
    return int(scaled)


def _half_up(numerator: int, divisor: int) -> int:
    """numerator / divisor rounded half up, for positive numbers (quantize's ROUND_HALF_UP on
    the exact quotient: the Decimal division's 28 digits are far more than a cent needs)."""
    quotient, rest = divmod(numerator, divisor)
    return quotient + (2 * rest >= divisor)


def _article(
    db: Database, answers: ReferenceAnswers, line: LineInput, number: int
) -> dict[str, Any] | None:
    if line.article_id is None:
        return None
    article = answers.article(db, line.article_id)
    if article is None:
        raise DocumentError(
            N_("Line {line}: article {article} does not exist."),
            line=number,
            article=line.article_id,
        )
    return article


def _rate(
    db: Database,
    answers: ReferenceAnswers,
    line: LineInput,
    article: dict[str, Any] | None,
    number: int,
) -> Decimal:
    if line.vat_rate is None:
        if article is None:
            raise DocumentError(N_("Line {line}: the VAT rate is missing."), line=number)
        return Decimal(str(article["rate"]))
    rate = line.vat_rate
    if not rate.is_finite() or not answers.rate_exists(db, rate):
        raise DocumentError(
            N_("Line {line}: the VAT rate {rate} % is not in the VAT rates table."),
            line=number,
            rate=str(rate),
        )
    return rate


def _unit(
    db: Database,
    answers: ReferenceAnswers,
    line: LineInput,
    article: dict[str, Any] | None,
    number: int,
) -> str | None:
    code = (line.unit_code or "").strip() or None
    if code is None:
        return None if article is None else str(article["unit_code"])
    found = answers.unit(db, code)
    if found is None:
        raise DocumentError(N_("Line {line}: unit {unit} does not exist."), line=number, unit=code)
    return found
