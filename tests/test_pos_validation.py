"""Bad values on the cash-register APIs: refused per record with their reason, never a 500, never
half-applied; the register refuses up front what the office would refuse (one set of rules,
webapp/pos/ticket_rules.py); every JSON endpoint answers a body nested 100,000 deep with 400.

The office is the real POS app on a real 127.0.0.1 socket; the register's local API is the real
UI app on another one (the fixtures of tests/test_pos_register.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Client, relais
from tests.pos_fixtures import PASSPHRASE, Listener, office_tickets, post_pairs, rows, sync
from webapp.app import create_app
from webapp.config import resolve_data_dir
from webapp.pos import office, office_records, protocol, register_lists, selling, ticket_rules
from webapp.scrada import config as scrada_config
from webapp.scrada.webhook import WebhookApp
from webapp.services import Services, open_services

DEEP = b"[" * 100_000
SOLD_AT = "2026-11-25T10:03:00Z"


def ticket_record(
    record_id: str, number: str, line: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """A ticket as a register pushes it: VR1 (bottles, whole units) 2 × 14.50 unless changed."""
    payload: dict[str, Any] = {
        "number": number,
        "sold_at": SOLD_AT,
        "user": "MARIE",
        "customer": None,
        "lines": [
            {
                "article": "VR1",
                "label": "Vin rouge",
                "quantity": "2",
                "unit_price_incl_vat": "14.50",
                "vat_rate": "20",
                **line,
            }
        ],
        "payments": [{"method": "CASH", "amount": "29.00"}],
        "total_incl_vat": "29.00",
        **extra,
    }
    return {"id": record_id, "register": 3, "seq": 1, "kind": "ticket", "payload": payload}


# Each bad record, the literal put in place of "@VALUE@" in the JSON text (a number literal, not a
# string, where the register would send one), and what its reason must say.
BAD_VALUES = [
    ("R3-exp", {"quantity": "@VALUE@"}, "1e999999", "lines[1].quantity: 1E+999999 is over"),
    ("R3-exp-text", {"unit_price_incl_vat": "1e999999"}, None, "lines[1].unit_price_incl_vat"),
    ("R3-nan", {"quantity": "@VALUE@"}, "NaN", "lines[1].quantity: NaN is not a number"),
    ("R3-nan-text", {"unit_price_incl_vat": "NaN"}, None, "NaN is not a number"),
    ("R3-inf", {"quantity": "@VALUE@"}, "Infinity", "lines[1].quantity: Infinity is not a"),
    (
        "R3-big",
        {"quantity": "1000000000000"},
        None,
        "lines[1].quantity: 1000000000000 is over the limit of 100,000",
    ),
    ("R3-big-price", {"unit_price_incl_vat": "@VALUE@"}, "1e12", "over the limit of 1,000,000"),
    ("R3-bottle", {"quantity": "1.5"}, None, "lines[1].quantity: 1.5 has more than 0 decimals"),
    ("R3-cents", {"unit_price_incl_vat": "14.505"}, None, "has more than 2 decimals"),
    ("R3-neg", {"quantity": "-2"}, None, "lines[1].quantity: -2 may not be negative"),
    ("R3-zero", {"quantity": "0"}, None, "lines[1].quantity: the quantity must be above zero"),
    ("R3-sep", {"quantity": "1_000"}, None, "lines[1].quantity: 1_000 is not a number"),
    ("R3-rate", {"vat_rate": "120"}, None, "lines[1].vat_rate: 120 is over the limit of 100"),
]


def bad_body() -> tuple[bytes, list[str]]:
    """One batch: a good ticket, every bad one, a bad date, then a good one."""
    records = [ticket_record("R3-ok-1", "C3-000001", {})]
    for number, (record_id, line, _literal, _reason) in enumerate(BAD_VALUES, start=2):
        records.append(ticket_record(record_id, f"C3-{number:06d}", line))
    records.append(ticket_record("R3-date", "C3-000090", {}, sold_at="not-a-date"))
    records.append(ticket_record("R3-ok-2", "C3-000091", {}))
    text = json.dumps({"records": records})
    for record_id, _line, literal, _reason in BAD_VALUES:
        if literal is not None:  # the record's own "@VALUE@" becomes a bare JSON literal
            start = text.index(f'"{record_id}"')
            at = text.index('"@VALUE@"', start)
            text = text[:at] + literal + text[at + len('"@VALUE@"') :]
    return text.encode(), [record["id"] for record in records]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_office_rejects_what_does_not_fit_per_record_with_its_reason(
    office_listener: Listener,
    tokens: dict[int, str],
    office_services: Services,
) -> None:
    body, ids = bad_body()
    url = office_listener.url + protocol.API + "/outbox"
    answer = httpx.post(url, content=body, headers=auth(tokens[3]), timeout=30)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    results = {result["id"]: result for result in data["results"]}
    assert [result["id"] for result in data["results"]] == ids, "one result per record, in order"
    assert data["applied"] == ["R3-ok-1", "R3-ok-2"]
    assert data["rejected"] == ids[1:-1] and data["complete"] is True
    for record_id, _line, _literal, reason in BAD_VALUES:
        assert results[record_id]["status"] == "rejected"
        assert reason in results[record_id]["reason"], results[record_id]
    assert results["R3-date"]["reason"].startswith("sold_at: not-a-date is not a date and time")
    assert results["R3-date"]["params"] == {"field": "sold_at", "value": "not-a-date"}
    # Nothing half-applied: the two good tickets only, and every refusal kept with its reason.
    assert [row["number"] for row in office_tickets(office_services.store)] == [
        "C3-000001",
        "C3-000091",
    ]
    refused = office_records.received(office_services.store, status="rejected")
    assert {row["id"] for row in refused} == set(ids[1:-1])
    again = httpx.post(url, content=body, headers=auth(tokens[3]), timeout=30).json()
    assert again["applied"] == ["R3-ok-1", "R3-ok-2"] and again["rejected"] == ids[1:-1]
    assert [r["status"] for r in again["results"]][:2] == ["already_applied", "rejected"]


def test_a_record_id_of_another_register_is_rejected_not_already_applied(
    office_listener: Listener,
    tokens: dict[int, str],
    office_services: Services,
) -> None:
    url = office_listener.url + protocol.API + "/outbox"
    mine = ticket_record("R3-shared", "C3-000001", {})
    first = httpx.post(url, json={"records": [mine]}, headers=auth(tokens[3])).json()
    assert first["applied"] == ["R3-shared"]
    # Register 4 sends register 3's id: refused with the reason, not answered "already applied".
    forged = {**ticket_record("R3-shared", "C4-000001", {}), "register": 4}
    answer = httpx.post(url, json={"records": [forged]}, headers=auth(tokens[4])).json()
    assert answer["results"][0]["status"] == "rejected"
    assert answer["results"][0]["reason"] == (
        "The record id R3-shared does not start with R4-, this register's prefix."
    )
    # ...and not kept either: register 3's own record of that id still goes through.
    early = {**ticket_record("R3-later", "C4-000002", {}), "register": 4}
    assert httpx.post(url, json={"records": [early]}, headers=auth(tokens[4])).json()[
        "rejected"
    ] == ["R3-later"]
    later = ticket_record("R3-later", "C3-000002", {})
    assert httpx.post(url, json={"records": [later]}, headers=auth(tokens[3])).json()[
        "applied"
    ] == ["R3-later"]
    assert len(office_tickets(office_services.store)) == 2


def test_the_office_failing_mid_batch_answers_what_it_applied(
    office_listener: Listener,
    tokens: dict[int, str],
    office_services: Services,
) -> None:
    """A fault of the office itself (here a trigger whose function fails, as a full disk would)
    on the second record: the answer lists the first as applied and stops; nothing is a 500."""
    store = office_services.store

    def disk_full(_number: str) -> None:
        raise RuntimeError("disk full")

    with store.write() as db:
        db.conn.create_function("office_fault", 1, disk_full)
        db.execute(
            "CREATE TEMP TRIGGER fault BEFORE INSERT ON documents WHEN NEW.number = 'C3-000002'"
            " BEGIN SELECT office_fault(NEW.number); END"
        )
    records = [ticket_record(f"R3-f{n}", f"C3-{n:06d}", {}) for n in (1, 2, 3)]
    url = office_listener.url + protocol.API + "/outbox"
    answer = httpx.post(url, json={"records": records}, headers=auth(tokens[3]))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "results": [{"id": "R3-f1", "status": "applied"}],
        "applied": ["R3-f1"],
        "rejected": [],
        "complete": False,
    }
    assert [row["number"] for row in office_tickets(store)] == ["C3-000001"]
    assert [row["id"] for row in office_records.received(store)] == ["R3-f1"], (
        "R3-f2 is not refused"
    )
    with store.write() as db:
        db.execute("DROP TRIGGER temp.fault")
    again = httpx.post(url, json={"records": records}, headers=auth(tokens[3])).json()
    assert again["applied"] == ["R3-f1", "R3-f2", "R3-f3"] and again["complete"] is True


def test_office_json_answers_deep_bodies_and_headers(
    office_listener: Listener,
    tokens: dict[int, str],
) -> None:
    url = office_listener.url + protocol.API + "/outbox"
    deep = httpx.post(url, content=DEEP, headers=auth(tokens[3]), timeout=30)
    assert deep.status_code == 400
    assert deep.json() == {"error": "the JSON body is nested too deeply"}
    inner = b'{"records": [' + DEEP + b"]}"
    assert httpx.post(url, content=inner, headers=auth(tokens[3])).status_code == 400
    for response in (
        deep,
        httpx.get(office_listener.url + protocol.API + "/hello", headers=auth(tokens[3])),
        httpx.get(office_listener.url + protocol.API + "/hello"),  # 401
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-type"].startswith("application/json")


# -- the register: the same rules, up front ------------------------------------------------------


Post = Callable[[bytes], httpx.Response]


@pytest.fixture
def local_api(joined: Services) -> Iterator[Post]:
    """Posts a raw body to the register's local ticket API, reading the answers in English."""
    sync(joined)
    listener = Listener(lambda port: create_app(joined, host="127.0.0.1", port=port))
    url = listener.url + "/api/pos/v1/local/tickets"
    headers = {"content-type": "application/json", "cookie": f"{joined.language_cookie}=en"}

    def post(content: bytes) -> httpx.Response:
        return httpx.post(url, content=content, headers=headers, timeout=30)

    yield post
    listener.stop()


