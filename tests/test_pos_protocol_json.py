"""protocol.parse_json reads with msgspec first and the json module for what msgspec refuses: the
values must be those of json.loads(body, parse_float=Decimal, parse_constant=Decimal), types
included, and what neither reads must be BadJson."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from webapp.pos import protocol


def _reference(body: bytes) -> Any:
    return json.loads(body, parse_float=Decimal, parse_constant=Decimal)


def _typed(value: Any) -> Any:
    """The value with each number's type beside it: 1 == Decimal(1) == True, but not on the wire."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if isinstance(value, Decimal):
        return ("Decimal", str(value))  # the text too: Decimal("1.50") is not Decimal("1.5") here
    return (type(value).__name__, value)


BODIES = [
    b'{"records":[{"id":"R1-1","payload":{"quantity":"1.5","price":2.35,"n":3}}]}',
    b"1.50",
    b"-0.0",
    b"1e999999",
    b"1E+2",
    b"1.0e-7",
    b"0",
    b"-1",
    b"true",
    b"null",
    b"12345678901234567890123",
    b"-9223372036854775809",
    b"18446744073709551616",
    b"9" * 4300,
    b"1." + b"9" * 5000,
    b'{"a":1,"a":2}',
    b'"\\ud83d\\ude00"',
    b'"a\\u0000b"',
    '"café ☕ 𝄞"'.encode(),
    b'  [1, 2.0, "3"]  ',
    # What msgspec refuses and the json module reads:
    b"NaN",
    b"-Infinity",
    b'{"price": NaN}',
    b'"\\ud800"',
    b"\xef\xbb\xbf{}",
    '{"a": "é"}'.encode("utf-16"),
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_parse_json_reads_what_json_loads_reads(body: bytes) -> None:
    assert _typed(protocol.parse_json(body)) == _typed(_reference(body))


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b'{"a": 1}x', b'"\x01"', b'"\xff"', b"9" * 4301, b"[" * 100_000, b"{'a': 1}"],
    ids=["empty", "open", "trailing", "control", "not-utf8", "long-int", "deep", "quotes"],
)
def test_what_neither_reads_is_bad_json(body: bytes) -> None:
    with pytest.raises(protocol.BadJson):
        protocol.parse_json(body)


def test_a_pushed_batch_reads_the_same_as_with_the_json_module() -> None:
    record = {
        "id": "R1-b8279b21713040a49680c1b3a18edffa",
        "register": 1,
        "seq": 2,
        "kind": "ticket",
        "payload": {
            "lines": [{"article": "ART1", "label": "Crème brûlée", "quantity": "1"}],
            "payments": [{"amount": 1.21, "method": "CASH"}],
            "total_incl_vat": 1.21,
            "trail": {"fields": '{"grand_totals":{"absolute":"1.21"}}', "seq": 1},
        },
    }
    body = json.dumps({"records": [record] * 50}, ensure_ascii=False).encode()
    assert _typed(protocol.parse_json(body)) == _typed(_reference(body))
