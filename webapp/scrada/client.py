"""The Scrada API over HTTP (SCR-5, SCR-6): documented calls and the assumed partner feed.

The client paces itself with the `x-ratelimit-*` headers so it never trips Scrada's bucket (60
requests a minute, 10 back every 10 s), waits for `x-ratelimit-reset` on a 429, stops at once on
401, and retries 5xx answers and network faults under the program's one policy
(:mod:`webapp.http_retry`: exponential backoff with full jitter, a bounded number of times). Every
call has a timeout.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from webapp.http_retry import Retrying, http_client
from webapp.http_retry import RetryPolicy as RetryPolicy  # the callers import it from here
from webapp.i18n import N_, UserError
from webapp.scrada.config import Credentials

log = logging.getLogger(__name__)

PAGE_LIMIT = 1000  # a runaway feed cannot keep a pull going for ever
REFUSED = N_("Scrada refused the API key or the password ({detail}).")


class ScradaError(UserError):
    """Scrada answered with an error we cannot get past."""


class CredentialsRejected(ScradaError):
    """401/403: the API key or password is wrong (or revoked)."""


class ScradaUnavailable(ScradaError):
    """Still failing after the retries."""


class NotFound(ScradaError):
    """404: the company, book or document does not exist (any more)."""


class NotOffered(ScradaError):
    """404/405/501 on a call of the assumed partner feed: this Scrada account does not offer it.
    A normal state (Scrada's public API has no such calls), not an error of the pull."""


# What a server answers for a route it does not have: no such path, no such method, not built.
_NOT_OFFERED = frozenset({404, 405, 501})


DEFAULT_RETRY = RetryPolicy(attempts=5, base_seconds=0.5, cap_seconds=30.0, rate_limit_waits=10)


@dataclass(frozen=True)
class Page:
    results: list[dict[str, Any]]
    has_more: bool


Sleep = Callable[[float], None]


class ScradaClient:
    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = 20.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.time,
        language: str = "FR",
        rng: random.Random | None = None,
    ) -> None:
        self.retry = retry or DEFAULT_RETRY
        self._sleep = sleep
        self._clock = clock
        self._retrying = Retrying(
            self.retry,
            give_up=_unavailable,
            sleep=self._wait,
            rng=rng,
            rate_wait=lambda _response: self._rate_wait(),
            log=log,
            level=logging.WARNING,
        )
        self._remaining: int | None = None
        self._reset: float | None = None
        self.requests_made = 0
        self.waited_seconds = 0.0
        self._http = http_client(
            base_url if base_url.endswith("/") else base_url + "/",
            {
                "X-API-KEY": credentials.api_key,
                "X-PASSWORD": credentials.password,
                "Language": language,
                "Accept": "application/json",
            },
            timeout=timeout,
            connect=10.0,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ScradaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- documented API ----------------------------------------------------------------------

    def company(self, company_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"company/{company_id}"))

    def journals(self, company_id: str) -> list[dict[str, Any]]:
        return _list(self._json("GET", f"company/{company_id}/journal"))

    def cash_books(self, company_id: str) -> list[dict[str, Any]]:
        return _list(self._json("GET", f"company/{company_id}/cashBook"))

    def peppol_unconfirmed(self, company_id: str) -> list[dict[str, Any]]:
        return _list(self._json("GET", f"company/{company_id}/peppol/inbound/document/unconfirmed"))

    def peppol_document(self, company_id: str, document_id: str) -> bytes:
        path = f"company/{company_id}/peppol/inbound/document/{document_id}"
        return self._request("GET", path, accept="application/xml").content

    def peppol_confirm(self, company_id: str, document_id: str) -> None:
        self._request("PUT", f"company/{company_id}/peppol/inbound/document/{document_id}/confirm")

    def cash_book(self, company_id: str, cash_book_id: str) -> dict[str, Any]:
        """One cash book, with `currentBalance` to compare with the last statement delivered."""
        body = self._json("GET", f"company/{company_id}/cashBook/{cash_book_id}")
        if not isinstance(body, dict):
            raise ScradaError(N_("Scrada sent a cash book in an unexpected shape."))
        return body

    # -- partner feed (assumed, see docs/scrada.md) -------------------------------------------

    def partner_companies(self) -> list[dict[str, Any]]:
        return _list(self._json("GET", "partner/company", assumed=True))

    def journal_documents(self, company_id: str, journal_id: str, after: int) -> Page:
        return self._page(f"company/{company_id}/journal/{journal_id}/document", after)

    def journal_document(self, company_id: str, journal_id: str, document_id: str) -> bytes:
        path = f"company/{company_id}/journal/{journal_id}/document/{document_id}"
        return self._request("GET", path, accept="application/xml").content

    def statements(self, company_id: str, cash_book_id: str, after: int) -> Page:
        return self._page(f"company/{company_id}/cashBook/{cash_book_id}/statement", after)

    def statement(self, company_id: str, cash_book_id: str, statement_id: str) -> bytes:
        path = f"company/{company_id}/cashBook/{cash_book_id}/statement/{statement_id}"
        return self._request("GET", path, accept="text/plain").content

    def verify(self, company_ids: tuple[str, ...]) -> dict[str, Any]:
        """One cheap call that needs valid credentials: raises CredentialsRejected if refused.
        Scrada checks the key before the route, so a partner list not offered still means the
        key was accepted."""
        if company_ids:
            return self.company(company_ids[0])
        try:
            return {"companies": len(self.partner_companies())}
        except NotOffered:
            return {"companies": 0, "partner_feed": False}

    # -- transport -----------------------------------------------------------------------------

    def _page(self, path: str, after: int) -> Page:
        body = self._json("GET", path, params={"after": str(after)}, assumed=True)
        return Page(_list(body), bool(isinstance(body, dict) and body.get("hasMore")))

    def _json(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        *,
        assumed: bool = False,
    ) -> Any:
        response = self._request(method, path, params=params, assumed=assumed)
        try:
            return response.json()
        except ValueError as exc:
            raise ScradaError(
                N_("Scrada sent an answer that is not JSON for {path}."), path=path
            ) from exc

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        accept: str | None = None,
        assumed: bool = False,
    ) -> httpx.Response:
        """`assumed`: a listing of the partner feed, whose absence (404/405/501) is NotOffered
        rather than an error, and is not retried (a missing route does not come back in 2 s)."""
        headers = {"Accept": accept} if accept else None

        def call() -> httpx.Response:
            self._pace()
            try:
                response = self._http.request(method, path, params=params, headers=headers)
            finally:
                self.requests_made += 1
            self._remember_rate(response)
            if assumed and response.status_code in _NOT_OFFERED:
                raise NotOffered(
                    N_("This Scrada account does not offer {path} (HTTP {status})."),
                    path=path,
                    status=response.status_code,
                )
            return response

        response = self._retrying.send(call, path)
        status = response.status_code
        if status in (401, 403):
            raise CredentialsRejected(REFUSED, detail=_error_text(response))
        if status == 404:
            raise NotFound(N_("Scrada does not know {path}."), path=path)
        if status >= 400:
            raise ScradaError(
                N_("Scrada refused {path}: {detail}"), path=path, detail=_error_text(response)
            )
        return response

    def _remember_rate(self, response: httpx.Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if remaining is not None and remaining.strip().lstrip("-").isdigit():
            self._remaining = int(remaining)
        if reset is not None:
            try:
                self._reset = float(reset)
            except ValueError:
                self._reset = None

    def _rate_wait(self) -> float:
        if self._reset is None:
            return self.retry.default_rate_wait
        wait = self._reset - self._clock()
        if wait <= 0:  # the server's clock is behind ours: wait one refill period
            return self.retry.default_rate_wait
        return min(wait + 0.05, self.retry.max_rate_wait)

    def _pace(self) -> None:
        """Out of tokens: wait for the refill instead of spending a request on a 429."""
        if self._remaining is not None and self._remaining < 1:
            self._wait(self._rate_wait())
            self._remaining = None

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waited_seconds += seconds
            self._sleep(seconds)


def _unavailable(path: str, attempts: int, reason: str) -> ScradaUnavailable:
    return ScradaUnavailable(
        N_("Scrada did not answer properly for {path} after {attempts} tries: {reason}."),
        path=path,
        attempts=attempts,
        reason=reason,
    )


def _list(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        body = body.get("results", [])
    if not isinstance(body, list):
        raise ScradaError(N_("Scrada sent a list in an unexpected shape."))
    return [item for item in body if isinstance(item, dict)]


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("defaultFormat"):
        return f"HTTP {response.status_code}: {body['defaultFormat']}"
    return f"HTTP {response.status_code}"
