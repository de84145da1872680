"""A PrestaShop order as a received document (ECN-11, issue 15): the same SourceDocument a CSV
file gives, so it goes through the same analysis and integration.

- Lines: one per `order_rows` row. The article's outside code is the PRODUCT's `reference`, the
  variant the COMBINATION's `reference` (`product_reference` in the row is the combination's when
  there is one); the unit price incl. VAT as the order says, rounded to the cent first when the
  shop rounds per item (`round_type` 1), as PrestaShop billed it.
- VAT code: the row's rate, from its unit prices incl. and excl. VAT (to 0.1 %, "20", "5.5"),
  mapped through the connector's VAT correspondences as a CSV code (a rate the back office has
  needs none).
- Shipping (`total_shipping_tax_incl`) and discounts (`total_discounts_tax_incl`) are lines of
  their own, on the connector's shipping and discount outside codes (quantity 1 and -1); shipping
  at `carrier_tax_rate`, a discount at the rate of the order's rows nearest to its own.
- Rounding: whatever still separates the lines from `total_paid_tax_incl` (a shop that rounds per
  line or on the total, gift wrapping) is one more line on the discount code, labelled
  "Rounding", so the document's total is the order's to the cent.
- Payment: the back office's method for PrestaShop's own payment modules (PAYMENT_MODULES),
  else the order's `payment` name.
- Customer: the customer's id as outside ref, names and address from the invoice address (the
  customer's when it lacks them), the country's `iso_code`; homonyms are handled as for CSV.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import SourceDocument, SourceLine
from webapp.econnector.prestashop.orders import ShopCache, ShopOrder
from webapp.econnector.prestashop.xml import Languages
from webapp.i18n import gettext

CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.0001")  # the unit price the back office keeps (document_totals)
RATE_STEP = Decimal("0.1")
ROUND_ITEM = 1
HUNDRED = Decimal(100)
# The back office's payment method of PrestaShop's own payment modules; another module's order
# carries the shop's payment name, which needs a payment method of that code when payments are
# generated (else the order is held back, with the reason).
PAYMENT_MODULES = {
    "ps_wirepayment": "TRANSFER",
    "bankwire": "TRANSFER",
    "ps_checkpayment": "TRANSFER",
    "ps_cashondelivery": "CASH",
    "cashondelivery": "CASH",
}


def to_document(order: ShopOrder, cache: ShopCache, connector: Connector) -> SourceDocument:
    record = order.record
    header = _header(record, cache)
    document = SourceDocument(order.doc_ref, f"orders/{order.id}", 1, header)
    rates: list[Decimal] = []
    round_item = _int(record.get("round_type")) == ROUND_ITEM
    for position, row in enumerate(order.rows(), start=1):
        line = _row_line(row, position, cache, round_item, document.problems)
        if line is not None:
            document.lines.append(line)
            rates.append(_rate_of(row))
    _charges(record, connector, document, rates)
    return document


def _header(record: dict[str, Any], cache: ShopCache) -> dict[str, Any]:
    customer = cache.get("customers", record.get("id_customer")) or {}
    address = cache.get("addresses", record.get("id_address_invoice")) or {}
    country = cache.get("countries", address.get("id_country")) or {}
    street = " ".join(
        part for part in (_text(address.get("address1")), _text(address.get("address2"))) if part
    )
    return {
        "doc_date": _date(record.get("date_add")),
        "payment_method": PAYMENT_MODULES.get(_text(record.get("module")))
        or _text(record.get("payment")),
        "total_incl_vat": _money(record.get("total_paid_tax_incl")),
        "customer_ref": str(record.get("id_customer") or ""),
        "last_name": _text(address.get("lastname")) or _text(customer.get("lastname")),
        "first_name": _text(address.get("firstname")) or _text(customer.get("firstname")),
        "company": _text(address.get("company")) or _text(customer.get("company")),
        "email": _text(customer.get("email")),
        "address": street,
        "postcode": _text(address.get("postcode")),
        "city": _text(address.get("city")),
        "country": _text(country.get("iso_code")),
    }


def _row_line(
    row: dict[str, Any], position: int, cache: ShopCache, round_item: bool, problems: list[str]
) -> SourceLine | None:
    product = cache.get("products", row.get("product_id"))
    if product is None:
        problems.append(
            gettext(
                "line {line}: the shop has no product {id}", line=position, id=row.get("product_id")
            )
        )
        return None
    variant = ""
    if _int(row.get("product_attribute_id")):
        combination = cache.get("combinations", row.get("product_attribute_id"))
        if combination is None:
            problems.append(
                gettext(
                    "line {line}: the shop has no combination {id}",
                    line=position,
                    id=row.get("product_attribute_id"),
                )
            )
            return None
        variant = _text(combination.get("reference"))
    price = _money(row.get("unit_price_tax_incl"))
    if round_item:
        price = price.quantize(CENT, rounding=ROUND_HALF_UP)  # PrestaShop billed this price
    return SourceLine(
        position,
        position,
        _text(product.get("reference")) or _text(row.get("product_reference")),
        variant,
        _text(row.get("product_name")),
        Decimal(_int(row.get("product_quantity"))),
        "",
        price,
        _code(_rate_of(row)),
    )


def _charges(
    record: dict[str, Any], connector: Connector, document: SourceDocument, rates: list[Decimal]
) -> None:
    """Shipping, discounts and the rounding line, numbered after the rows."""
    shipping = _money(record.get("total_shipping_tax_incl"))
    discount = _money(record.get("total_discounts_tax_incl"))
    carrier_rate = _money(record.get("carrier_tax_rate"))
    if shipping:
        _add(document, connector.shipping_ref, gettext("Shipping"), 1, shipping, carrier_rate)
    if discount:
        own = _ratio_rate(discount, _money(record.get("total_discounts_tax_excl")))
        rate = min(rates or [carrier_rate], key=lambda item: abs(item - own))
        _add(document, connector.discount_ref, gettext("Discount"), -1, discount, rate)
    if document.problems:
        return  # lines are missing: no rounding line to hide it
    total = _money(record.get("total_paid_tax_incl"))
    gap = total - sum((_amount(line) for line in document.lines), Decimal(0))
    if gap:
        rate = max(rates) if rates else carrier_rate
        quantity = 1 if gap > 0 else -1
        _add(document, connector.discount_ref, gettext("Rounding"), quantity, abs(gap), rate)


def _add(
    document: SourceDocument,
    code: str,
    label: str,
    quantity: int,
    price: Decimal,
    rate: Decimal,
) -> None:
    position = len(document.lines) + 1
    document.lines.append(
        SourceLine(position, position, code, "", label, Decimal(quantity), "", price, _code(rate))
    )


def _amount(line: SourceLine) -> Decimal:
    """The line's total incl. VAT as the back office computes it (document_totals.compute_line)."""
    price = line.unit_price_incl_vat.quantize(PRICE_STEP, rounding=ROUND_HALF_UP)
    return (line.quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)


def _rate_of(row: dict[str, Any]) -> Decimal:
    return _ratio_rate(
        _money(row.get("unit_price_tax_incl")), _money(row.get("unit_price_tax_excl"))
    )


def _ratio_rate(incl: Decimal, excl: Decimal) -> Decimal:
    if not excl:
        return Decimal(0)
    return ((incl / excl - 1) * HUNDRED).quantize(RATE_STEP, rounding=ROUND_HALF_UP)


def _code(rate: Decimal) -> str:
    """20.0 -> "20", 5.5 -> "5.5": a VAT code as a CSV file would give it."""
    return format(rate.normalize(), "f")


def _money(value: Any) -> Decimal:
    if isinstance(value, Decimal):  # xml.py gives money as Decimal already
        return value
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        return Decimal(0)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _text(value: Any) -> str:
    if isinstance(value, Languages):
        value = next(iter(value.values()), "")
    return str(value or "").strip()


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value or "")[:10])
    except ValueError:
        return None
