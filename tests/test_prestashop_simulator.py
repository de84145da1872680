"""The PrestaShop simulator over real HTTP: authentication both ways, the /api/ index, lists with
display, filter (and the date=1 rule), sort and limit, JSON output, error bodies, orders and their
rounding, PUT round trips, hosts that block PUT or strip the Authorization header, injected faults
and the request log."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from lxml import etree

from webapp.simulators.prestashop import REALM, PrestaShopSimulator
from webapp.simulators.prestashop_orders import Line

XLINK = "{http://www.w3.org/1999/xlink}href"


@pytest.fixture
def shop() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator() as sim:
        sim.populate_demo()
        yield sim


@pytest.fixture
def client(shop: PrestaShopSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop.api_url, auth=(shop.api_key, ""), timeout=5) as http:
        yield http


def xml(response: httpx.Response) -> etree._Element:
    return etree.fromstring(response.content)


def error_codes(response: httpx.Response) -> list[int]:
    return [int(code.text) for code in xml(response).iter("code")]


def ids(response: httpx.Response, node: str) -> list[int]:
    return [int(item.get("id")) for item in xml(response).iter(node)]


def text(element: etree._Element, name: str) -> str:
    found = element.find(name)
    assert found is not None, name
    return found.text or ""


# --- authentication --------------------------------------------------------------------------


def test_basic_auth_and_ws_key_both_work(shop: PrestaShopSimulator) -> None:
    basic = httpx.get(shop.api_url + "orders", auth=(shop.api_key, ""))
    by_query = httpx.get(shop.api_url + "orders", params={"ws_key": shop.api_key})
    assert basic.status_code == by_query.status_code == 200
    assert basic.content == by_query.content
    assert [r.auth for r in shop.requests] == ["basic", "ws_key"]
    assert shop.api_key not in shop.requests[0].query
    assert re.fullmatch(r"[A-Z0-9]{32}", shop.api_key)


def test_missing_key_is_401_with_the_realm(shop: PrestaShopSimulator) -> None:
    response = httpx.get(shop.api_url)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == REALM
    assert "Welcome to PrestaShop Webservice" in REALM


@pytest.mark.parametrize(("key", "codes"), [("X" * 32, [20, 21]), ("short", [18]), ("", [17])])
def test_bad_key_is_401_with_prestashop_errors(
    shop: PrestaShopSimulator, key: str, codes: list[int]
) -> None:
    response = httpx.get(shop.api_url + "orders", auth=(key, ""))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == REALM
    assert error_codes(response) == codes


def test_stripped_authorization_leaves_only_ws_key() -> None:
    with PrestaShopSimulator(strip_authorization=True) as sim:
        basic = httpx.get(sim.api_url, auth=(sim.api_key, ""))
        assert basic.status_code == 401
        by_query = httpx.get(sim.api_url, params={"ws_key": sim.api_key})
        assert by_query.status_code == 200
        assert [r.auth for r in sim.requests] == [None, "ws_key"]


# --- the index and permissions ---------------------------------------------------------------


def test_index_lists_the_key_resources_and_methods(
    shop: PrestaShopSimulator, client: httpx.Client
) -> None:
    response = client.get("")
    assert response.status_code == 200
    api = xml(response).find("api")
    assert api is not None and api.get("shopName")
    orders, stock = api.find("orders"), api.find("stock_availables")
    assert orders is not None and stock is not None
    assert (orders.get("get"), orders.get("put")) == ("true", "false")
    assert (stock.get("get"), stock.get("put")) == ("true", "true")
    assert orders.get(XLINK) == shop.api_url + "orders"
    head = client.head("")
    assert head.status_code == 200 and head.content == b""
    as_json = client.get("", params={"output_format": "JSON"}).json()
    assert "orders" in as_json and "stock_availables" in as_json


def test_a_restricted_key_sees_and_uses_only_its_resources(shop: PrestaShopSimulator) -> None:
    key = "K" * 32
    shop.add_key(key, {"orders": {"GET"}})
    index = httpx.get(shop.api_url, auth=(key, ""))
    assert [child.tag for child in xml(index).find("api")] == ["orders"]
    products = httpx.get(shop.api_url + "products", auth=(key, ""))
    assert products.status_code == 401 and error_codes(products) == [26]
    head = httpx.head(shop.api_url + "orders", auth=(key, ""))
    assert head.status_code == 405


def test_unknown_resource_and_forbidden_methods(client: httpx.Client) -> None:
    unknown = client.get("ordres")
    assert unknown.status_code == 400 and error_codes(unknown) == [27]
    assert b'Did you mean: "orders"' in unknown.content
    put_orders = client.put("orders/1", content=b"<prestashop/>")
    assert put_orders.status_code == 405 and error_codes(put_orders) == [25]
    delete_stock = client.delete("stock_availables/1")
    assert delete_stock.status_code == 405 and error_codes(delete_stock) == [101]


# --- lists -----------------------------------------------------------------------------------


def test_a_list_gives_ids_with_links_unless_display(
    shop: PrestaShopSimulator, client: httpx.Client
) -> None:
    response = client.get("orders")
    orders = list(xml(response).iter("order"))
    assert [int(o.get("id")) for o in orders] == list(range(1, 13))
    assert orders[0].get(XLINK) == shop.api_url + "orders/1"
    assert orders[0].find("reference") is None
    full = list(xml(client.get("orders", params={"display": "full"})).iter("order"))
    assert text(full[0], "reference") and full[0].find("associations/order_rows") is not None
    some = xml(client.get("customers", params={"display": "[id,lastname]"}))
    first = next(some.iter("customer"))
    assert [child.tag for child in first] == ["id", "lastname"]


@pytest.mark.parametrize(("display", "code"), [("[id,nope]", 35), ("nope", 36)])
def test_a_bad_display_is_400(client: httpx.Client, display: str, code: int) -> None:
    response = client.get("orders", params={"display": display})
    assert response.status_code == 400 and error_codes(response) == [code]


def test_filters_literal_or_and_case(shop: PrestaShopSimulator, client: httpx.Client) -> None:
    dupont = client.get("customers", params={"filter[lastname]": "[dupont]"})
    assert ids(dupont, "customer") == [shop.demo_ids["dupont_fr"], shop.demo_ids["dupont_be"]]
    either = client.get("products", params={"filter[reference]": "[PN22|POM20]"})
    assert ids(either, "product") == [shop.demo_ids["PN22"], shop.demo_ids["POM20"]]
    begins = client.get("products", params={"filter[reference]": "[CHARD]%"})
    assert ids(begins, "product") == [shop.demo_ids["CHARD23"]]
    interval = client.get("orders", params={"filter[id]": "[2,4]"})
    assert ids(interval, "order") == [2, 3, 4]
    by_name = client.get("products", params={"filter[name]": "[pinot]%"})  # multilingual field
    assert ids(by_name, "product") == [shop.demo_ids["PN22"]]
    unknown = client.get("orders", params={"filter[nope]": "[1]"})
    assert unknown.status_code == 400 and error_codes(unknown) == [32]


def test_a_date_filter_requires_date_1(shop: PrestaShopSimulator, client: httpx.Client) -> None:
    since = "2000-01-01 00:00:00"
    refused = client.get("orders", params={"filter[date_upd]": f">[{since}]"})
    assert refused.status_code == 400 and error_codes(refused) == [32]
    sort_refused = client.get("orders", params={"sort": "[date_upd_ASC]"})
    assert sort_refused.status_code == 400 and error_codes(sort_refused) == [38]
    allowed = client.get("orders", params={"filter[date_upd]": f">[{since}]", "date": "1"})
    assert allowed.status_code == 200 and len(ids(allowed, "order")) == 12


def test_date_filter_is_strictly_after_and_sort_follows_date_upd(
    shop: PrestaShopSimulator, client: httpx.Client
) -> None:
    params = {"display": "[id,date_upd]", "date": "1", "sort": "[date_upd_ASC,id_ASC]"}
    rows = list(xml(client.get("orders", params=params)).iter("order"))
    stamps = [text(r, "date_upd") for r in rows]
    assert stamps == sorted(stamps) and len(stamps) == 12
    cursor = stamps[5]
    after = client.get("orders", params={**params, "filter[date_upd]": f">[{cursor}]"})
    assert [text(r, "date_upd") for r in xml(after).iter("order")] == stamps[6:]
    newest_first = client.get("orders", params={"sort": "[id_DESC]"})
    assert ids(newest_first, "order") == list(range(12, 0, -1))


def test_a_changed_order_comes_back_after_the_cursor(
    shop: PrestaShopSimulator, client: httpx.Client
) -> None:
    params = {"display": "[id,date_upd,current_state]", "date": "1", "sort": "[date_upd_DESC]"}
    newest = text(next(xml(client.get("orders", params=params)).iter("order")), "date_upd")
    shop.set_order_state(1, 4, at=datetime.strptime(newest, "%Y-%m-%d %H:%M:%S") + timedelta(1))
    after = client.get("orders", params={**params, "filter[date_upd]": f">[{newest}]"})
    rows = list(xml(after).iter("order"))
    assert [(text(r, "id"), text(r, "current_state")) for r in rows] == [("1", "4")]


def test_limit_pages_through_every_id_once(client: httpx.Client) -> None:
    seen: list[int] = []
    for offset in range(0, 20, 5):
        page = client.get("orders", params={"limit": f"{offset},5", "sort": "[id_ASC]"})
        seen += ids(page, "order")
    assert seen == list(range(1, 13))
    assert ids(client.get("orders", params={"limit": "3"}), "order") == [1, 2, 3]
    bad = client.get("orders", params={"limit": "1,2,3"})
    assert bad.status_code == 400 and error_codes(bad) == [39]
    bad_sort = client.get("orders", params={"sort": "[id]"})
    assert bad_sort.status_code == 400 and error_codes(bad_sort) == [37]


# --- JSON ------------------------------------------------------------------------------------


def test_json_output(shop: PrestaShopSimulator, client: httpx.Client) -> None:
    listed = client.get("orders", params={"output_format": "JSON", "limit": "2"})
    assert listed.headers["content-type"].startswith("application/json")
    assert listed.json() == {"orders": [{"id": 1}, {"id": 2}]}
    one = client.get("products/1", params={"output_format": "JSON"}).json()["product"]
    assert one["reference"] == "PN22" and one["price"] == "17.500000"
    assert one["name"] == "Pinot Noir 2022"  # one language: a plain string
    empty = client.get("orders", params={"output_format": "JSON", "filter[id]": "[999]"})
    assert empty.json() == []
    error = client.get("nope", params={"output_format": "JSON"})
    assert error.status_code == 400 and error.json()["errors"][0]["code"] == 27


# --- orders ----------------------------------------------------------------------------------


def test_orders_carry_rows_totals_and_prestashop_rounding(
    shop: PrestaShopSimulator, client: httpx.Client
) -> None:
    order = xml(client.get(f"orders/{shop.demo_ids['rounding_order']}")).find("order")
    assert order is not None
    row = order.find("associations/order_rows/order_row")
    assert row is not None
    assert text(row, "product_quantity") == "3"
    assert text(row, "unit_price_tax_incl") == "15.004000"
    assert text(row, "product_reference") == "CHARD23-75"  # the combination's reference
    assert text(order, "total_products_wt") == "45.000000"  # 15.00 x 3, not 45.01
    assert text(order, "total_paid_tax_incl") == "45.000000"
    assert text(order, "invoice_date") == "0000-00-00 00:00:00"
    customer = order.find("id_customer")
    assert customer is not None and customer.get(XLINK).endswith("/customers/1")
    datetime.strptime(text(order, "date_upd"), "%Y-%m-%d %H:%M:%S")
    every = xml(client.get("orders", params={"display": "full"}))
    for item in every.iter("order"):
        paid = Decimal(text(item, "total_paid_tax_incl"))
        parts = (
            Decimal(text(item, "total_products_wt"))
            + Decimal(text(item, "total_shipping_tax_incl"))
            - Decimal(text(item, "total_discounts_tax_incl"))
        )
        assert paid == parts and len(text(item, "total_paid_tax_incl").split(".")[1]) == 6
    shipped = [i for i in every.iter("order") if text(i, "total_shipping_tax_incl") != "0.000000"]
    discounted = [i for i in every.iter("order") if text(i, "total_discounts") != "0.000000"]
    assert shipped and discounted
    assert len({text(i, "current_state") for i in every.iter("order")}) >= 3


def test_the_shop_clock_may_differ_from_ours() -> None:
    with PrestaShopSimulator(clock_offset_seconds=-7200) as sim:
        customer = sim.add_customer("Eva", "Klein", "eva@example.de")
        sim.add_address(customer, "Hauptstraße 1", "10115", "Berlin", "DE")
        product = sim.add_product("X1", "X", "10.00")
        order_id = sim.add_order(customer, [Line(product, 1)])
        stamp = sim.record("orders", order_id)["date_upd"]
        written = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
        ours = datetime.now(UTC).replace(tzinfo=None)
        assert timedelta(hours=1, minutes=59) < ours - written < timedelta(hours=2, minutes=1)


def test_an_unknown_id_is_404_and_head_has_no_body(client: httpx.Client) -> None:
    missing = client.get("orders/999")
    assert missing.status_code == 404 and missing.content == b""
    head = client.head("orders/1")
    assert head.status_code == 200 and head.content == b""


# --- PUT -------------------------------------------------------------------------------------


def _resource_body(client: httpx.Client, path: str) -> etree._Element:
    return xml(client.get(path))


def test_stock_available_round_trip(shop: PrestaShopSimulator, client: httpx.Client) -> None:
    product, combination = shop.demo_ids["CREMANT"], shop.demo_ids["CREMANT-ROSE"]
    row_id = shop.stock_row(product, combination)["id"]
    document = _resource_body(client, f"stock_availables/{row_id}")
    quantity = document.find("stock_available/quantity")
    assert quantity is not None
    quantity.text = "7"
    response = client.put(f"stock_availables/{row_id}", content=etree.tostring(document))
    assert response.status_code == 200
    assert text(xml(response).find("stock_available"), "quantity") == "7"
    assert shop.stock(product, combination) == 7
    # The product's own row holds the sum of its combinations' (60 brut + 7 rosé).
    assert shop.stock(product) == 67
    again = xml(client.get(f"products/{product}")).find("product")
    assert again is not None and text(again, "quantity") == "67"


def test_product_price_round_trip_without_read_only_fields(
    shop: PrestaShopSimulator, client: httpx.Client
) -> None:
    document = _resource_body(client, "products/1")
    product = document.find("product")
    assert product is not None
    refused = client.put("products/1", content=etree.tostring(document))
    assert refused.status_code == 400 and error_codes(refused) == [93]
    for name in ("manufacturer_name", "quantity"):
        product.remove(product.find(name))
    product.find("price").text = "12.4"
    response = client.put("products/1", content=etree.tostring(document))
    assert response.status_code == 200
    assert shop.record("products", 1)["price"] == "12.400000"
    assert shop.record("products", 1)["reference"] == "PN22"


def _product_body(client: httpx.Client) -> etree._Element:
    document = _resource_body(client, "products/1")
    product = document.find("product")
    assert product is not None
    for name in ("manufacturer_name", "quantity"):
        product.remove(product.find(name))
    return document


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ("drop-price", 400, 41),
        ("bad-price", 400, 85),
        ("other-id", 400, 90),
        ("no-id", 400, 90),
    ],
)
def test_a_bad_put_is_refused_and_nothing_changes(
    shop: PrestaShopSimulator, client: httpx.Client, change: str, status: int, code: int
) -> None:
    before = shop.record("products", 1)
    document = _product_body(client)
    product = document.find("product")
    assert product is not None
    if change == "drop-price":
        product.remove(product.find("price"))
    elif change == "bad-price":
        product.find("price").text = "douze"
        product.find("reference").text = "CHANGED"
    elif change == "other-id":
        product.find("id").text = "2"
    else:
        product.remove(product.find("id"))
    response = client.put("products/1", content=etree.tostring(document))
    assert response.status_code == status and error_codes(response) == [code]
    assert shop.record("products", 1) == before
    assert shop.record("products", 2)["reference"] == "POM20"


def _stock_body(client: httpx.Client, rows: list[tuple[int, int]]) -> bytes:
    """One PUT body with several stock_available entities (row id, quantity), each the row as
    GET gives it (an id the shop lacks: a bare entity), as a batch send would write them."""
    entities = []
    for row_id, quantity in rows:
        answer = client.get(f"stock_availables/{row_id}")
        if answer.status_code == 404:
            entities.append(f"<stock_available><id>{row_id}</id></stock_available>")
            continue
        entity = xml(answer).find("stock_available")
        assert entity is not None
        entity.find("quantity").text = str(quantity)
        entities.append(etree.tostring(entity).decode())
    return f"<prestashop>{''.join(entities)}</prestashop>".encode()


def test_a_put_of_several_stock_rows_is_saved_one_after_the_other(
    shop: PrestaShopSimulator, client: httpx.Client
) -> None:
    both = client.put("stock_availables", content=_stock_body(client, [(1, 11), (2, 22)]))
    assert both.status_code == 200
    assert [text(r, "quantity") for r in xml(both).iter("stock_available")] == ["11", "22"]
    assert (shop.stock(1), shop.stock(2)) == (11, 22)
    duplicate = client.put("stock_availables", content=_stock_body(client, [(1, 7), (1, 8)]))
    assert duplicate.status_code == 400 and error_codes(duplicate) == [89]
    assert shop.stock(1) == 11
    # As PrestaShop: the first entity is written before the unknown second one is refused.
    half = client.put("stock_availables", content=_stock_body(client, [(1, 3), (999, 1)]))
    assert half.status_code == 404 and error_codes(half) == [92]
    assert shop.stock(1) == 3


def test_put_on_an_unknown_id_and_bad_xml(client: httpx.Client) -> None:
    body = b"<prestashop><stock_available><id>999</id></stock_available></prestashop>"
    unknown = client.put("stock_availables/999", content=body)
    assert unknown.status_code == 404 and error_codes(unknown) == [92]
    broken = client.put("stock_availables/1", content=b"<prestashop><stock")
    assert broken.status_code == 500 and error_codes(broken) == [127]


def test_entities_are_not_expanded(shop: PrestaShopSimulator, client: httpx.Client) -> None:
    before = shop.record("stock_availables", 1)
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY big "99">]>'
        b"<prestashop><stock_available><id>1</id><id_product>1</id_product>"
        b"<id_product_attribute>0</id_product_attribute><quantity>&big;</quantity>"
        b"<depends_on_stock>0</depends_on_stock><out_of_stock>2</out_of_stock>"
        b"</stock_available></prestashop>"
    )
    response = client.put("stock_availables/1", content=body)
    assert response.status_code == 500 and error_codes(response) == [127]
    assert shop.record("stock_availables", 1) == before


def test_a_body_over_the_cap_is_413(shop: PrestaShopSimulator, client: httpx.Client) -> None:
    response = client.put("stock_availables/1", content=b"x" * 1_000_001)
    assert response.status_code == 413
    assert shop.stock(1) == 120


def test_a_host_that_blocks_put() -> None:
    with PrestaShopSimulator(block_put=True) as sim:
        sim.populate_demo()
        with httpx.Client(base_url=sim.api_url, auth=(sim.api_key, "")) as http:
            body = http.get("stock_availables/1").content.replace(b"[120]", b"[5]")
            response = http.put("stock_availables/1", content=body)
            assert response.status_code == 405
            assert http.get("stock_availables/1").status_code == 200
        assert sim.stock(1) == 120


def test_an_order_history_posted_changes_the_order_state(shop: PrestaShopSimulator) -> None:
    key = "H" * 32
    shop.add_key(key, {"orders": {"GET"}, "order_histories": {"GET", "POST"}})
    before = shop.record("orders", 2)
    body = (
        b"<prestashop><order_history><id_order>2</id_order><id_order_state>4</id_order_state>"
        b"</order_history></prestashop>"
    )
    with httpx.Client(base_url=shop.api_url, auth=(key, "")) as http:
        created = http.post("order_histories", content=body)
        assert created.status_code == 201
        history = xml(created).find("order_history")
        assert history is not None and text(history, "id_order_state") == "4"
        after = shop.record("orders", 2)
        assert after["current_state"] == "4" and after["date_upd"] >= before["date_upd"]
        listed = http.get("order_histories", params={"filter[id_order]": "[2]"})
        assert len(ids(listed, "order_history")) == 2  # the order's first state, then this one
        with_id = http.post(
            "order_histories", content=body.replace(b"<id_order>", b"<id>9</id><id_order>")
        )
        assert with_id.status_code == 400 and error_codes(with_id) == [91]
        unknown = http.post("order_histories", content=body.replace(b">2<", b">999<"))
        assert unknown.status_code == 400 and error_codes(unknown) == [85]
    assert shop.record("orders", 2)["current_state"] == "4"
    refused = httpx.post(shop.api_url + "order_histories", content=body, auth=(shop.api_key, ""))
    assert refused.status_code == 405 and error_codes(refused) == [25]


# --- injected faults and the shop's place ----------------------------------------------------


def test_injected_failures_and_delays(shop: PrestaShopSimulator, client: httpx.Client) -> None:
    shop.fail_next(1, 503, path_contains="/orders")
    assert client.get("orders").status_code == 503
    assert client.get("orders").status_code == 200
    shop.fail_next(1, 403, method="PUT")
    body = client.get("stock_availables/1").content
    assert client.put("stock_availables/1", content=body).status_code == 403
    assert client.put("stock_availables/1", content=body).status_code == 200
    shop.delay_next(1, 2.0, path_contains="/customers")
    with pytest.raises(httpx.ReadTimeout):
        client.get("customers", timeout=0.3)
    assert [r.status for r in shop.requests[:2]] == [503, 200]


def test_a_shop_at_the_root_and_outside_the_api() -> None:
    with PrestaShopSimulator(base_path="") as sim:
        assert sim.url is not None and sim.url.count("/") == 2
        assert httpx.get(sim.url + "/api/", auth=(sim.api_key, "")).status_code == 200
        assert httpx.get(sim.url + "/boutique/api/", auth=(sim.api_key, "")).status_code == 404


def test_the_command_line_serves_a_demo_shop_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp.simulators.prestashop", "--port", "0", "--orders", "5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"API (\S+), key ([A-Z0-9]{32})", line)
        assert match, line
        response = httpx.get(match.group(1) + "orders", auth=(match.group(2), ""))
        assert ids(response, "order") == [1, 2, 3, 4, 5]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0


def test_ids_are_given_in_increasing_order(shop: PrestaShopSimulator) -> None:
    with pytest.raises(ValueError, match="increasing order"):
        shop.insert("countries", {"iso_code": "IT", "name": "Italie"}, 10)
    assert 10 not in [int(r["id"]) for r in shop.records("countries")]
