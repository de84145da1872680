"""The register's HTTP client for the office's POS listener (docs/pos.md, /api/pos/v1).

Every call has a timeout; network faults, timeouts, 5xx answers and 429s are retried under the
program's one policy (:mod:`webapp.http_retry`; the synchroniser adds its own, longer backoff
between rounds); 401 stops at once with :class:`OfficeRefused`.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from webapp.http_retry import Retrying, RetryPolicy, http_client
from webapp.i18n import N_, UserError, gettext
from webapp.pos import protocol

log = logging.getLogger(__name__)

# A few quick tries within one call: the synchroniser's own backoff covers the longer outages.
DEFAULT_RETRY = RetryPolicy(
    attempts=3, base_seconds=0.5, cap_seconds=5.0, rate_limit_waits=2, max_rate_wait=30.0
)


_JSON = {"Content-Type": "application/json"}
# How httpx encodes a json= body, without making an encoder for each record.
_WIRE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class OfficeError(UserError):
    """The office answered something the register cannot use."""


class OfficeRefused(OfficeError):
    """401: the office refused the register's token (unknown or revoked)."""


class OfficeUnreachable(OfficeError):
    """No answer (or only 5xx answers) after the retries."""


def _unreachable(path: str, attempts: int, reason: str) -> OfficeUnreachable:
    return OfficeUnreachable(
        N_("The office does not answer ({reason})."), reason=f"{path}: {gettext(reason)}"
    )


class OfficeClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.retry = retry or DEFAULT_RETRY
        # Each failed try at DEBUG: an office away is expected, and the synchroniser logs the
        # round's outcome in one WARNING line (no traceback for a refused connection).
        self._retrying = Retrying(
            self.retry, give_up=_unreachable, sleep=sleep, rng=rng, log=log, level=logging.DEBUG
        )
        self._http = http_client(
            base_url.rstrip("/") + protocol.API,
            {"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            connect=5.0,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OfficeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls ---------------------------------------------------------------------------------

    def hello(self) -> dict[str, Any]:
        return _dict(self._json("GET", "/hello"), "hello")

    def packages(self, after: int) -> list[dict[str, Any]]:
        body = _dict(self._json("GET", "/packages", params={"after": str(after)}), "packages")
        return _rows(body.get("packages"), "packages")

    def package(self, number: int) -> tuple[dict[str, Any], bytes]:
        """The package and the exact bytes received (their SHA-256 is checked by the caller)."""
        response = self._request("GET", f"/packages/{number}")
        return _dict(_parse(response, "package"), "package"), response.content

    def ack(self, number: int) -> None:
        self._request("POST", f"/packages/{number}/ack", json={})

    def push(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Send the records; a WireRecord is sent as its text, the others encoded here."""
        texts = [
            record.text if isinstance(record, protocol.WireRecord) else _WIRE.encode(record)
            for record in records
        ]
        body = ('{"records":[' + ",".join(texts) + "]}").encode()
        response = self._request("POST", "/outbox", content=body, headers=_JSON)
        return _rows(_dict(_parse(response, "/outbox"), "outbox").get("results"), "outbox")

    def updates(self, after: int) -> list[dict[str, Any]]:
        body = _dict(self._json("GET", "/updates", params={"after": str(after)}), "updates")
        return _rows(body.get("updates"), "updates")

    # -- transport -----------------------------------------------------------------------------

    def _json(
        self, method: str, path: str, *, params: dict[str, str] | None = None, json: Any = None
    ) -> Any:
        return _parse(self._request(method, path, params=params, json=json), path)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        response = self._retrying.send(
            lambda: self._http.request(
                method, path, params=params, json=json, content=content, headers=headers
            ),
            path,
        )
        if response.status_code in (401, 403):
            raise OfficeRefused(N_("The office refused the token."))
        if response.status_code >= 400:
            raise OfficeError(
                N_("The office refused {path}: {detail}"), path=path, detail=_error_text(response)
            )
        return response


def _parse(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError) as exc:  # RecursionError: an answer nested too deeply
        raise OfficeError(
            N_("The office sent an answer that is not JSON ({what})."), what=what
        ) from exc


def _dict(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise OfficeError(
            N_("The office sent an answer in an unexpected shape ({what})."), what=what
        )
    return body


def _rows(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise OfficeError(
            N_("The office sent an answer in an unexpected shape ({what})."), what=what
        )
    return list(value)


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("error"):
        return f"HTTP {response.status_code}: {body['error']}"
    return f"HTTP {response.status_code}"