LOCAL_BAD: list[tuple[dict[str, Any], str]] = [
    ({"sold_at": "not-a-date"}, "sold_at: not-a-date is not a date and time"),
    ({"lines": [{"article": "VR1", "quantity": "1000000000000"}]}, "over the limit of 100,000"),
    (
        {"lines": [{"article": "VR1", "quantity": "1", "unit_price_incl_vat": "1e999999"}]},
        "lines[1].unit_price_incl_vat: 1e999999 is not a number",
    ),
    (
        {"lines": [{"article": "VR1", "quantity": "1", "unit_price_incl_vat": "2000000"}]},
        "lines[1].unit_price_incl_vat: 2000000 is over the limit of 1,000,000",
    ),
    ({"lines": [{"article": "VR1", "quantity": "1e3"}]}, "lines[1].quantity: 1e3 is not a number"),
    (
        {"lines": [{"article": "VR1", "quantity": "-1"}]},
        "lines[1].quantity: -1 may not be negative",
    ),
    ({"lines": [{"article": "VR1", "quantity": "1.5"}]}, "has more than 0 decimals"),
    (
        {"lines": [{"article": "VR1", "quantity": "1", "vat_rate": "7"}]},
        "the VAT rate 7 % is not in the VAT rates table",
    ),
    (
        {"lines": [{"article": "VR1", "quantity": "1"}], "payments": [{"method": "CASH"}] * 51},
        "The payments must be a list.",
    ),
]


