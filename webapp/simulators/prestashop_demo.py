"""A seeded demo shop for the PrestaShop simulator: a Burgundy wine estate's web shop.

Chosen to exercise what a connector must get right: products with and without combinations
(whose references differ from the product's), two customers with the same name, orders in several
states with date_upd spread over days, shipping and a discount on some, and PrestaShop's per-item
rounding (3 x 15.004 billed 45.00). PN22, POM20 and CREMANT are the references the CSV demo
connector (webapp/demo.py) already maps.
"""

from __future__ import annotations

from datetime import timedelta

from webapp.simulators.prestashop_orders import ROUND_ITEM, ROUND_LINE, Line, OrderBook

CUSTOMERS = (
    ("Isabelle", "Petit", "isabelle.petit@example.fr", "12 rue des Forges", "21000", "Dijon", "FR"),
    ("Julie", "Moreau", "julie.moreau@example.fr", "3 place Darcy", "21000", "Dijon", "FR"),
    ("Jean", "Dupont", "jean.dupont@example.fr", "8 rue Monge", "21200", "Beaune", "FR"),
    ("Jean", "Dupont", "j.dupont@example.be", "Rue Haute 41", "1000", "Bruxelles", "BE"),
    ("Anna", "de Vries", "anna.devries@example.nl", "Keizersgracht 12", "1015", "Amsterdam", "NL"),
    (
        "Marc",
        "Lambert",
        "marc@lambert-vins.example.lu",
        "2 rue du Fort",
        "1150",
        "Luxembourg",
        "LU",
    ),
)


def populate(shop: OrderBook, *, orders: int = 12) -> dict[str, int]:
    """The demo catalogue, customers and `orders` orders (at least the 4 fixed ones).

    Returns the ids a test names: products, combinations, customers and the rounding order."""
    rng = shop._rng
    ids: dict[str, int] = {}
    ids["PN22"] = shop.add_product("PN22", "Pinot Noir 2022", "17.500000", quantity=120)
    ids["POM20"] = shop.add_product("POM20", "Pommard 2020", "48.333333", quantity=36)
    ids["CREMANT"] = shop.add_product("CREMANT", "Crémant de Bourgogne", "13.750000")
    ids["CREMANT-BRUT"] = shop.add_combination(ids["CREMANT"], "CREMANT-BRUT", quantity=60)
    ids["CREMANT-ROSE"] = shop.add_combination(
        ids["CREMANT"], "CREMANT-ROSE", price_impact="1.250000", quantity=24
    )
    # 12.503333 excl. VAT at 20 % is 15.004000 incl.: the rounding case.
    ids["CHARD23"] = shop.add_product("CHARD23", "Chardonnay 2023", "12.503333")
    ids["CHARD23-75"] = shop.add_combination(ids["CHARD23"], "CHARD23-75", quantity=90)
    ids["CHARD23-MAG"] = shop.add_combination(
        ids["CHARD23"], "CHARD23-MAG", price_impact="15.000000", quantity=6
    )
    ids["ALIG23"] = shop.add_product("ALIG23", "Aligoté 2023", "9.166667", quantity=48)
    ids["JUS-RAISIN"] = shop.add_product(
        "JUS-RAISIN", "Jus de raisin", "4.170000", tax_group=2, quantity=30
    )
    ids["TIRE-BOUCHON"] = shop.add_product("TIRE-BOUCHON", "Tire-bouchon", "6.625000", quantity=15)
    customers = []
    for first, last, email, street, postcode, city, iso in CUSTOMERS:
        customer = shop.add_customer(first, last, email)
        shop.add_address(customer, street, postcode, city, iso)
        customers.append(customer)
    ids.update(customer_petit=customers[0], dupont_fr=customers[2], dupont_be=customers[3])
    start = shop.shop_now() - timedelta(days=10)
    ids["rounding_order"] = shop.add_order(
        customers[0],
        [Line(ids["CHARD23"], 3, ids["CHARD23-75"])],
        round_type=ROUND_ITEM,
        date_add=start,
    )
    shop.add_order(
        customers[1],
        [Line(ids["PN22"], 3), Line(ids["POM20"], 1)],
        shipping_incl="9.90",
        date_add=start + timedelta(days=1, hours=3),
    )
    shop.add_order(
        customers[2],
        [Line(ids["CREMANT"], 6, ids["CREMANT-ROSE"]), Line(ids["JUS-RAISIN"], 2)],
        discount_incl="5.00",
        shipping_incl="9.90",
        round_type=ROUND_LINE,
        state=4,
        date_add=start + timedelta(days=2, hours=5),
    )
    shop.add_order(
        customers[3],
        [Line(ids["PN22"], 6), Line(ids["TIRE-BOUCHON"], 1)],
        state=10,
        date_add=start + timedelta(days=3),
    )
    products = [
        (ids["PN22"], 0),
        (ids["POM20"], 0),
        (ids["CREMANT"], ids["CREMANT-BRUT"]),
        (ids["CHARD23"], ids["CHARD23-MAG"]),
        (ids["ALIG23"], 0),
        (ids["JUS-RAISIN"], 0),
    ]
    states = (2, 2, 2, 3, 4, 5, 1, 6, 10)
    step = timedelta(days=9) / max(orders - 4, 1)
    for number in range(4, orders):
        picked = rng.sample(products, k=rng.randint(1, 3))
        lines = [Line(p, rng.randint(1, 6), c) for p, c in picked]
        shop.add_order(
            rng.choice(customers),
            lines,
            state=rng.choice(states),
            shipping_incl=rng.choice(("0", "9.90", "14.50")),
            discount_incl=rng.choice(("0", "0", "0", "5.00")),
            date_add=start + timedelta(days=1) + step * (number - 4),
        )
    return ids
