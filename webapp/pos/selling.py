"""Selling on the register (POS-5): article search, ticket validation and the outbox write.

A ticket, its ``pos_tickets`` row and its ``MICPTRACK`` record are written in one transaction
(:func:`record_ticket`) with the ticket chain's signed row (docs/pos-trail.md); the sales screen,
the local API and `relais pos sell` all call it. A
customer made or changed here and a change of this register's settings go through the outbox
the same way (:func:`record_customer`, :func:`record_register_setting`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from webapp.backoffice.listing import fts_match
from webapp.clock import now_iso
from webapp.i18n import N_
from webapp.pos import journal, protocol, ticket_rules, trail
from webapp.pos.mirror import CUSTOMER_FIELDS, upsert_customer
from webapp.pos.outbox import enqueue
from webapp.pos.register_config import require_config
from webapp.pos.signing import signer_for as signer_for  # where the callers have long found it
from webapp.pos.trail_keys import Signer
from webapp.store import Store

CENT = ticket_rules.CENT
MAX_LINES = ticket_rules.MAX_LINES
MAX_LABEL_GIVEN = 10_000
REGISTER_SETTINGS = ("label", "ticket_prefix")  # what a register may change about itself

# A ticket (or customer, or setting) refused before anything was written: the rules' own error,
# so the register refuses with the very reason the office would give.
TicketError = ticket_rules.TicketError


@dataclass(frozen=True)
class Article:
    code: str
    label: str
    barcode: str | None
    unit: str
    decimals: int
    vat_rate: Decimal
    price_incl_vat: Decimal | None


def _article(row: Mapping[str, Any]) -> Article:
    rate = Decimal(str(row["vat_rate"] or 0))
    price = row["price_excl_vat"]
    incl = None
    if price is not None:
        incl = (Decimal(str(price)) * (1 + rate / 100)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Article(
        code=str(row["code"]),
        label=str(row["label"]),
        barcode=row["barcode"],
        unit=str(row["unit"]),
        decimals=int(row["decimals"] or 0),
        vat_rate=rate.normalize() if rate else Decimal(0),
        price_incl_vat=incl,
    )


_ARTICLE_SELECT = (
    "SELECT a.id, a.code, a.label, a.barcode, u.code AS unit, u.decimals, v.rate AS vat_rate,"
    " p.price_excl_vat FROM articles a JOIN units u ON u.id = a.unit_id"
    " JOIN vat_rates v ON v.id = a.vat_rate_id"
    " LEFT JOIN article_prices p ON p.article_id = a.id AND p.price_category_id ="
    " (SELECT id FROM price_categories ORDER BY is_default DESC, id LIMIT 1)"
)


def find_article(db: Any, code: str) -> Article | None:
    """By code, else by barcode (a scan); active articles only."""
    row = db.execute(f"{_ARTICLE_SELECT} WHERE a.code = ? AND a.active = 1", [code]).fetchone()
    if row is None:
        row = db.execute(
            f"{_ARTICLE_SELECT} WHERE a.barcode = ? AND a.active = 1 LIMIT 1", [code]
        ).fetchone()
    return _article(row) if row else None


def search_articles(store: Store, text: str, limit: int = 20) -> list[Article]:
    """A code or barcode first (a scan hits exactly), then the words through the FTS index."""
    text = text.strip()
    if not text:
        return []
    with store.read() as db:
        exact = find_article(db, text)
        found = [exact] if exact else []
        match = fts_match(text)
        if match:
            rows = db.execute(
                f"{_ARTICLE_SELECT} WHERE a.active = 1 AND a.id IN"
                " (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
                " ORDER BY a.label COLLATE NOCASE LIMIT ?",
                [match, limit],
            ).fetchall()
            found.extend(_article(row) for row in rows if not exact or row["code"] != exact.code)
    return found[:limit]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def wire(number: Decimal) -> str:
    """A decimal as the wire carries it: no exponent, no useless zeros ("2", "0.5", "20")."""
    text = format(number.normalize(), "f")
    return text


def money(number: Decimal) -> str:
    return format(number.quantize(CENT, rounding=ROUND_HALF_UP), "f")


@dataclass(frozen=True)
class Line:
    article: Article
    quantity: Decimal
    unit_price_incl_vat: Decimal
    vat_rate: Decimal
    label: str

    @property
    def total(self) -> Decimal:
        return ticket_rules.line_total(self.quantity, self.unit_price_incl_vat)

    @property
    def vat(self) -> Decimal:
        base = self.total / (1 + self.vat_rate / 100)
        return (self.total - base).quantize(CENT, rounding=ROUND_HALF_UP)

    def as_payload(self) -> dict[str, str]:
        return {
            "article": self.article.code,
            "label": self.label,
            "quantity": wire(self.quantity),
            "unit_price_incl_vat": money(self.unit_price_incl_vat),
            "vat_rate": wire(self.vat_rate),
        }


def parse_line(db: Any, row: Mapping[str, Any], position: int) -> Line:
    """One line of a ticket request: the article here, then the values by the shared rules."""
    code = _text(row.get("article"))
    article = find_article(db, code) if code else None
    if article is None:
        raise TicketError(N_("Line {line}: unknown article {code}."), line=position, code=code)
    quantity = ticket_rules.quantity(row.get("quantity", "1"), position, article.decimals)
    given = row.get("unit_price_incl_vat")
    if given is None or given == "":
        if article.price_incl_vat is None:
            raise TicketError(N_("Line {line}: {code} has no price."), line=position, code=code)
        given = article.price_incl_vat
    price = ticket_rules.unit_price(given, position)
    rate_given = row.get("vat_rate")
    rate = article.vat_rate
    if rate_given not in (None, ""):
        rate = _known_rate(db, ticket_rules.vat_rate(rate_given, position), position)
    # A long label is cut to what the ticket keeps, as it always was; an absurd one is refused.
    label = ticket_rules.text(row.get("label"), f"lines[{position}].label", MAX_LABEL_GIVEN)
    return Line(article, quantity, price, rate, (label or article.label)[: ticket_rules.MAX_LABEL])


def _known_rate(db: Any, rate: Decimal, position: int) -> Decimal:
    """The office keeps only the VAT rates of its table: refuse another one here already."""
    found = db.execute(
        "SELECT 1 FROM vat_rates WHERE abs(rate - ?) < 0.00001", [float(rate)]
    ).fetchone()
    if found is None:
        raise TicketError(
            N_("Line {line}: the VAT rate {rate} % is not in the VAT rates table."),
            line=position,
            rate=wire(rate),
        )
    return rate


@dataclass(frozen=True)
class Ticket:
    lines: list[Line]
    payments: list[dict[str, str]]
    total: Decimal
    user: str | None
    customer: str | None
    sold_at: str

    @property
    def vat_total(self) -> Decimal:
        return sum((line.vat for line in self.lines), Decimal(0))

    def payload(self, number: str) -> dict[str, Any]:
        return {
            "number": number,
            "sold_at": self.sold_at,
            "user": self.user,
            "customer": self.customer,
            "lines": [line.as_payload() for line in self.lines],
            "payments": self.payments,
            "total_incl_vat": money(self.total),
        }


def cash_method(db: Any) -> str:
    row = db.execute(
        "SELECT code FROM payment_methods WHERE active = 1 ORDER BY is_cash DESC, id LIMIT 1"
    ).fetchone()
    if row is None:
        raise TicketError(N_("No payment method is available on this register."))
    return str(row[0])


def _payments(db: Any, given: Any, total: Decimal) -> list[dict[str, str]]:
    if not given:  # all in cash; a free ticket (all lines at 0) has nothing to pay
        return [{"method": cash_method(db), "amount": money(total)}] if total else []
    if not isinstance(given, list) or len(given) > ticket_rules.MAX_PAYMENTS:
        raise TicketError(N_("The payments must be a list."))
    payments = []
    paid = Decimal(0)
    for position, row in enumerate(given, 1):
        if not isinstance(row, dict):
            raise TicketError(N_("The payments must be a list."))
        method = _text(row.get("method"))
        found = db.execute(
            "SELECT code FROM payment_methods WHERE code = ? AND active = 1", [method]
        ).fetchone()
        if found is None:
            raise TicketError(N_("Unknown payment method: {code}."), code=method)
        value = ticket_rules.amount(row.get("amount", total - paid), f"payments[{position}].amount")
        paid += value
        payments.append({"method": str(found[0]), "amount": money(value)})
    if paid.quantize(CENT) != total.quantize(CENT):
        raise TicketError(
            N_("The payments ({paid}) do not match the total ({total})."),
            paid=paid.quantize(CENT, rounding=ROUND_HALF_UP),
            total=total.quantize(CENT, rounding=ROUND_HALF_UP),
        )
    return payments


def _existing_code(db: Any, sql: str, code: Any, message: str) -> str | None:
    value = _text(code)
    if not value:
        return None
    row = db.execute(sql, [value]).fetchone()
    if row is None:
        raise TicketError(message, code=value)
    return str(row[0])


def build_ticket(db: Any, request: Mapping[str, Any]) -> Ticket:
    """Check a ticket request (the wire payload without number/id); raises TicketError."""
    rows = request.get("lines")
    if not isinstance(rows, list) or not rows:
        raise TicketError(N_("A ticket needs at least one line."))
    if len(rows) > MAX_LINES:
        raise TicketError(N_("A ticket has at most {count} lines."), count=MAX_LINES)
    sold_at = _text(request.get("sold_at")) or now_iso()
    ticket_rules.sold_at(sold_at)
    lines = [
        parse_line(db, row if isinstance(row, dict) else {}, index)
        for index, row in enumerate(rows, 1)
    ]
    total = ticket_rules.check_total(sum((line.total for line in lines), Decimal(0)))
    given_total = request.get("total_incl_vat")
    if (
        given_total not in (None, "")
        and ticket_rules.amount(given_total, "total_incl_vat") != total
    ):
        raise TicketError(
            N_("The total sent ({given}) differs from the lines' total ({total})."),
            given=given_total,
            total=total.quantize(CENT, rounding=ROUND_HALF_UP),
        )
    user = _existing_code(
        db,
        "SELECT code FROM pos_users WHERE code = ? AND active = 1",
        request.get("user"),
        N_("Unknown user on this register: {code}."),
    )
    customer = _existing_code(
        db,
        "SELECT code FROM parties WHERE kind = 'customer' AND code = ?",
        request.get("customer"),
        N_("Unknown customer: {code}."),
    )
    return Ticket(
        lines, _payments(db, request.get("payments"), total), total, user, customer, sold_at
    )


def ticket_prefix(db: Any, register: int) -> str:
    row = db.execute(
        "SELECT ticket_prefix FROM pos_registers WHERE number = ?", [register]
    ).fetchone()
    return str(row[0]) if row and row[0] else f"C{register}-"


def next_number(db: Any, prefix: str) -> str:
    """The number after the register's last one: ``prefix`` and at least six digits."""
    # The highest number in the UNIQUE index's order (one seek, not a scan of every ticket). It is
    # the last one unless it reads all nines: numbers of seven digits follow 999999 (then a scan).
    row = db.execute(
        "SELECT number FROM pos_tickets WHERE number >= ? AND number < ?"
        " ORDER BY number DESC LIMIT 1",
        [prefix + "0", prefix + ":"],  # ':' is the character after '9'
    ).fetchone()
    digits = str(row[0])[len(prefix) :] if row else "0"
    if not digits.isdigit() or set(digits) == {"9"}:
        row = db.execute(
            "SELECT max(CAST(substr(number, ?) AS INTEGER)) FROM pos_tickets"
            " WHERE substr(number, 1, ?) = ?",
            [len(prefix) + 1, len(prefix), prefix],
        ).fetchone()
        digits = str(row[0] or 0)
    return f"{prefix}{int(digits) + 1:06d}"


