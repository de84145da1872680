"""The one HTTP retry policy (webapp/http_retry.py) against a real server on 127.0.0.1 that
answers from a script: 5xx then 200, 429 with Retry-After, 4xx, faults, slow answers."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from webapp.http_retry import Retrying, RetryPolicy, http_client, retry_after
from webapp.pos.register_client import OfficeClient, OfficeError, OfficeUnreachable

# (status, headers, seconds to wait before answering)
Answer = tuple[int, dict[str, str], float]


class Script:
    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.seen = 0
        self.lock = threading.Lock()

    def next(self) -> Answer:
        with self.lock:
            self.seen += 1
            return self.answers.pop(0) if self.answers else (200, {}, 0.0)


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, delay = script.next()
            time.sleep(delay)
            body = b'{"ok": true}'
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up waiting
                pass

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()


class GaveUp(Exception):
    pass


def give_up(what: str, attempts: int, reason: str) -> GaveUp:
    return GaveUp(what, attempts, reason)


def retrying(policy: RetryPolicy, slept: list[float]) -> Retrying:
    return Retrying(policy, give_up=give_up, sleep=slept.append, rng=random.Random(7))


def get(url: str, retry: Retrying, timeout: float = 5.0) -> httpx.Response:
    with http_client(url, {}, timeout=timeout, connect=1.0) as client:
        return retry.send(lambda: client.get("/x"), "/x")


def test_5xx_is_retried_with_capped_full_jitter(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(503, {}, 0.0), (502, {}, 0.0), (500, {}, 0.0)]
    slept: list[float] = []
    policy = RetryPolicy(attempts=4, base_seconds=1.0, cap_seconds=1.5)
    assert get(url, retrying(policy, slept)).status_code == 200
    assert script.seen == 4
    assert len(slept) == 3
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(slept, [1.0, 1.5, 1.5], strict=True))


def test_attempts_are_bounded_then_the_client_error(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(503, {}, 0.0)] * 10
    slept: list[float] = []
    with pytest.raises(GaveUp) as raised:
        get(url, retrying(RetryPolicy(attempts=3, base_seconds=0.01), slept))
    assert raised.value.args == ("/x", 3, "HTTP 503")
    assert script.seen == 3 and len(slept) == 2


def test_429_waits_what_retry_after_asks_within_the_cap(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(429, {"Retry-After": "2"}, 0.0), (429, {"Retry-After": "900"}, 0.0)]
    slept: list[float] = []
    policy = RetryPolicy(attempts=1, rate_limit_waits=2, max_rate_wait=30.0)
    assert get(url, retrying(policy, slept)).status_code == 200
    assert slept == [2.0, 30.0]


def test_429_beyond_the_waits_counts_as_a_failure(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(429, {}, 0.0)] * 10
    slept: list[float] = []
    policy = RetryPolicy(attempts=2, base_seconds=0.01, rate_limit_waits=1, default_rate_wait=3.0)
    with pytest.raises(GaveUp) as raised:
        get(url, retrying(policy, slept))
    assert raised.value.args[2] == "HTTP 429"
    assert slept[0] == 3.0 and script.seen == 3  # one wait, then two failures


def test_4xx_is_returned_at_once(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(404, {}, 0.0)]
    slept: list[float] = []
    assert get(url, retrying(RetryPolicy(), slept)).status_code == 404
    assert script.seen == 1 and slept == []


def test_a_slow_answer_is_a_timeout_and_retried(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(200, {}, 1.0)]
    slept: list[float] = []
    response = get(url, retrying(RetryPolicy(attempts=2, base_seconds=0.01), slept), timeout=0.3)
    assert response.status_code == 200 and len(slept) == 1


def test_no_server_is_a_fault_retried_then_given_up() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slept: list[float] = []
    with pytest.raises(GaveUp) as raised:
        get(f"http://127.0.0.1:{port}", retrying(RetryPolicy(attempts=2), slept))
    assert raised.value.args[2] == "cannot connect" and len(slept) == 1


def test_retry_after_reads_seconds_dates_and_nonsense() -> None:
    policy = RetryPolicy(max_rate_wait=60.0, default_rate_wait=10.0)

    def answer(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value} if value else {})

    assert retry_after(answer("5"), policy) == 5.0
    assert retry_after(answer(""), policy) == 10.0
    assert retry_after(answer("soon"), policy) == 10.0
    assert retry_after(answer("-3"), policy) == 10.0
    assert retry_after(answer("nan"), policy) == 10.0
    now = 1_800_000_000.0
    in_20s = formatdate(now + 20, usegmt=True)
    assert retry_after(answer(in_20s), policy, now=lambda: now) == pytest.approx(20.0)
    assert retry_after(answer(formatdate(now + 3600, usegmt=True)), policy, lambda: now) == 60.0


def test_the_office_client_uses_the_policy(server: tuple[str, Script]) -> None:
    url, script = server
    slept: list[float] = []
    policy = RetryPolicy(attempts=2, base_seconds=0.01, rate_limit_waits=1)
    script.answers = [(429, {"Retry-After": "1"}, 0.0), (503, {}, 0.0)]
    with OfficeClient(url, "token", retry=policy, sleep=slept.append) as client:
        assert client.hello() == {"ok": True}
        assert slept[0] == 1.0 and len(slept) == 2
        script.answers = [(503, {}, 0.0)] * 2
        with pytest.raises(OfficeUnreachable):
            client.hello()
        script.answers = [(400, {}, 0.0)]
        with pytest.raises(OfficeError) as refused:
            client.hello()
        assert not isinstance(refused.value, OfficeUnreachable)
