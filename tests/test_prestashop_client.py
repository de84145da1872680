"""The PrestaShop webservice client against the simulator, a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from webapp import i18n
from webapp.econnector.prestashop import xml
from webapp.econnector.prestashop.client import (
    BadShopUrl,
    KeyRejected,
    MethodRefused,
    NotFound,
    NotPrestaShop,
    PrestaShopClient,
    PrestaShopError,
    ShopUnavailable,
    api_url,
    redact,
)
from webapp.econnector.prestashop.connection import check_connection
from webapp.http_retry import RetryPolicy
from webapp.simulators.prestashop import PrestaShopSimulator
from webapp.sockets import bind_socket

FAST = RetryPolicy(attempts=2, base_seconds=0.0, cap_seconds=0.0)


@pytest.fixture
def shop() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator() as sim:
        sim.populate_demo()
        yield sim


def client_for(shop: PrestaShopSimulator, **options: Any) -> PrestaShopClient:
    assert shop.url is not None
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 5.0)
    key = options.pop("key", shop.api_key)
    return PrestaShopClient(shop.url, key, sleep=lambda _s: None, **options)


def queries(shop: PrestaShopSimulator) -> list[str]:
    return [f"{r.path}?{r.query}" for r in shop.requests]


# -- the shop address --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://example.org", "https://example.org/api/"),
        ("https://example.org/", "https://example.org/api/"),
        ("  HTTPS://example.org/boutique/ ", "https://example.org/boutique/api/"),
        ("http://example.org:8080/boutique/api", "http://example.org:8080/boutique/api/"),
        ("https://example.org/boutique/api/", "https://example.org/boutique/api/"),
    ],
)
def test_the_shop_address_keeps_its_folder_and_gets_api_once(given: str, expected: str) -> None:
    assert api_url(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "ftp://example.org/",
        "javascript:alert(1)",
        "example.org/boutique",
        "https://",
        "https://example.org/?ws_key=abc",
        "https://user:pw@example.org/",
        "https://example.org/my shop",
    ],
)
def test_other_addresses_are_refused_with_a_clear_error(given: str) -> None:
    with pytest.raises(BadShopUrl):
        api_url(given)


# -- reading -----------------------------------------------------------------------------------


def test_connection_test_lists_what_the_key_may_read_and_write(
    shop: PrestaShopSimulator,
) -> None:
    assert shop.url is not None
    result = check_connection(shop.url, shop.api_key)
    assert result.ok and result.exit_code == 0 and result.status == 200
    assert result.shop_name == "Domaine du Relais"
    assert {"orders", "customers", "products", "stock_availables"} <= set(result.readable)
    assert result.writable == ["products", "stock_availables"]
    assert result.missing_read == result.missing_write == []
    # The key travelled as HTTP Basic, never in a URL.
    assert [r.auth for r in shop.requests] == ["basic"]
    assert all(shop.api_key not in text for text in queries(shop))


def test_a_key_that_may_not_read_everything_names_what_is_missing(
    shop: PrestaShopSimulator,
) -> None:
    assert shop.url is not None
    narrow = "N" * 32
    shop.add_key(narrow, {"orders": {"GET"}, "products": {"GET", "PUT"}})
    result = check_connection(shop.url, narrow)
    assert result.ok
    assert result.readable == ["orders", "products"]
    assert "customers" in result.missing_read and result.missing_write == ["stock_availables"]


def test_a_bad_key_is_refused_with_401(shop: PrestaShopSimulator) -> None:
    assert shop.url is not None
    result = check_connection(shop.url, "B" * 32)
    assert not result.ok and result.key_refused and result.status == 401
    assert result.exit_code == 3
    with client_for(shop, key="B" * 32) as client, pytest.raises(KeyRejected):
        client.index()


def test_a_resource_the_key_may_not_use_is_a_refused_method(shop: PrestaShopSimulator) -> None:
    shop.add_key("O" * 32, {"orders": {"GET"}})
    with client_for(shop, key="O" * 32) as client, pytest.raises(MethodRefused) as refused:
        client.get("customers", 1)
    assert refused.value.status == 401
    assert "not allowed" in refused.value.params["detail"]


def test_records_are_plain_dicts_with_ints_decimals_and_dates_as_written(
    shop: PrestaShopSimulator,
) -> None:
    order_id = shop.demo_ids["rounding_order"]
    with client_for(shop) as client:
        order = client.get("orders", order_id)
        product = client.get("products", shop.demo_ids["PN22"])
    assert order["id"] == order_id and isinstance(order["id_customer"], int)
    assert order["total_paid_tax_incl"] == Decimal("45.00")
    assert str(order["total_paid_tax_incl"]).endswith("000000")  # six decimals, as written
    assert order["delivery_date"] is None and order["invoice_date"] is None  # 0000-00-00 ...
    assert len(order["date_upd"]) == 19 and order["date_upd"][4] == "-"
    rows = order["associations"]["order_rows"]
    assert isinstance(rows, xml.Association) and rows.node == "order_row"
    assert rows[0]["product_quantity"] == 3
    assert rows[0]["unit_price_tax_incl"] == Decimal("15.004")
    assert isinstance(product["name"], xml.Languages) and product["name"]["1"]
    assert product["reference"] == "PN22"


def test_orders_since_a_cursor_are_paged_oldest_first_with_date_1(
    shop: PrestaShopSimulator,
) -> None:
    with client_for(shop) as client:
        everything = client.list_ids("orders")
        pages = list(client.orders_since(None, page_size=5))
        seen = [order["id"] for page in pages for order in page]
        assert sorted(seen) == sorted(everything) and len(seen) == len(set(seen))
        stamps = [(order["date_upd"], order["id"]) for page in pages for order in page]
        assert stamps == sorted(stamps)
        assert [len(page) for page in pages][:-1] == [5] * (len(pages) - 1)
        cursor = pages[0][-1]["date_upd"]
        later = [o for page in client.orders_since(cursor, page_size=5) for o in page]
        same_second = [o for page in client.orders_since(cursor, inclusive=True) for o in page]
    assert later and all(order["date_upd"] > cursor for order in later)
    assert {o["id"] for o in same_second} == {o["id"] for o in later} | {
        o["id"] for page in pages for o in page if o["date_upd"] == cursor
    }
    listed = [q for q in queries(shop) if "display=full" in q]
    assert all("date=1" in q for q in listed)
    assert any("limit=5%2C5" in q or "limit=5,5" in q for q in listed)


def test_orders_are_taken_only_in_the_chosen_states(shop: PrestaShopSimulator) -> None:
    with client_for(shop) as client:
        chosen = [o for page in client.orders_since(None, states=[2, 3]) for o in page]
        every = [o for page in client.orders_since(None) for o in page]
    assert chosen and all(order["current_state"] in (2, 3) for order in chosen)
    assert len(chosen) < len(every)


def test_a_date_filter_without_date_1_shows_the_shops_own_error(
    shop: PrestaShopSimulator,
) -> None:
    with client_for(shop) as client, pytest.raises(PrestaShopError) as refused:
        client.list_full("orders", filters={"date_upd": ">[2020-01-01 00:00:00]"})
    assert refused.value.status == 400
    assert "filter" in refused.value.translated().lower()


def test_many_records_by_id_come_in_one_request(shop: PrestaShopSimulator) -> None:
    with client_for(shop) as client:
        before = len(shop.requests)
        found = client.get_many("products", [3, 1, 2, 1, 999])
    assert sorted(found) == [1, 2, 3]
    assert len(shop.requests) == before + 1
    assert "filter%5Bid%5D=%5B1%7C2%7C3%7C999%5D" in shop.requests[-1].query


def test_an_unknown_record_is_not_found(shop: PrestaShopSimulator) -> None:
    with client_for(shop) as client, pytest.raises(NotFound):
        client.get("orders", 99999)


# -- writing -----------------------------------------------------------------------------------


def test_put_replaces_a_stock_available_whole(shop: PrestaShopSimulator) -> None:
    product_id = shop.demo_ids["PN22"]
    with client_for(shop) as client:
        [row] = client.list_full("stock_availables", filters={"id_product": f"[{product_id}]"})
        row["quantity"] = 41
        answer = client.put("stock_availables", row["id"], row)
    assert answer["quantity"] == 41
    assert shop.stock(product_id) == 41
    assert shop.requests[-1].method == "PUT" and b"<![CDATA[41]]>" in shop.requests[-1].body


def test_a_product_sent_back_whole_leaves_out_its_read_only_fields(
    shop: PrestaShopSimulator,
) -> None:
    with client_for(shop) as client:
        product = client.get("products", shop.demo_ids["PN22"])
        product["price"] = Decimal("12.400000")
        answer = client.put("products", product["id"], product)
    assert answer["price"] == Decimal("12.4")
    assert b"manufacturer_name" not in shop.requests[-1].body


def test_a_put_refused_by_the_host_or_the_key_is_a_refused_method(
    shop: PrestaShopSimulator,
) -> None:
    shop.add_key("R" * 32, {name: {"GET"} for name in ("stock_availables",)})
    with client_for(shop, key="R" * 32) as client:
        row = client.get("stock_availables", 1)
        with pytest.raises(MethodRefused) as refused:
            client.put("stock_availables", 1, row)
    assert refused.value.status == 405
    shop.fail_next(1, status=403, method="PUT")
    with client_for(shop) as client, pytest.raises(MethodRefused) as blocked:
        client.put("stock_availables", 1, row)
    assert blocked.value.status == 403


# -- faults ------------------------------------------------------------------------------------


def test_a_5xx_is_retried_then_the_answer_is_used(shop: PrestaShopSimulator) -> None:
    shop.fail_next(1, status=503)
    with client_for(shop) as client:
        assert client.index().shop_name
        assert client.requests_made == 2


def test_a_shop_that_keeps_failing_is_unavailable(shop: PrestaShopSimulator) -> None:
    shop.fail_next(5, status=500)
    with client_for(shop) as client, pytest.raises(ShopUnavailable):
        client.index()


def test_a_shop_that_does_not_answer_in_time_is_unavailable(shop: PrestaShopSimulator) -> None:
    shop.delay_next(2, 2.0)
    with client_for(shop, timeout=0.3) as client, pytest.raises(ShopUnavailable):
        client.index()


def test_an_unreachable_shop_is_unavailable() -> None:
    with bind_socket("127.0.0.1", 0, fallback=False) as sock:
        port = sock.getsockname()[1]  # bound, never listening: the connection is refused
        result = check_connection(f"http://127.0.0.1:{port}/boutique", "K" * 32)
    assert not result.ok and not result.key_refused and result.status is None
    assert result.exit_code == 1


class _HtmlSite(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/moved"):
            self.send_response(301)
            self.send_header("Location", "https://example.org/api/?ws_key=SECRETSECRET")
            self.end_headers()
            return
        body = b"<!doctype html><html><body>Welcome</body></html>"
        self.send_response(200 if "/api/" in self.path else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def html_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_web_page_is_not_a_prestashop_webservice(html_site: str) -> None:
    with i18n.language("en"):
        result = check_connection(html_site + "/shop", "K" * 32)
    assert not result.ok and result.exit_code == 1 and result.status == 200
    assert "is not a PrestaShop webservice" in result.message
    moved_site = PrestaShopClient(html_site + "/moved", "K" * 32, use_ws_key=True)
    with moved_site as client, pytest.raises(NotPrestaShop) as moved:
        client.index()
    assert "SECRETSECRET" not in moved.value.translated()


# -- the ws_key fallback -----------------------------------------------------------------------


def test_ws_key_reaches_a_host_that_strips_the_authorization_header(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # A server started earlier in this process quietens httpx (webapp/logs.py): heard here again.
    caplog.set_level(logging.DEBUG, logger="httpx")
    with PrestaShopSimulator(strip_authorization=True) as sim:
        sim.populate_demo()
        assert sim.url is not None
        assert check_connection(sim.url, sim.api_key).key_refused  # Basic never arrives
        result = check_connection(sim.url, sim.api_key, use_ws_key=True)
        assert result.ok and sim.requests[-1].auth == "ws_key"
        sim.fail_next(5, status=500)
        failing = client_for(sim, use_ws_key=True)
        with failing as client, pytest.raises(ShopUnavailable) as failed:
            client.get("orders", 1)
    assert sim.api_key not in failed.value.translated()
    assert sim.api_key not in caplog.text
    assert "ws_key=***" in caplog.text  # httpx logged the URL, redacted


def test_redact_cuts_the_key_out_of_any_text() -> None:
    assert redact("GET http://x/api/orders?ws_key=ABC123&limit=5") == (
        "GET http://x/api/orders?ws_key=***&limit=5"
    )


# -- the XML itself ----------------------------------------------------------------------------


def test_entities_and_doctypes_are_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE prestashop [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<prestashop><api>&x;</api></prestashop>"
    )
    with pytest.raises(xml.ShopAnswerError):
        xml.parse(bomb)
    with pytest.raises(xml.ShopAnswerError):
        xml.parse(b"<html><body>shop</body></html>")
    with pytest.raises(xml.ShopAnswerError):
        xml.parse(b"<prestashop>")


def test_a_record_written_for_a_put_reads_back_the_same() -> None:
    record = {
        "id": 7,
        "price": Decimal("71.510000"),
        "name": xml.Languages({"1": "Pinot <noir> & co", "2": "Pinot"}),
        "date_upd": "2026-01-02 03:04:05",
        "available_date": None,
        "associations": {"combinations": xml.Association("combination", [{"id": 3}])},
    }
    back = xml.record(xml.parse(xml.document("products", record)), "products")
    assert back == record
    assert back["associations"]["combinations"].node == "combination"
