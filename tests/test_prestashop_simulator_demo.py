"""`relais serve --demo` starts a PrestaShop simulator with its demo shop and a PRESTA connector in
webservice mode pointing at it, its key in the vault; a restart (a new port) points it again."""

from __future__ import annotations

from webapp.demo import seed_demo, start_prestashop_simulator
from webapp.econnector import connectors
from webapp.econnector.prestashop.client import PrestaShopClient
from webapp.services import Services


def test_the_demo_points_presta_at_the_simulator(services: Services) -> None:
    seed_demo(services)
    stop = start_prestashop_simulator(services)
    try:
        presta = connectors.get(services.store, "PRESTA")
        assert presta.mode == "webservice" and presta.shop_url.startswith("http://127.0.0.1:")
        assert presta.order_states == "2,3"
        key = connectors.shop_key(services.vault, "PRESTA")
        assert key is not None and len(key) == 32
        with PrestaShopClient(presta.shop_url, key) as client:
            index = client.index()
            assert "orders" in index.readable() and "stock_availables" in index.writable()
            assert client.get("products", 1)["reference"] == "PN22"
    finally:
        stop()
    stop = start_prestashop_simulator(services)  # another start, another port
    try:
        again = connectors.get(services.store, "PRESTA")
        assert again.id == presta.id
        with PrestaShopClient(again.shop_url, key) as client:
            assert client.index().shop_name
    finally:
        stop()
