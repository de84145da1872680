"""The PrestaShop simulator driven by prestapyt, a maintained PrestaShop client that knows nothing
of Relais: it must answer as PrestaShop does, not as our own client expects.

prestapyt is a development dependency (pyproject's `dev` extra), installed by `make test`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import prestapyt  # type: ignore[import-untyped]
import pytest

from webapp.simulators.prestashop import PrestaShopSimulator

# prestapyt 0.11 knows PrestaShop up to 1.7.8 and warns on the 8.x version header a real shop
# of today sends (PSWS-Version): a warning, not an error.
pytestmark = pytest.mark.filterwarnings("ignore:This library may not be compatible")


@pytest.fixture
def shop() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator() as sim:
        sim.populate_demo()
        yield sim


@pytest.fixture
def webservice(shop: PrestaShopSimulator) -> Any:
    return prestapyt.PrestaShopWebServiceDict(shop.url, shop.api_key)


def test_search_with_filters_sort_and_limit(webservice: Any) -> None:
    assert webservice.search("orders") == list(range(1, 13))
    options = {"filter[reference]": "[PN22|POM20]"}
    assert webservice.search("products", options=options) == [1, 2]
    paged = webservice.search(
        "orders",
        options={
            "filter[date_upd]": ">[2000-01-01 00:00:00]",
            "date": 1,
            "sort": "[date_upd_ASC]",
            "limit": "0,3",
        },
    )
    assert len(paged) == 3 and paged[0] == 1  # the oldest is the rounding order


def test_the_date_filter_without_date_1_is_prestashop_error_32(webservice: Any) -> None:
    with pytest.raises(prestapyt.PrestaShopWebServiceError) as raised:
        webservice.search("orders", options={"filter[date_upd]": ">[2000-01-01 00:00:00]"})
    assert raised.value.error_code == 400
    assert raised.value.ps_error_code == "32"
    assert raised.value.ps_error_msg.startswith("This filter does not exist")


def test_get_one_order_with_its_rows(shop: PrestaShopSimulator, webservice: Any) -> None:
    order = webservice.get("orders", shop.demo_ids["rounding_order"])["order"]
    row = order["associations"]["order_rows"]["order_row"]
    assert row["product_reference"] == "CHARD23-75"
    assert (row["unit_price_tax_incl"], order["total_paid_tax_incl"]) == ("15.004000", "45.000000")


def test_edit_stock_and_price_as_prestapyt_does(shop: PrestaShopSimulator, webservice: Any) -> None:
    stock = webservice.get("stock_availables", 1)
    stock["stock_available"]["quantity"] = "5"
    answer = webservice.edit("stock_availables", stock)  # PUT /api/stock_availables, id in body
    assert answer["prestashop"]["stock_available"]["quantity"] == "5"
    assert shop.stock(1) == 5
    product = webservice.get("products", 1)
    with pytest.raises(prestapyt.PrestaShopWebServiceError) as raised:
        webservice.edit("products", product)  # manufacturer_name and quantity are read-only
    assert raised.value.ps_error_code == "93"
    del product["product"]["manufacturer_name"], product["product"]["quantity"]
    product["product"]["price"] = "12.4"
    webservice.edit("products", product)
    assert shop.record("products", 1)["price"] == "12.400000"


def test_a_bad_key_is_an_authentication_error(shop: PrestaShopSimulator) -> None:
    stranger = prestapyt.PrestaShopWebServiceDict(shop.url, "X" * 32)
    with pytest.raises(prestapyt.PrestaShopAuthenticationError):
        stranger.search("orders")