def test_local_api_refuses_what_the_office_would_with_field_and_limit(
    local_api: Post,
    joined: Services,
) -> None:
    base = {"lines": [{"article": "VR1", "quantity": "1"}]}
    for change, reason in LOCAL_BAD:
        answer = local_api(json.dumps({**base, **change}).encode())
        assert answer.status_code == 422, (change, answer.text)
        assert reason in answer.json()["error"], (change, answer.json())
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
    # Bare JSON literals: an exponent too big for any float, NaN, a price of 10^12.
    for literal in (b"1e999999", b"NaN", b"-Infinity", b"1e12"):
        body = b'{"lines": [{"article": "VR1", "quantity": 1, "unit_price_incl_vat": %s}]}'
        answer = local_api(body % literal)
        assert answer.status_code == 422, (literal, answer.text)
        assert "lines[1].unit_price_incl_vat" in answer.json()["error"]
    assert rows(joined.store, "SELECT count(*) AS n FROM MICPTRACK") == [{"n": 0}]
    made = local_api(json.dumps({**base, "sold_at": SOLD_AT}).encode())
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    assert made.json()["ticket"]["sold_at"] == SOLD_AT


def test_local_api_answers_a_deep_body_with_400(local_api: Post, joined: Services) -> None:
    for body in (DEEP, b'{"lines": ' + DEEP + b"}", b"{", b"\xff"):
        answer = local_api(body)
        assert answer.status_code == 400, (body[:20], answer.text)
        assert answer.json()["ok"] is False
        assert answer.headers["cache-control"] == "no-store"
    assert "nested too deeply" in local_api(DEEP).json()["error"]
    assert rows(joined.store, "SELECT count(*) AS n FROM MICPTRACK") == [{"n": 0}]


