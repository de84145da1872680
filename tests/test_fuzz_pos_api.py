"""Fuzzing the two JSON APIs of the cash registers (Hypothesis): the office's outbox
(`POST /api/pos/v1/outbox`, webapp.pos.api.PosApp) and the register's local ticket API
(`POST /api/pos/v1/local/tickets`, the UI app). Whatever the body, the answer is a 2xx or a 4xx,
never a 5xx (the apps turn an exception into a 500).

Both apps run on real 127.0.0.1 sockets (the local API only answers a loopback peer); one pair of
data folders serves every example, as a long-running office would. Most bodies are a real ticket
with one value replaced, so they get past the JSON and shape checks to the rules themselves.
`make fuzz` runs each property 100,000 times.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.pos_fixtures import Listener, sync
from webapp.app import create_app
from webapp.services import Services

# One set of data folders for all the examples of a test: the fixtures are function-scoped on
# purpose (each test its own office), which Hypothesis must be told is intended.
_SHARED_FIXTURES = settings(
    suppress_health_check=[
        *settings().suppress_health_check,
        HealthCheck.function_scoped_fixture,
    ]
)

_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["1e999999", "NaN", "-0", "1_000", "14.505", "2026-13-45T99:99:99Z", "VR1"]),
)
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
_TICKET_FIELDS = ("number", "sold_at", "user", "customer", "lines", "payments", "total_incl_vat")
_LINE_FIELDS = ("article", "label", "quantity", "unit_price_incl_vat", "vat_rate")
_BARE_LITERALS = [b"1e999999", b"NaN", b"-Infinity", b"1e12", b"-0.0", b"123456789" * 40]


def ticket_record(record_id: str, number: str) -> dict[str, Any]:
    """A valid ticket as register 3 pushes it (the office's seed: VR1, MARIE, CASH)."""
    line = {
        "article": "VR1",
        "label": "Vin rouge",
        "quantity": "2",
        "unit_price_incl_vat": "14.50",
        "vat_rate": "20",
    }
    payload = {
        "number": number,
        "sold_at": "2026-11-25T10:03:00Z",
        "user": "MARIE",
        "customer": None,
        "lines": [line],
        "payments": [{"method": "CASH", "amount": "29.00"}],
        "total_incl_vat": "29.00",
    }
    return {"id": record_id, "register": 3, "seq": 1, "kind": "ticket", "payload": payload}


@st.composite
def ticket_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A register's ticket, with a few of its values (or its lines' values) replaced."""
    payload: dict[str, Any] = ticket_record("R3-x", "C3-000001")["payload"]
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            payload[draw(st.sampled_from(_TICKET_FIELDS))] = draw(_JSON)
        elif isinstance(payload.get("lines"), list) and payload["lines"]:
            line = payload["lines"][0]
            if isinstance(line, dict):
                line[draw(st.sampled_from(_LINE_FIELDS))] = draw(_JSON)
    return payload


def _with_bare_literal(body: dict[str, Any], literal: bytes) -> bytes:
    """The JSON text with one value replaced by a bare literal no JSON encoder writes."""
    return json.dumps(body).encode().replace(b'"14.50"', literal, 1)


@st.composite
def outbox_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["records", "shape", "literal", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "shape":
        return json.dumps(draw(_JSON)).encode()
    records: list[Any] = []
    for index in range(draw(st.integers(1, 2))):
        record = ticket_record(f"R3-f{draw(st.integers(0, 10**9))}-{index}", f"C3-{index:06d}")
        record["payload"] = draw(ticket_payloads())
        if draw(st.integers(0, 4)) == 0:
            record[draw(st.sampled_from(["id", "register", "seq", "kind"]))] = draw(_JSON)
        records.append(record)
    if kind == "literal":
        return _with_bare_literal({"records": records}, draw(st.sampled_from(_BARE_LITERALS)))
    return json.dumps({"records": records}).encode()


@pytest.fixture
def outbox(office_listener: Listener, tokens: dict[int, str]) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {tokens[3]}", "content-type": "application/json"}
    with httpx.Client(base_url=office_listener.url, headers=headers, timeout=30) as client:
        yield client


@_SHARED_FIXTURES
@given(body=outbox_bodies())
@example(body=b"[" * 100_000)
@example(body=b'{"records": [' + b"{}," * 1000 + b"{}]}")
def test_the_office_outbox_answers_2xx_or_4xx(outbox: httpx.Client, body: bytes) -> None:
    answer = outbox.post("/api/pos/v1/outbox", content=body)
    assert answer.status_code < 500, (body[:300], answer.text)
    assert isinstance(answer.json(), dict)


@pytest.fixture
def local_tickets(joined: Services) -> Iterator[httpx.Client]:
    sync(joined)
    listener = Listener(lambda port: create_app(joined, host="127.0.0.1", port=port))
    headers = {"content-type": "application/json", "cookie": f"{joined.language_cookie}=en"}
    with httpx.Client(base_url=listener.url, headers=headers, timeout=30) as client:
        yield client
    listener.stop()


@st.composite
def local_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["ticket", "ticket", "literal", "shape", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "shape":
        return json.dumps(draw(_JSON)).encode()
    payload = draw(ticket_payloads())
    if kind == "literal":
        return _with_bare_literal(payload, draw(st.sampled_from(_BARE_LITERALS)))
    return json.dumps(payload).encode()


@_SHARED_FIXTURES
@given(body=local_bodies())
@example(body=b"[" * 100_000)
@example(body=b'{"lines": [{"article": "VR1", "quantity": 1e999999}]}')
def test_the_register_local_ticket_api_answers_2xx_or_4xx(
    local_tickets: httpx.Client, body: bytes
) -> None:
    answer = local_tickets.post("/api/pos/v1/local/tickets", content=body)
    assert answer.status_code < 500, (body[:300], answer.text)
    assert isinstance(answer.json(), dict)
