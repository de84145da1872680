"""The e-connecteur's CSV files, defined once (ECN-9): the reader, the writer and the file
specification all use these definitions."""

from __future__ import annotations

from webapp.backoffice.columns import Column, Kind
from webapp.i18n import N_


def _text(name: str, description: str, **extra: object) -> Column:
    return Column(name, "text", description, **extra)  # type: ignore[arg-type]


DOCUMENTS = Kind(
    "documents",
    N_("Documents received (orders or deliveries), one row per line"),
    ("doc_ref", "line_no"),
    (
        Column(
            "doc_ref",
            "code",
            N_("Reference of the document in the other program"),
            required=True,
            not_empty=True,
            max_length=60,
            example="CW_0000121",
        ),
        Column(
            "doc_date",
            "date",
            N_("Date of the document"),
            required=True,
            not_empty=True,
            example="23/01/2026",
        ),
        Column(
            "customer_ref",
            "code",
            N_("Customer code in the other program"),
            required=True,
            max_length=60,
            example="ANDPA",
        ),
        _text("last_name", N_("Customer's last name"), required=True, example="André"),
        _text("first_name", N_("Customer's first name"), required=True, example="Patrick"),
        _text("company", N_("Customer's company name"), required=True),
        Column(
            "email",
            "text",
            N_("Customer's e-mail address"),
            required=True,
            example="patrick@example.fr",
        ),
        _text("address", N_("Street address"), required=True),
        _text("postcode", N_("Postcode"), required=True, max_length=20),
        _text("city", N_("City"), required=True),
        _text(
            "country",
            N_("Country: ISO code or name, or a code given a correspondence"),
            required=True,
            example="FR",
        ),
        Column(
            "line_no",
            "integer",
            N_("Line number within the document"),
            required=True,
            not_empty=True,
            example="1",
        ),
        Column(
            "article_ref",
            "code",
            N_("Article code in the other program"),
            required=True,
            not_empty=True,
            example="MIEL-500",
        ),
        Column(
            "variant_ref",
            "code",
            N_("Variant code in the other program (may be empty)"),
            required=True,
        ),
        _text("label", N_("Label of the line"), required=True),
        Column("quantity", "decimal", N_("Quantity"), required=True, not_empty=True, example="2"),
        _text(
            "unit",
            N_("Sales unit: code, or a code given a correspondence"),
            required=True,
            example="U",
        ),
        Column(
            "unit_price_incl_vat",
            "decimal",
            N_("Unit price including VAT"),
            required=True,
            not_empty=True,
            example="9,50",
        ),
        _text(
            "vat_code",
            N_("VAT: rate (20) or code, or a code given a correspondence"),
            required=True,
            example="20",
        ),
        _text(
            "payment_method",
            N_("Payment method code (used when payments are generated)"),
            required=True,
            example="CARD",
        ),
        Column(
            "total_incl_vat",
            "decimal",
            N_("Total of the document including VAT (repeated on each line)"),
            required=True,
            not_empty=True,
            example="19,00",
        ),
    ),
)

ARTICLES_SENT = (
    ("article_code", N_("Article code in Relais")),
    ("external_ref", N_("Article code in the other program (its correspondence)")),
    ("variant_ref", N_("Variant code in the other program")),
    ("label", N_("Label")),
    ("unit", N_("Sales unit")),
    ("unit_price_excl_vat", N_("Unit price excluding VAT, in the connector's price category")),
    ("unit_price_incl_vat", N_("Unit price including VAT")),
    ("vat_rate", N_("VAT rate in %")),
    ("stock", N_("Stock in the connector's warehouse")),
)
CUSTOMERS_SENT = (
    ("customer_code", N_("Customer code in Relais")),
    ("external_ref", N_("Customer code in the other program (its correspondence)")),
    ("last_name", N_("Last name")),
    ("first_name", N_("First name")),
    ("company", N_("Company name")),
    ("email", N_("E-mail address")),
    ("phone", N_("Phone")),
    ("address", N_("Street address")),
    ("postcode", N_("Postcode")),
    ("city", N_("City")),
    ("country", N_("Country (ISO code)")),
    ("vat_number", N_("VAT number")),
)
CONTACTS_SENT = (
    ("customer_code", N_("Customer code in Relais")),
    ("contact_no", N_("Contact number")),
    ("last_name", N_("Last name")),
    ("first_name", N_("First name")),
    ("role", N_("Role")),
    ("email", N_("E-mail address")),
    ("phone", N_("Phone")),
)

PARTIES = Kind(
    "parties",
    N_("Customers and suppliers received, one row each"),
    ("customer_ref",),
    (
        Column(
            "customer_ref",
            "code",
            N_("Code in the other program"),
            required=True,
            not_empty=True,
            max_length=60,
            example="ANDPA",
        ),
        Column(
            "kind",
            "party_kind",
            N_("client (customer) or supplier"),
            required=True,
            not_empty=True,
            aliases=("type",),
            example="client",
        ),
        _text("last_name", N_("Last name"), required=True, example="André"),
        _text("first_name", N_("First name"), required=True, example="Patrick"),
        _text("company", N_("Company name"), required=True),
        Column("email", "email", N_("E-mail address"), required=True, example="patrick@example.fr"),
        _text("phone", N_("Phone"), required=True, max_length=40),
        _text("address", N_("Street address"), required=True),
        _text("postcode", N_("Postcode"), required=True, max_length=20),
        _text("city", N_("City"), required=True),
        _text(
            "country",
            N_("Country: ISO code or name, or a code given a correspondence"),
            required=True,
            example="FR",
        ),
        _text("vat_number", N_("VAT number (checked for BE and FR)"), required=True, max_length=20),
    ),
)