def _places(db: Any, code: str) -> int | None:
    article = find_article(db, code)
    return None if article is None else article.decimals


@dataclass(frozen=True)
class Recorded:
    id: str
    number: str
    total: str
    payload: dict[str, Any]


def record_ticket(store: Store, request: Mapping[str, Any], signer: Signer) -> Recorded:
    """Validate, number, sign and write the ticket with its outbox record in ONE transaction."""
    with store.write() as db:
        config = require_config(store, db)
        ticket = build_ticket(db, request)
        number = next_number(db, ticket_prefix(db, config.number))
        payload = ticket.payload(number)
        # The very check the office makes before applying it: what is recorded here goes through.
        ticket_rules.check_ticket(payload, lambda code: _places(db, code))
        record = protocol.record_id(config.number)
        db.execute(
            "INSERT INTO pos_tickets (id, number, sold_at, user_code, customer_code,"
            " total_incl_vat, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                record,
                number,
                ticket.sold_at,
                ticket.user,
                ticket.customer,
                payload["total_incl_vat"],
                json.dumps(payload, ensure_ascii=False, sort_keys=True),
            ],
        )
        row = trail.sign_ticket(db, signer, config.number, payload)
        journal.record_seller(db, signer, config.number, ticket.user)
        enqueue(db, config.number, "ticket", trail.with_row(payload, row), record)
    return Recorded(record, number, payload["total_incl_vat"], payload)


