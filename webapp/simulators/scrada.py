"""A Scrada simulator: a real HTTP server on 127.0.0.1 speaking the Scrada API v1 (documented calls
plus the assumed partner feed, see docs/scrada-simulator.md), for `relais serve --demo`, the tests
and the benchmarks.

Built on the standard library's ThreadingHTTPServer: no framework, starts in milliseconds, runs in a
daemon thread inside a test or as its own process (`python -m webapp.simulators.scrada_cli`).
Its companies are in scrada_books (what each is: scrada_data), its webhooks in scrada_webhooks, the
documents it generates in scrada_docs.
"""

from __future__ import annotations

import hmac
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from functools import partial
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from webapp.simulators.http_server import (
    ServerThread,
    SimulatorServer,
    TrackedHandler,
    status_phrase,
)
from webapp.simulators.scrada_books import render_document, render_peppol
from webapp.simulators.scrada_data import (
    CODA,
    XML,
    Book,
    CashBook,
    Company,
    Journal,
    WebhookEvent,
)
from webapp.simulators.scrada_webhooks import WebhookEvents

__all__ = ["PEPPOL_LIST_SIZE", "Company", "ScradaSimulator", "WebhookEvent"]

REFILL_SECONDS = 10
PAGE_SIZE = 100
UNLIMITED = 1_000_000  # what the rate-limit headers say when the simulator has no limit
JSON = "application/json; charset=utf-8"
# Documented-only mode: the unconfirmed list shows this many at a time; confirming one lets the next
# one be listed (Scrada's doc: confirming "allows you to retrieve the following new" documents).
PEPPOL_LIST_SIZE = 25
MESSAGES = {
    401: "Invalid API key or password",
    404: "Not found",
    405: "Method not allowed",
    429: "Too many requests",
}


@dataclass
class _Rule:
    """An injected failure or delay for the next `count` requests whose path contains `needle`."""

    count: int
    value: float
    needle: str


@dataclass
class _Bucket:
    tokens: int
    next_refill: float


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


class _NotFound(Exception):
    pass


def _error(status: int, message: str | None = None) -> _Response:
    text = message or MESSAGES.get(status) or HTTPStatus(status).phrase
    return _json({"errorCode": status, "defaultFormat": text, "innerErrors": []}, status)


def _json(value: object, status: int = 200) -> _Response:
    return _Response(status, json.dumps(value, separators=(",", ":")).encode())


# --- the simulator ---------------------------------------------------------------------------


