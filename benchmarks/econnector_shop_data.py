"""benchmarks/econnector_shop.py's data: a PrestaShop simulator holding N orders and the back
office they are received into, with a CSV connector WEB and a webservice connector PRESTA whose
article correspondences are the same; and the same orders as a CSV orders file for WEB.

The orders: 1 to 20 rows, products with and without combinations, two VAT rates (20 and 5.5),
shipping on most, a discount on some, the three rounding types (the rounding case 3 x 15.004 among
them), customers met again and again, homonyms of the back office's customers (same e-mail, or same
names and postcode), a few unmapped products (their orders are held back), and orders in states
that are not received. The CSV file says what the reception maps each received order to
(docs/prestashop.md, "An order as a document"): same doc_ref, customer, lines, VAT codes, total.
Run as a script it prints nothing and exits 0.
"""

from __future__ import annotations

import csv
import os
import random
import sys
import time
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from econnector_data import HEADER, shop_services  # noqa: E402  (the CSV bench's columns)

PASSPHRASE = "benchmark passphrase"
RECEIVED_STATES = (2, 3, 4)
OTHER_STATES = (1, 6, 8)  # awaiting payment, cancelled, payment error: not received
PRODUCTS = 400  # every 5th has 3 combinations
UNMAPPED = 5  # products without correspondence
BACK_OFFICE_CUSTOMERS = 1000
CENT, PRICE_STEP = Decimal("0.01"), Decimal("0.0001")
CARRIER_RATE = Decimal(20)
PAYMENT = "TRANSFER"  # ps_wirepayment, the simulator's module
Catalogue = list[tuple[str, str, str, str]]  # (product ref, combination ref, article code, vat)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _comma(value: Decimal) -> str:
    return format(value, "f").replace(".", ",")


