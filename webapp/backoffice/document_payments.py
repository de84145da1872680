"""A document's payments: checked against the payment methods and the total, written, read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlite_utils import Database

from webapp.backoffice.document_lookups import lookup
from webapp.backoffice.document_totals import (
    is_number,
    round_money,
    sum_money,
    to_decimal,
)
from webapp.backoffice.document_types import DocumentError, DocumentPayment, PaymentInput
from webapp.i18n import N_
from webapp.store import rows


@dataclass(frozen=True)
class CheckedPayment:
    method_id: int
    amount: Decimal
    paid_on: date


def check_payment(
    db: Database, payment: PaymentInput, number: int, doc_date: date
) -> CheckedPayment:
    method = lookup(
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
    if not is_number(amount) or round_money(amount) == 0:
        raise DocumentError(
            N_("Payment {payment}: the amount must be a number other than zero."), payment=number
        )
    paid_on = doc_date if payment.paid_on is None else payment.paid_on
    if not isinstance(paid_on, date):
        raise DocumentError(N_("Payment {payment}: the date is not a date."), payment=number)
    if isinstance(paid_on, datetime):
        paid_on = paid_on.date()
    return CheckedPayment(int(method["id"]), round_money(amount), paid_on)


def check_paid_total(payments: list[CheckedPayment], total: Decimal) -> None:
    """The payments have the total's sign and do not exceed it."""
    paid = sum_money(payment.amount for payment in payments)
    if paid * total < 0:
        raise DocumentError(
            N_("The payments ({paid}) and the document total ({total}) have opposite signs."),
            paid=paid,
            total=total,
        )
    if abs(paid) > abs(total):
        raise DocumentError(
            N_("The payments ({paid}) exceed the document total including VAT ({total})."),
            paid=paid,
            total=total,
        )


def payments_of(db: Database, document_id: int) -> tuple[DocumentPayment, ...]:
    found = rows(
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
        for row in found
    )


def delete_payments(db: Database, document_id: int) -> None:
    db.execute("DELETE FROM document_payments WHERE document_id = ?", [document_id])