class ScradaSimulator(WebhookEvents):
    """The API's behaviour (auth, rate limit, injected failures, routes) and the server, over the
    companies (scrada_books) and webhooks (scrada_webhooks) it inherits. Thread-safe: tests add
    documents while the server answers."""

    def __init__(
        self,
        *,
        api_key: str = "demo-key",
        password: str = "demo-password",
        rate_limit: int | None = 60,
        clock: Callable[[], float] = time.time,
        seed: int = 1,
        documented_only: bool = False,
    ) -> None:
        super().__init__(seed=seed, clock=clock)
        # Only the calls of Scrada's public API v1.24: the assumed partner feed answers 404, as
        # it would on the real service (docs/scrada.md).
        self.documented_only = documented_only
        self.api_key = api_key
        self.password = password
        self.rate_limit = rate_limit
        self.requests: list[tuple[str, str, int]] = []
        # The command line turns this off: nobody reads it there, and a long benchmark would
        # otherwise grow it without end.
        self.record_requests = True
        self.confirmed: set[str] = set()
        self.url: str | None = None
        self._buckets: dict[str, _Bucket] = {}
        self._failures: list[_Rule] = []
        self._delays: list[_Rule] = []
        self._serving = ServerThread("scrada-simulator", _Handler)

    # -- injected trouble --

    def fail_next(self, count: int, status: int = 500, path_contains: str = "") -> None:
        """The next `count` /v1 requests whose path contains `path_contains` answer `status`."""
        with self._lock:
            self._failures.append(_Rule(count, status, path_contains))

    def delay_next(self, count: int, seconds: float, path_contains: str = "") -> None:
        """The next `count` matching /v1 requests wait `seconds` before being answered."""
        with self._lock:
            self._delays.append(_Rule(count, seconds, path_contains))

    def clear_injected(self) -> None:
        """Drop the failures and delays not yet used up."""
        with self._lock:
            self._failures.clear()
            self._delays.clear()

    def _take_rule(self, rules: list[_Rule], path: str) -> float | None:
        with self._lock:
            for rule in rules:
                if rule.needle in path:
                    rule.count -= 1
                    if rule.count <= 0:
                        rules.remove(rule)
                    return rule.value
        return None

    # -- rate limit --

    def _rate(self, key: str, *, take: bool) -> tuple[bool, dict[str, str]]:
        """Token bucket per API key: `rate_limit` tokens, `rate_limit // 6` more every 10 s."""
        now = self.clock()
        limit = self.rate_limit
        if limit is None:
            reset = math.ceil(now) + REFILL_SECONDS
            return True, _limit_headers(UNLIMITED, UNLIMITED, reset)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(limit, now + REFILL_SECONDS)
            if now >= bucket.next_refill:
                periods = int((now - bucket.next_refill) // REFILL_SECONDS) + 1
                bucket.tokens = min(limit, bucket.tokens + periods * max(1, limit // 6))
                bucket.next_refill += periods * REFILL_SECONDS
            allowed = bucket.tokens > 0
            if allowed and take:
                bucket.tokens -= 1
            return allowed, _limit_headers(limit, bucket.tokens, math.ceil(bucket.next_refill))

    # -- answering --

    def _answer(self, method: str, target: str, headers: Message) -> _Response:
        path, _, query = target.partition("?")
        if path != "/v1" and not path.startswith("/v1/"):
            return _error(404)
        delay = self._take_rule(self._delays, target)
        if delay:
            self._serving.stopping.wait(delay)  # stop() cuts the wait short
        key = headers.get("X-API-KEY") or ""
        failure = self._take_rule(self._failures, target)
        if failure is not None:
            # Injected answers consume no token: a client's retries are what is being tested.
            _, limit_headers = self._rate(key, take=False)
            if failure == 429:
                limit_headers["x-ratelimit-remaining"] = "0"
            response = _error(int(failure))
        else:
            allowed, limit_headers = self._rate(key, take=True)
            if not allowed:
                response = _error(429)
            elif not (
                hmac.compare_digest(key.encode(), self.api_key.encode())
                and hmac.compare_digest(
                    (headers.get("X-PASSWORD") or "").encode(), self.password.encode()
                )
            ):
                response = _error(401)
            else:
                try:
                    parts = path.lower().rstrip("/").split("/")[2:]  # a trailing / is the same
                    response = self._route(method, parts, query)
                except _NotFound as exc:
                    response = _error(404, str(exc) or None)
        if response.status == 429:
            response.headers["Retry-After"] = str(
                max(0, int(limit_headers["x-ratelimit-reset"]) - int(self.clock()))
            )
        response.headers.update(limit_headers)
        return response

    def _company(self, company_id: str) -> Company:
        company = self._companies.get(company_id)
        if company is None:
            raise _NotFound("Company not found")
        return company

    def _route(self, method: str, parts: list[str], query: str) -> _Response:
        """`parts`: the lower-cased path after /v1 (Scrada's routes ignore case; ids are lower)."""
        with self._lock:
            if self.documented_only and _assumed_route(parts):
                raise _NotFound()
            if parts == ["partner", "company"]:
                if method != "GET":
                    return _error(405)
                listed = [c.summary() for c in self._companies.values() if c.partner]
                return _json({"results": listed, "__count": len(listed)})
            if len(parts) < 2 or parts[0] != "company":
                raise _NotFound()
            company = self._company(parts[1])
            rest = parts[2:]
            wanted = "PUT" if rest[-1:] == ["confirm"] else "GET"
            if method != wanted:
                return _error(405)
            match rest:
                case []:
                    if self.documented_only:
                        return _json(company.documented_summary())
                    return _json(company.summary())
                case ["journal"] | ["cashbook"]:
                    books = company.journals if rest[0] == "journal" else company.cash_books
                    return _json([self._book_summary(book) for book in books])
                case ["cashbook", book_id]:
                    return _json(self._book_summary(_book(company, "cashbook", book_id)))
                case ["journal", book_id, "document"] | ["cashbook", book_id, "statement"]:
                    return _page(_book(company, rest[0], book_id), query)
                case ["journal", book_id, "document", document_id] | [
                    "cashbook",
                    book_id,
                    "statement",
                    document_id,
                ]:
                    book = _book(company, rest[0], book_id)
                    document = book.index.get(document_id)
                    if document is None:
                        raise _NotFound("Document not found")
                    produce = partial(render_document, company, book, document)
                    content_type = XML if isinstance(book, Journal) else CODA
                case ["peppol", "inbound", "document", "unconfirmed"]:
                    return _json(self._unconfirmed(company))
                case ["peppol", "inbound", "document", document_id, *action] if action in (
                    [],
                    ["confirm"],
                ):
                    peppol = company.peppol.get(document_id)
                    if peppol is None:
                        raise _NotFound("Document not found")
                    if action:
                        self.confirmed.add(peppol.id)
                        return _Response(200, b"")
                    produce = partial(render_peppol, company, peppol)
                    content_type = XML
                case _:
                    raise _NotFound()
        # Rendering happens outside the lock: a document never changes once made.
        return _Response(200, produce(), content_type)

    def _book_summary(self, book: Journal | CashBook) -> dict[str, Any]:
        return book.documented_summary() if self.documented_only else book.summary()

    def _unconfirmed(self, company: Company) -> dict[str, Any]:
        waiting = [d for d in company.peppol.values() if d.id not in self.confirmed]
        if not self.documented_only:
            return {"results": [d.summary() for d in waiting], "__count": len(waiting)}
        shown = waiting[:PEPPOL_LIST_SIZE]
        return {"results": [d.documented_summary() for d in shown], "__count": len(shown)}

    def _record(self, method: str, target: str, status: int) -> None:
        if not self.record_requests:
            return
        with self._lock:
            self.requests.append((method, target, status))

    # -- the server --

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL (the API is under /v1)."""
        port = self._serving.start(self, host, port)
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        """Stop listening and cut kept-alive connections: a client's pooled connection must not
        keep talking to a simulator that a test has stopped."""
        self._serving.stop()


# --- helpers ---------------------------------------------------------------------------------


def _assumed_route(parts: list[str]) -> bool:
    """The partner feed's calls (assumed, not in the public API): listing a partner's companies and
    listing or downloading generated daily-receipt invoices and CODA statements."""
    if parts[:2] == ["partner", "company"]:
        return True
    book = parts[2:]
    return len(book) >= 3 and (
        (book[0] == "journal" and book[2] == "document")
        or (book[0] == "cashbook" and book[2] == "statement")
    )


def _limit_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(reset),
    }


def _book(company: Company, kind: str, book_id: str) -> Journal | CashBook:
    books: list[Journal] | list[CashBook] = (
        company.journals if kind == "journal" else company.cash_books
    )
    for book in books:
        if book.id == book_id:
            return book
    raise _NotFound("Journal not found" if kind == "journal" else "Cash book not found")


def _page(book: Book, query: str) -> _Response:
    """Documents with sequence > after, in order, at most PAGE_SIZE; `__count` counts them all
    (OData's inline count), `hasMore` says another call is needed."""
    values = parse_qs(query).get("after", ["0"])
    try:
        after = max(0, int(values[-1]))
    except ValueError:
        return _error(400, "after must be an integer")
    # Sequences are 1, 2, 3 … in list order, so the documents after `after` start at that index.
    remaining = book.documents[after:]
    page = [document.summary() for document in remaining[:PAGE_SIZE]]
    return _json(
        {"results": page, "__count": len(remaining), "hasMore": len(remaining) > PAGE_SIZE}
    )


# --- HTTP ------------------------------------------------------------------------------------


class _Handler(TrackedHandler):
    server: SimulatorServer[ScradaSimulator]  # GET, PUT, POST, DELETE: HEAD and PATCH answer 501

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        simulator = self.server.simulator
        response = simulator._answer(method, self.path, self.headers)
        # Recorded before answering: a test reads `requests` as soon as it has its answer.
        simulator._record(method, self.path, response.status)
        head = [
            f"HTTP/1.1 {response.status} {status_phrase(response.status)}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
        ]
        head.extend(f"{name}: {value}" for name, value in response.headers.items())
        if self.close_connection:
            head.append("Connection: close")
        # One write: head and body in separate segments would meet Nagle and delayed ACKs.
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client went away (a timeout in a test)