def record_customer(store: Store, customer: Mapping[str, Any]) -> str:
    """Create or change a customer here; the change goes to the office through the outbox."""
    code = _text(customer.get("code"))
    if not code or len(code) > 50:
        raise TicketError(N_("A customer needs a code (at most 50 characters)."))
    payload: dict[str, Any] = {"code": code}
    for name in CUSTOMER_FIELDS:
        payload[name] = _text(customer.get(name))
    if not (payload["last_name"] or payload["company"]):
        raise TicketError(N_("A customer needs a name or a company."))
    with store.write() as db:
        config = require_config(store, db)
        upsert_customer(db, payload)
        return enqueue(db, config.number, "customer", payload)


def record_register_setting(store: Store, key: str, value: Any) -> str:
    """Change one of this register's own settings; the office hears of it through the outbox."""
    if key not in REGISTER_SETTINGS:
        raise TicketError(
            N_("A register may only change: {keys}."), keys=", ".join(REGISTER_SETTINGS)
        )
    text = _text(value)
    if not text or len(text) > 100:
        raise TicketError(N_("Enter a value of 1 to 100 characters."))
    with store.write() as db:
        config = require_config(store, db)
        db.execute(f"UPDATE pos_registers SET {key} = ? WHERE number = ?", [text, config.number])
        return enqueue(db, config.number, "register_setting", {"key": key, "value": text})
