"""Every state-changing route refuses a request without the CSRF token, and one from another origin.

Built from the application's own route table, so a route added later is covered without anyone
remembering to write its test. Only the register's local ticket API (for the till's own programs,
which cannot hold a browser cookie) may be exempt from the token; none is exempt from the Origin check.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import TEST_PORT, Client

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN_EXEMPT = {"/api/pos/v1/local/tickets"}
_PARAM = re.compile(r"\{(\w+):(\w+)\}")


def _concrete(path: str) -> str:
    """A path with its parameters filled in, so the router matches it."""
    samples = {"int": "1", "str": "x", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}
    return _PARAM.sub(lambda match: samples.get(match.group(2), "x"), path)


def unsafe_routes(client: Client) -> list[tuple[str, str]]:
    found = []
    for route in client.app.routes:
        for method in sorted(getattr(route, "methods", set()) & UNSAFE):
            found.append((method, route.path))
    return found


def test_the_route_table_has_the_expected_unsafe_routes(client: Client) -> None:
    routes = unsafe_routes(client)
    assert len(routes) >= 40  # the table was read: 43 POST routes when this test was written
    exempt = [path for _, path in routes if path in TOKEN_EXEMPT]
    assert len(exempt) <= 1


def test_every_unsafe_route_refuses_a_missing_or_forged_token(client: Client) -> None:
    client.token()  # the cookie half is set, as in a browser that has opened a page
    accepted = []
    for method, path in unsafe_routes(client):
        if path in TOKEN_EXEMPT:
            continue
        url = _concrete(path)
        for headers in ({}, {"x-csrftoken": "forged"}):
            answer = client.request(method, url, headers=headers, data={"x": "1"})
            if answer.status_code != 403:
                accepted.append((method, path, headers, answer.status_code))
    assert not accepted


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "http://127.0.0.1:1"},  # another local program's page: same site, not origin
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
def test_every_unsafe_route_refuses_a_foreign_origin_even_with_a_valid_token(
    client: Client, headers: dict[str, str]
) -> None:
    token = client.token()
    accepted = []
    for method, path in unsafe_routes(client):
        answer = client.request(
            method, _concrete(path), headers={"x-csrftoken": token, **headers}, data={"x": "1"}
        )
        if answer.status_code != 403 or "Cross-origin" not in answer.text:
            accepted.append((method, path, answer.status_code))
    assert not accepted


def test_the_own_origin_with_a_valid_token_passes(client: Client) -> None:
    answer = client.post(
        "/language",
        data={"language": "fr", "next": "/"},
        headers={
            "x-csrftoken": client.token(),
            "origin": f"http://127.0.0.1:{TEST_PORT}",
            "sec-fetch-site": "same-origin",
        },
        follow_redirects=False,
    )
    assert answer.status_code in (200, 302, 303)