def test_what_the_register_records_the_office_applies(
    joined: Services,
    office_services: Services,
) -> None:
    """Edge values on both sides of each limit: every ticket the register records is applied by
    the office, and the office refuses each one the register refuses, with the same reason."""
    sync(joined)
    cases = [
        ("VR1", "100000", "0.01"),
        ("VR1", "100001", "0.01"),
        ("FRO", "0.001", "1000000"),
        ("FRO", "0.0001", "1"),
        ("FRO", "99999.999", "1000.00"),  # a total just under 10^8
        ("FRO", "100000", "1000.01"),  # just over it
        ("VB1", "2", "0"),  # a free ticket: nothing to pay
        ("VB1", "1", "1000000.01"),
        ("VB1", "1", "0.005"),
    ]
    register_3 = office.get_register(office_services.store, 3)
    assert register_3 is not None
    accepted = 0
    for index, (code, quantity, price) in enumerate(cases, 1):
        line = {"article": code, "quantity": quantity, "unit_price_incl_vat": price}
        try:
            selling.record_ticket(
                joined.store, {"lines": [line]}, selling.signer_for(joined.store, joined.vault)
            )
            accepted += 1
        except selling.TicketError as refused:
            total = str(ticket_rules.line_total(Decimal(quantity), Decimal(price)))
            record = ticket_record(
                f"R3-x{index}",
                f"C3-9{index:05d}",
                line,
                payments=[{"method": "CASH", "amount": total}],
                total_incl_vat=total,
            )
            result = office_records.apply_records(office_services.store, register_3, [record])[0]
            assert result["status"] == "rejected", (line, refused.message)
            assert (result["message"], result["params"]) == (refused.message, refused.params)
    pushed = sync(joined).pushed
    # Each ticket travels with its signed row, the first behind the register's key.
    assert accepted == 4 and pushed.rejected == [] and pushed.sent == accepted + 1
    assert len(office_tickets(office_services.store)) == accepted


# -- the sales screen and `relais pos sell`: the same strict numbers -----------------------------


def test_sales_screen_takes_only_plain_quantities(
    ui: Client,
    joined: Services,
) -> None:
    ui.cookies.set(joined.language_cookie, "en")
    for quantity, problem in (
        ("1e3", "lines[1].quantity: 1e3 is not a number"),
        ("1_000", "lines[1].quantity: 1_000 is not a number"),
        ("NaN", "lines[1].quantity: NaN is not a number"),
        ("1000000000000", "lines[1].quantity: 1000000000000 is over the limit of 100,000"),
        ("-1", "lines[1].quantity: -1 may not be negative"),
    ):
        cart = post_pairs(ui, "/pos/sell/cart", [("code", "VR1"), ("qty", quantity)])
        assert cart.status_code == 200 and problem in cart.text, (quantity, cart.text)
        assert 'id="sell-checkout" disabled' in cart.text
        refused = post_pairs(ui, "/pos/sell/checkout", [("code", "VR1"), ("qty", quantity)])
        assert refused.status_code == 422 and problem in refused.text
    # A scan of an article already on the ticket adds one; a quantity that was not a number
    # starts over at one rather than becoming 1001.
    scanned = post_pairs(ui, "/pos/sell/cart", [("code", "VR1"), ("qty", "1e3"), ("scan", "VR1")])
    assert 'name="qty" value="1"' in scanned.text and "is not a number" not in scanned.text
    assert register_lists.list_tickets(joined.store) == []
    made = post_pairs(ui, "/pos/sell/checkout", [("code", "FRO"), ("qty", "0,25")])
    assert made.status_code == 200, made.text
    assert register_lists.list_tickets(joined.store)[0]["total"] == "5.28"


