"""What a document is: the input a caller gives, what is stored and read back, and the errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from webapp.i18n import N_, UserError

KINDS = ("order", "delivery", "ticket")
# The stored columns that hold amounts (REAL in the database, Decimal once read).
DOCUMENT_AMOUNTS = ("total_excl_vat", "total_vat", "total_incl_vat")
LINE_AMOUNTS = ("quantity", "unit_price_excl_vat", "vat_rate", "total_excl_vat", "total_incl_vat")


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
            computed=computed,  # Decimals: shown with the reader's decimal mark
            expected=expected,
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
