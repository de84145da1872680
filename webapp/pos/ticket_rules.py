"""What a ticket may carry: ONE set of rules for both roles.

The register checks every ticket with :func:`check_ticket` before it records it (sales screen,
local API, `relais pos sell`), and the office checks every pushed ticket with the same function
before it applies it. So a ticket the register accepts is never refused by the office for its
values — only for data the two sides may see differently (an article deleted meanwhile).

Numbers go through :func:`webapp.numbers.parse_decimal` (no exponent, NaN, `_` separators), each
within its limit and its decimals. An error names the field as the wire does (``lines[2].quantity``)
and the limit it broke, e.g. "lines[1].quantity: 1000000000000 is over the limit of 100,000".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from webapp.i18n import N_, UserError
from webapp.numbers import NumberProblem, check_decimal, parse_decimal

MAX_LINES = 500
MAX_PAYMENTS = 50
MAX_QUANTITY = Decimal(100_000)
MAX_UNIT_PRICE = Decimal(1_000_000)
# A ticket's total and each payment: far below documents.MAX_AMOUNT (10^11), where cents stop
# being exact in the back office's REAL columns.
MAX_TOTAL = Decimal(100_000_000)
QUANTITY_PLACES = 3  # the back office keeps quantities to 3 decimals (documents.QUANTITY_STEP)
MONEY_PLACES = 2
RATE_PLACES = 4
MAX_NUMBER = 40  # a ticket number
MAX_CODE = 50
MAX_LABEL = 200
CENT = Decimal("0.01")
SALE = "sale"
REFUND = "refund"
# A void cancels a whole sale of the day, not yet closed (docs/pos-trail.md "Voids"): a ticket
# with the sale's lines below zero, naming it in `refunds` as a refund does.
VOID = "void"
GIVING_BACK = (REFUND, VOID)

# The unit decimals of an article code, None when the article is unknown here.
PlacesOf = Callable[[str], int | None]


class TicketError(UserError):
    """A ticket refused for what it carries; nothing was written."""


# Texts parsed before, by (text, limit, places, negative): a batch of tickets repeats the same few
# prices and quantities. Only texts are kept (Decimal("1.0") == Decimal("1.00") as a key), and only
# those that passed: a refusal names its field, which the key leaves out.
_PARSED: dict[tuple[str, Decimal, int, bool], Decimal] = {}
_PARSED_MOST = 4096


def number(
    value: Any, field: str, *, limit: Decimal, places: int, negative: bool = False
) -> Decimal:
    """`value` through the strict parser, as a TicketError naming `field` when it does not fit."""
    key = (value, limit, places, negative) if type(value) is str else None
    if key is not None and (found := _PARSED.get(key)) is not None:
        return found
    try:
        found = parse_decimal(value, what=field, limit=limit, places=places, negative=negative)
    except NumberProblem as exc:
        raise TicketError(exc.message, **exc.params) from None
    if key is not None:
        if len(_PARSED) >= _PARSED_MOST:
            _PARSED.clear()
        _PARSED[key] = found
    return found


def quantity(value: Any, line: int, places: int | None = None, *, refund: bool = False) -> Decimal:
    """Above zero on a sale, below zero on a refund (goods given back), at most `places`
    decimals (the unit's), never more than the back office keeps."""
    allowed = QUANTITY_PLACES if places is None else max(0, min(places, QUANTITY_PLACES))
    field = f"lines[{line}].quantity"
    found = number(value, field, limit=MAX_QUANTITY, places=allowed, negative=refund)
    if refund and found >= 0:
        raise TicketError(N_("{field}: a refund's quantity must be below zero"), field=field)
    if found == 0:
        raise TicketError(N_("{field}: the quantity must be above zero"), field=field)
    return found


def unit_price(value: Any, line: int) -> Decimal:
    field = f"lines[{line}].unit_price_incl_vat"
    return number(value, field, limit=MAX_UNIT_PRICE, places=MONEY_PLACES)


def vat_rate(value: Any, line: int) -> Decimal:
    return number(value, f"lines[{line}].vat_rate", limit=Decimal(100), places=RATE_PLACES)


def amount(value: Any, field: str, negative: bool = False) -> Decimal:
    """Money: below zero only on a refund (money given back)."""
    return number(value, field, limit=MAX_TOTAL, places=MONEY_PLACES, negative=negative)


def sold_at(value: Any) -> datetime:
    """An ISO 8601 date and time ("2026-11-25T10:03:00Z"); the office dates the ticket with it."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        if not text or len(text) > 40:
            raise ValueError(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise TicketError(
            N_("{field}: {value} is not a date and time (such as 2026-11-25T10:03:00Z)"),
            field="sold_at",
            value=str(value)[:40],
        ) from None


def text(value: Any, field: str, limit: int) -> str:
    """An optional text of at most `limit` characters ("" when missing)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TicketError(N_("{field} must be text"), field=field)
    found = value.strip()
    if len(found) > limit:
        raise TicketError(N_("{field}: more than {limit} characters"), field=field, limit=limit)
    return found


def line_total(quantity: Decimal, price: Decimal) -> Decimal:
    return (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CheckedLine:
    article: str
    label: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal | None

    @property
    def total(self) -> Decimal:
        return line_total(self.quantity, self.unit_price)


@dataclass(frozen=True)
class CheckedPayment:
    method: str
    amount: Decimal


@dataclass(frozen=True)
class CheckedTicket:
    number: str
    sold_at: datetime
    customer: str
    user: str
    lines: list[CheckedLine]
    payments: list[CheckedPayment]
    total: Decimal  # the lines' total
    given_total: Decimal | None
    kind: str = SALE
    refunds: str = ""  # a refund: the number of the ticket it gives money back on


def check_total(total: Decimal) -> Decimal:
    """The lines' total, within the limit of a ticket."""
    try:
        return check_decimal(total, what="total_incl_vat", limit=MAX_TOTAL)
    except NumberProblem as exc:
        raise TicketError(exc.message, **exc.params) from None


def _objects(value: Any, field: str, most: int) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TicketError(N_("{field} must be a list of objects"), field=field)
    if len(value) > most:
        raise TicketError(N_("{field}: more than {limit} entries"), field=field, limit=most)
    return value


def check_line(
    row: Mapping[str, Any], line: int, places_of: PlacesOf, refund: bool = False
) -> CheckedLine:
    article = text(row.get("article"), f"lines[{line}].article", MAX_CODE)
    rate = row.get("vat_rate")
    places = places_of(article) if article else None
    return CheckedLine(
        article=article,
        label=text(row.get("label"), f"lines[{line}].label", MAX_LABEL),
        quantity=quantity(row.get("quantity"), line, places, refund=refund),
        unit_price=unit_price(row.get("unit_price_incl_vat"), line),
        vat_rate=None if rate in (None, "") else vat_rate(rate, line),
    )


def check_payment(row: Mapping[str, Any], position: int, refund: bool = False) -> CheckedPayment:
    """Money taken on a sale (above zero), money given back on a refund (below zero)."""
    field = f"payments[{position}]"
    method = text(row.get("method"), f"{field}.method", MAX_CODE)
    if not method:
        raise TicketError(N_("{field}: the payment method is missing"), field=f"{field}.method")
    paid = amount(row.get("amount"), f"{field}.amount", refund)
    if refund and paid >= 0:
        raise TicketError(
            N_("{field}: a refund's amount must be below zero"), field=f"{field}.amount"
        )
    if paid == 0:
        raise TicketError(N_("{field}: the amount must be above zero"), field=f"{field}.amount")
    return CheckedPayment(method, paid)


def ticket_kind(payload: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, number refunded): no `kind` is a sale, as tickets always were."""
    kind = payload.get("kind", SALE)
    if kind == SALE:
        if payload.get("refunds") not in (None, ""):
            raise TicketError(N_("{field}: only a refund names a ticket"), field="refunds")
        return SALE, ""
    if kind not in GIVING_BACK:
        raise TicketError(
            N_("{field}: {value} is not sale, refund or void"), field="kind", value=str(kind)[:20]
        )
    refunds = text(payload.get("refunds"), "refunds", MAX_NUMBER)
    if not refunds:
        raise TicketError(N_("{field}: a refund names the ticket it refunds"), field="refunds")
    return str(kind), refunds


def check_ticket(payload: Mapping[str, Any], places_of: PlacesOf) -> CheckedTicket:
    """Every rule on a ticket as it travels (docs/pos.md); raises TicketError naming the field."""
    ticket_number = text(payload.get("number"), "number", MAX_NUMBER)
    if not ticket_number:
        raise TicketError(N_("The ticket has no number."))
    kind, refunds = ticket_kind(payload)
    refund = kind in GIVING_BACK
    if refunds == ticket_number:
        raise TicketError(N_("{field}: a ticket cannot refund itself"), field="refunds")
    rows = _objects(payload.get("lines"), "lines", MAX_LINES)
    if not rows:
        raise TicketError(N_("A ticket needs at least one line."))
    lines = [check_line(row, index, places_of, refund) for index, row in enumerate(rows, 1)]
    total = check_total(sum((line.total for line in lines), Decimal(0)))
    payments = _objects(payload.get("payments", []), "payments", MAX_PAYMENTS)
    given = payload.get("total_incl_vat")
    return CheckedTicket(
        number=ticket_number,
        sold_at=sold_at(payload.get("sold_at")),
        customer=text(payload.get("customer"), "customer", MAX_CODE),
        user=text(payload.get("user"), "user", MAX_CODE),
        lines=lines,
        payments=[check_payment(row, index, refund) for index, row in enumerate(payments, 1)],
        total=total,
        given_total=None if given is None else amount(given, "total_incl_vat", refund),
        kind=kind,
        refunds=refunds,
    )


def quantities(lines: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    """The quantity per article of a ticket's wire lines (a refund's come out below zero)."""
    found: dict[str, Decimal] = {}
    for line in lines:
        code = str(line.get("article") or "")
        found[code] = found.get(code, Decimal(0)) + Decimal(str(line.get("quantity")))
    return found


def refundable(
    original: Mapping[str, Any], earlier: Iterable[Mapping[str, Any]]
) -> dict[str, Decimal]:
    """What may still be refunded of `original` per article: sold minus the earlier refunds."""
    left = quantities(original.get("lines") or [])
    for refund in earlier:
        for code, given_back in quantities(refund.get("lines") or []).items():
            left[code] = left.get(code, Decimal(0)) + given_back
    return {code: quantity for code, quantity in left.items() if quantity > 0}


def check_void(
    void: Mapping[str, Any], original: Mapping[str, Any], earlier: Iterable[Mapping[str, Any]]
) -> None:
    """A void gives back the whole of a sale that nothing was given back from yet."""
    number = str(original.get("number"))
    if original.get("kind", SALE) != SALE:
        raise TicketError(
            N_("Ticket {number} is a refund: only a sale can be voided."), number=number
        )
    if any(True for _ in earlier):
        raise TicketError(
            N_("Ticket {number} was refunded already: refund what is left instead."),
            number=number,
        )
    sold = quantities(original.get("lines") or [])
    given_back = {code: -quantity for code, quantity in quantities(void.get("lines") or []).items()}
    if given_back != sold:
        raise TicketError(N_("A void gives back the whole of ticket {number}."), number=number)


def check_refund_quantities(
    refund: Mapping[str, Any], original: Mapping[str, Any], earlier: Iterable[Mapping[str, Any]]
) -> None:
    """A refund gives back, per article, at most what its ticket sold minus earlier refunds."""
    if original.get("kind", SALE) != SALE:
        raise TicketError(
            N_("Ticket {number} is a refund: only a sale can be refunded."),
            number=str(original.get("number")),
        )
    left = refundable(original, earlier)
    for code, given_back in quantities(refund.get("lines") or []).items():
        most = left.get(code, Decimal(0))
        if -given_back > most:
            raise TicketError(
                N_("{article}: {quantity} to refund, but only {most} left on ticket {number}."),
                article=code,
                quantity=format(-given_back.normalize(), "f"),
                most=format(most.normalize(), "f"),
                number=str(original.get("number")),
            )