def test_pos_sell_command_uses_the_same_rules(
    joined: Services,
) -> None:
    sync(joined)
    folder = joined.data_dir.path
    refused = relais(
        "pos", "sell", "VR1:1e3", "--json", data_dir=folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE
    )
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr  # in the folder's language: field and value only
    assert "lines[1].quantity" in output and "1e3" in output
    big = relais(
        "pos", "sell", "VR1:1000000000000", data_dir=folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE
    )
    assert big.returncode != 0 and "1000000000000" in big.stdout + big.stderr
    assert "100,000" in big.stdout + big.stderr
    assert register_lists.list_tickets(joined.store) == []
    sold = relais(
        "pos", "sell", "VR1:2", "--json", data_dir=folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE
    )
    assert sold.returncode == 0, sold.stderr
    assert json.loads(sold.stdout)["total"] == "29.00"


# -- the Scrada webhook listener: it never parses JSON, and answers with the same headers ---------


def test_webhook_answers_a_deep_body_without_parsing_it(tmp_path: Path) -> None:
    services = open_services(resolve_data_dir(tmp_path / "hooks"))
    services.vault.create("webhook tests passphrase")
    services.vault.set(scrada_config.SECRET_WEBHOOK, "hook secret")
    listener = Listener(lambda _port: WebhookApp(services))
    try:
        url = listener.url + "/hooks/scrada"
        unsigned = httpx.post(url, content=DEEP, timeout=30)
        assert unsigned.status_code == 401
        signature = hmac.new(b"hook secret", DEEP, hashlib.sha256).hexdigest()
        headers = {
            "x-scrada-hmac-sha256": signature,
            "x-scrada-event-id": "evt-deep",
            "x-scrada-company-id": "c-1",
            "x-scrada-topic": "some/json-topic",
        }
        signed = httpx.post(url, content=DEEP, headers=headers, timeout=30)
        assert signed.status_code == 200 and signed.json()["status"] == "ignored"
        for response in (unsigned, signed, httpx.get(url)):
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["cache-control"] == "no-store"
    finally:
        listener.stop()
        services.close()


def test_text_that_is_not_unicode_is_refused_not_a_500(
    office_listener: Listener,
    tokens: dict[int, str],
    office_services: Services,
    local_api: Post,
) -> None:
    """JSON's "\\ud800" is a lone surrogate, which SQLite cannot store: the office refuses that
    record alone (and the answer still names it), the local API answers 400."""
    url = office_listener.url + protocol.API + "/outbox"
    records = [
        ticket_record("R3-s1", "C3-000001", {"label": "@LABEL@"}),
        {"id": "R3-s2-@LABEL@", "kind": "customer", "payload": {"code": "@LABEL@"}},
        ticket_record("R3-s3", "C3-000003", {}),
    ]
    body = json.dumps({"records": records}).replace("@LABEL@", "\\ud800").encode()
    answer = httpx.post(url, content=body, headers=auth(tokens[3]), timeout=30)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["applied"] == ["R3-s3"] and data["rejected"] == ["R3-s1", "R3-s2-\ud800"]
    assert data["results"][0]["reason"] == "The record holds text that is not valid Unicode."
    assert [row["number"] for row in office_tickets(office_services.store)] == ["C3-000003"]
    local = b'{"lines": [{"article": "VR1", "quantity": "1", "label": "\\ud800"}]}'
    refused = local_api(local)
    assert refused.status_code == 400 and "not valid Unicode" in refused.json()["error"]
