"""Customers, addresses and orders of the PrestaShop simulator, with PrestaShop's totals.

Totals follow PrestaShop's order fields (webservice/resources/orders.md) and its three rounding
types (Order::ROUND_ITEM = 1, ROUND_LINE = 2, ROUND_TOTAL = 3, the shop's PS_ROUND_TYPE): with
ROUND_ITEM each unit price is rounded before it is multiplied, so 3 x 15.004 is billed 45.00.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from webapp.simulators.prestashop_format import Record
from webapp.simulators.prestashop_shop import COUNTRIES, CURRENCY, LANG, ShopData

ROUND_ITEM, ROUND_LINE, ROUND_TOTAL = 1, 2, 3
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
CARRIER_TAX_RATE = Decimal("20")  # the demo carrier's VAT rate (assumed, a French shop)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    """One ordered product: a product id, its combination id (0: none), a quantity."""

    product_id: int
    quantity: int
    combination_id: int = 0


class OrderBook(ShopData):
    """The shop's data with its customers and orders."""

    # -- customers and orders --

    def add_customer(self, firstname: str, lastname: str, email: str, *, company: str = "") -> int:
        now = self._stamp()
        secret = "".join(self._rng.choices(string.hexdigits.lower(), k=32))
        return self.insert(
            "customers",
            {
                "firstname": firstname,
                "lastname": lastname,
                "email": email,
                "company": company,
                "passwd": secret,
                "id_lang": LANG,
                "id_default_group": 3,
                "active": 1,
                "date_add": now,
                "date_upd": now,
            },
        )

    def add_address(
        self,
        customer_id: int,
        address1: str,
        postcode: str,
        city: str,
        country_iso: str = "FR",
        *,
        company: str = "",
        vat_number: str = "",
        phone: str = "",
    ) -> int:
        customer = self.record("customers", customer_id)
        country_id = next(c for c, iso, _ in COUNTRIES if iso == country_iso)
        now = self._stamp()
        return self.insert(
            "addresses",
            {
                "id_customer": customer_id,
                "id_country": country_id,
                "alias": "Mon adresse",
                "company": company,
                "lastname": customer["lastname"],
                "firstname": customer["firstname"],
                "vat_number": vat_number,
                "address1": address1,
                "postcode": postcode,
                "city": city,
                "phone": phone,
                "date_add": now,
                "date_upd": now,
            },
        )

    def add_order(
        self,
        customer_id: int,
        lines: list[Line],
        *,
        state: int = 2,
        address_id: int | None = None,
        shipping_incl: str | Decimal = "0",
        discount_incl: str | Decimal = "0",
        round_type: int = ROUND_ITEM,
        payment: str = "Virement bancaire",
        date_add: datetime | None = None,
        reference: str | None = None,
    ) -> int:
        """An order with its rows and PrestaShop's totals (taxes from the delivery country)."""
        with self._lock:
            address_id = address_id or self._first_address(customer_id)
            country_id = int(self.record("addresses", address_id)["id_country"])
            rows, excl, incl = self._order_rows(lines, country_id, round_type)
            shipping_incl, discount_incl = Decimal(shipping_incl), Decimal(discount_incl)
            rate = 1 + CARRIER_TAX_RATE / 100
            shipping_excl = cents(shipping_incl / rate)
            discount_excl = cents(discount_incl / rate)
            paid_incl = incl + shipping_incl - discount_incl
            paid_excl = excl + shipping_excl - discount_excl
            moment = self._stamp(date_add)
            order_id = self.insert(
                "orders",
                {
                    "id_address_delivery": address_id,
                    "id_address_invoice": address_id,
                    "id_cart": self._last_ids["orders"] + 1,
                    "id_currency": CURRENCY,
                    "id_lang": LANG,
                    "id_customer": customer_id,
                    "id_carrier": 1,
                    "current_state": state,
                    "module": "ps_wirepayment",
                    "valid": 1,
                    "date_add": moment,
                    "date_upd": moment,
                    "id_shop_group": 1,
                    "id_shop": 1,
                    "payment": payment,
                    "total_discounts": discount_incl,
                    "total_discounts_tax_incl": discount_incl,
                    "total_discounts_tax_excl": discount_excl,
                    "total_paid": paid_incl,
                    "total_paid_tax_incl": paid_incl,
                    "total_paid_tax_excl": paid_excl,
                    "total_paid_real": paid_incl,
                    "total_products": excl,
                    "total_products_wt": incl,
                    "total_shipping": shipping_incl,
                    "total_shipping_tax_incl": shipping_incl,
                    "total_shipping_tax_excl": shipping_excl,
                    "carrier_tax_rate": CARRIER_TAX_RATE,
                    "round_mode": 2,
                    "round_type": round_type,
                    "conversion_rate": "1.000000",
                    "reference": reference or self._reference(),
                    "secure_key": "".join(self._rng.choices(string.hexdigits.lower(), k=32)),
                },
            )
            for row in rows:
                self._last_ids["order_rows"] += 1
                row["id"] = str(self._last_ids["order_rows"])
            self._rows[order_id] = rows
            history = {"id_order": order_id, "id_order_state": state, "date_add": moment}
            self.insert("order_histories", history)
            return order_id

    def set_order_state(self, order_id: int, state: int, at: datetime | None = None) -> int:
        """A new current state and its order_histories row (PrestaShop writes one per change);
        date_upd moves to the shop's clock (or `at`). The history row's id."""
        with self._lock:
            stamp = self._stamp(at)
            self._update("orders", order_id, current_state=state, date_upd=stamp)
            values = {"id_order": order_id, "id_order_state": state, "date_add": stamp}
            return self.insert("order_histories", values)

    def _first_address(self, customer_id: int) -> int:
        for address in self._tables["addresses"].values():
            if address["id_customer"] == str(customer_id):
                return int(address["id"])
        raise KeyError(f"customer {customer_id} has no address")

    def _reference(self) -> str:
        # PrestaShop's order references are 9 random capital letters (Order::generateReference).
        return "".join(self._rng.choices(string.ascii_uppercase, k=9))

    def _order_rows(
        self, lines: list[Line], country_id: int, round_type: int
    ) -> tuple[list[Record], Decimal, Decimal]:
        rows: list[Record] = []
        exact_excl = exact_incl = total_excl = total_incl = Decimal(0)
        for line in lines:
            product = self._tables["products"][line.product_id]
            reference, unit_excl = product["reference"], Decimal(product["price"])
            if line.combination_id:
                combination = self._tables["combinations"][line.combination_id]
                reference = combination["reference"] or reference
                unit_excl += Decimal(combination["price"])
            rate = self.tax_rate(int(product["id_tax_rules_group"]), country_id)
            unit_incl = (unit_excl * (1 + rate / 100)).quantize(MICRO, rounding=ROUND_HALF_UP)
            quantity = line.quantity
            if round_type == ROUND_ITEM:
                total_excl += cents(unit_excl) * quantity
                total_incl += cents(unit_incl) * quantity
            elif round_type == ROUND_LINE:
                total_excl += cents(unit_excl * quantity)
                total_incl += cents(unit_incl * quantity)
            exact_excl += unit_excl * quantity
            exact_incl += unit_incl * quantity
            rows.append(
                {
                    "id": "",
                    "product_id": str(line.product_id),
                    "product_attribute_id": str(line.combination_id),
                    "product_quantity": str(quantity),
                    "product_name": product["name"],
                    "product_reference": reference,
                    "product_ean13": product["ean13"],
                    "product_price": f"{unit_excl:.6f}",
                    "id_customization": "0",
                    "unit_price_tax_incl": f"{unit_incl:.6f}",
                    "unit_price_tax_excl": f"{unit_excl:.6f}",
                }
            )
        if round_type == ROUND_TOTAL:
            total_excl, total_incl = cents(exact_excl), cents(exact_incl)
        return rows, total_excl, total_incl