def fill_simulator(sim: Any, orders: int) -> tuple[Catalogue, dict[str, int]]:
    """`orders` orders in the received states (plus ~15 % in others) and what they need.
    Returns the catalogue to map and the counts of what was made."""
    from webapp.simulators.prestashop import Line

    rng = random.Random(15)
    catalogue: Catalogue = []
    choices: list[tuple[int, int]] = []  # (product id, combination id)
    for number in range(PRODUCTS):
        vat, group = ("5,5", 2) if number % 7 == 3 else ("20", 1)
        price = "12.503333" if number == 0 else f"{rng.randint(300, 6000) / 100 + 0.004:.6f}"
        reference = f"SP-{number:04d}"
        product = sim.add_product(reference, f"Produit {number}", price, tax_group=group)
        if number % 5 == 1:
            for variant in range(3):
                code = f"{reference}-{variant}"
                impact = f"{variant * 1.25:.6f}"
                combination = sim.add_combination(product, code, price_impact=impact)
                catalogue.append((reference, code, f"B{number:04d}{variant}", vat))
                choices.append((product, combination))
        else:
            catalogue.append((reference, "", f"B{number:04d}", vat))
            choices.append((product, 0))
    unmapped = [
        sim.add_product(f"NOMAP-{n}", f"Sans correspondance {n}", "9.990000")
        for n in range(UNMAPPED)
    ]
    addresses = _customers(sim, rng, max(orders // 4, 10))
    start = datetime(2026, 9, 1, 8, 0, 0)
    counts = {"received_states": 0, "other_states": 0, "with_unmapped": 0}
    total = orders + orders * 15 // 100
    for number in range(total):
        customer, address = rng.choice(addresses)
        lines = [
            _line(rng, choices)
            for _ in range(rng.randint(1, 20) if rng.random() < 0.3 else rng.randint(1, 6))
        ]
        if number == 0:  # the rounding case: 3 x 15.004 billed 45.00
            lines = [Line(choices[0][0], 3, 0)]
        elif rng.random() < 0.003:
            lines.append(Line(rng.choice(unmapped), 1))
            counts["with_unmapped"] += 1
        received = number < 10 or rng.random() < orders / total
        received = received and counts["received_states"] < orders
        state = rng.choice(RECEIVED_STATES) if received else rng.choice(OTHER_STATES)
        counts["received_states" if received else "other_states"] += 1
        sim.add_order(
            customer,
            lines,
            state=state,
            address_id=address,
            shipping_incl="6.90" if rng.random() < 0.6 else "0",
            discount_incl="5.00" if rng.random() < 0.15 else "0",
            round_type=rng.choice((1, 1, 1, 2, 3)),
            date_add=start + timedelta(seconds=number * 47 + rng.randint(0, 40)),
        )
    return catalogue, counts


def _line(rng: random.Random, choices: list[tuple[int, int]]) -> Any:
    from webapp.simulators.prestashop import Line

    product, combination = rng.choice(choices)
    return Line(product, rng.randint(1, 4), combination)


def _customers(sim: Any, rng: random.Random, count: int) -> list[tuple[int, int]]:
    """Customers with one address each; one in 40 shares its e-mail with a back-office customer,
    one in 40 its names and postcode (homonyms); one in 10 lives in Belgium."""
    made = []
    for number in range(count):
        first, last, email = "Marie", f"Client{number}", f"shop{number}@example.fr"
        postcode, city, country = "21200", "Beaune", "FR"
        other = number % BACK_OFFICE_CUSTOMERS
        if number % 40 == 0:
            email = f"c{other}@example.fr"
        elif number % 40 == 1:
            first, last, postcode, city = "Anne", f"Nom{other}", "59000", "Lille"
        elif number % 10 == 5:
            postcode, city, country = "1000", "Bruxelles", "BE"
        customer = sim.add_customer(first, last, email)
        address = sim.add_address(customer, f"{number} rue des Vignes", postcode, city, country)
        made.append((customer, address))
    return made


def write_orders_csv(sim: Any, path: Path) -> int:
    """The received orders as the CSV orders file WEB reads: one line per document line, as the
    reception maps them. Returns the number of documents."""
    documents = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for order in sim.records("orders"):
            if int(order["current_state"]) not in RECEIVED_STATES:
                continue
            writer.writerows(_document(sim, order))
            documents += 1
    past = time.time() - 60
    os.utime(path, (past, past))
    return documents


def _document(sim: Any, order: dict[str, Any]) -> list[list[Any]]:
    address = sim.record("addresses", int(order["id_address_invoice"]))
    customer = sim.record("customers", int(order["id_customer"]))
    country = sim.record("countries", int(address["id_country"]))
    day = order["date_add"][:10]
    header = [
        order["reference"],
        f"{day[8:10]}/{day[5:7]}/{day[0:4]}",
        order["id_customer"],
        address["lastname"],
        address["firstname"],
        address["company"],
        customer["email"],
        address["address1"],
        address["postcode"],
        address["city"],
        country["iso_code"],
    ]
    total = Decimal(order["total_paid_tax_incl"])
    lines = _lines(sim, order, total)
    return [
        [
            *header,
            number,
            article,
            variant,
            label,
            _comma(Decimal(quantity)),
            "",
            _comma(price),
            vat,
            PAYMENT,
            _comma(_cents(total)),
        ]
        for number, (article, variant, label, quantity, price, vat) in enumerate(lines, start=1)
    ]


def _lines(sim: Any, order: dict[str, Any], total: Decimal) -> list[tuple[Any, ...]]:
    lines: list[tuple[Any, ...]] = []
    rates: list[Decimal] = []
    for row in sim.associations("orders", order)["order_rows"]:
        product = sim.record("products", int(row["product_id"]))
        combination_id = int(row["product_attribute_id"])
        variant = sim.record("combinations", combination_id)["reference"] if combination_id else ""
        incl, excl = Decimal(row["unit_price_tax_incl"]), Decimal(row["unit_price_tax_excl"])
        price = _cents(incl) if order["round_type"] == "1" else incl
        rate = ((incl / excl - 1) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        rates.append(rate)
        row_line = (
            product["reference"],
            variant,
            row["product_name"],
            int(row["product_quantity"]),
        )
        lines.append((*row_line, price.quantize(PRICE_STEP, rounding=ROUND_HALF_UP), rate))
    shipping = Decimal(order["total_shipping_tax_incl"])
    discount = Decimal(order["total_discounts_tax_incl"])
    if shipping:
        lines.append(("SHIPPING", "", "Shipping", 1, shipping, CARRIER_RATE))
    if discount:
        rate = min(rates, key=lambda item: abs(item - CARRIER_RATE))
        lines.append(("DISCOUNT", "", "Discount", -1, discount, rate))
    gap = total - sum((_cents(line[3] * line[4]) for line in lines), Decimal(0))
    if gap:
        lines.append(("DISCOUNT", "", "Rounding", 1 if gap > 0 else -1, abs(gap), max(rates)))
    return [(*line[:5], _comma(line[5].normalize())) for line in lines]


def setup_store(data: Path, inbox: Path, shop_url: str, key: str, catalogue: Catalogue) -> None:
    """The back office: its articles and customers, WEB (CSV) and PRESTA (webservice, its key in
    the vault), both with the same article correspondences."""
    from webapp.backoffice.importer import import_csv
    from webapp.econnector import connectors

    services = shop_services(data)
    try:
        services.vault.create(PASSPHRASE)
        articles, customers = _back_office_files(data.parent, catalogue)
        import_csv(services.store, "articles", articles, record_history=False)
        import_csv(services.store, "customers", customers, record_history=False)
        web = connectors.save(
            services.store,
            connectors.Connector(
                code="WEB", partner="Shop", import_dir=str(inbox), export_dir=str(inbox.parent)
            ),
        )
        presta = connectors.save(
            services.store,
            connectors.Connector(
                code="PRESTA",
                partner="Prestashop",
                mode="webservice",
                shop_url=shop_url,
                order_states=",".join(str(state) for state in RECEIVED_STATES),
            ),
            vault=services.vault,
            key=key,
        )
        pairs = [(ref, variant, code) for ref, variant, code, _ in catalogue]
        pairs += [("SHIPPING", "", "PORT"), ("DISCOUNT", "", "REM")]
        with services.store.write() as db:
            codes = {row[0]: row[1] for row in db.execute("SELECT code, id FROM articles")}
            db.conn.executemany(
                "INSERT INTO connector_articles (connector_id, external_code, variant_code,"
                " article_id) VALUES (?, ?, ?, ?)",
                [
                    (connector.id, ref, variant, codes[code])
                    for connector in (web, presta)
                    for ref, variant, code in pairs
                ],
            )
    finally:
        services.close()


def _back_office_files(folder: Path, catalogue: Catalogue) -> tuple[Path, Path]:
    articles, customers = folder / "articles.csv", folder / "customers.csv"
    with articles.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["code", "label", "unit", "vat_rate", "price_excl_vat", "stock"])
        for _, _, code, vat in catalogue:
            writer.writerow([code, f"Article {code}", "U", vat, "10", "100"])
        writer.writerow(["PORT", "Frais de port", "U", "20", "0", ""])
        writer.writerow(["REM", "Remise", "U", "20", "0", ""])
    with customers.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            [
                "code",
                "last_name",
                "first_name",
                "company",
                "email",
                "phone",
                "address",
                "postcode",
                "city",
                "country",
                "vat_number",
            ]
        )
        for number in range(BACK_OFFICE_CUSTOMERS):
            writer.writerow(
                [
                    f"C{number:06d}",
                    f"Nom{number}",
                    "Anne",
                    "",
                    f"c{number}@example.fr",
                    "",
                    "1 rue",
                    "59000",
                    "Lille",
                    "FR",
                    "",
                ]
            )
    return articles, customers


if __name__ == "__main__":
    sys.exit(0)
