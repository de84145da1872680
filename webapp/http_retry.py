"""One retry policy for the program's HTTP clients (Scrada, and a register's office client).

- Network faults, timeouts and 5xx answers are retried with exponential backoff and full jitter
  (a random wait between 0 and ``base * 2**(failures - 1)``, capped), a bounded number of times;
  then the client's own "unavailable" error is raised.
- A 429 waits what the server asks (``Retry-After``, or the client's own reading of its rate
  headers), within a cap and a bounded number of times; after that it counts as a failure.
- Any other answer is returned: what a 4xx means is the client's business, and it is not retried.
- Every call has a timeout: :func:`http_client` makes the httpx client with one.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from webapp.i18n import N_

Sleep = Callable[[float], None]
# (what was asked, attempts made, why the last one failed) -> the client's own error
GiveUp = Callable[[str, int, str], Exception]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # tries in all before giving up on faults and 5xx answers
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    rate_limit_waits: int = 3  # 429 answers waited out before they count as failures
    max_rate_wait: float = 60.0
    default_rate_wait: float = 10.0  # a 429 that does not say how long

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Full jitter: anything between 0 and the exponential ceiling, so clients spread out."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** min(failures - 1, 32))
        return rng.uniform(0, ceiling)


def http_client(
    base_url: str, headers: Mapping[str, str], *, timeout: float, connect: float
) -> httpx.Client:
    """An httpx client whose every call has a timeout (connect within ``connect`` seconds)."""
    return httpx.Client(
        base_url=base_url,
        headers=dict(headers),
        timeout=httpx.Timeout(timeout, connect=min(timeout, connect)),
        follow_redirects=False,
    )


def retry_after(
    response: httpx.Response, policy: RetryPolicy, now: Callable[[], float] = time.time
) -> float:
    """How long a 429 asks to wait (``Retry-After`` in seconds or as an HTTP date), capped."""
    value = (response.headers.get("retry-after") or "").strip()
    seconds: float | None
    try:
        seconds = float(value)
    except ValueError:
        seconds = _seconds_until(value, now)
    if seconds is None or seconds != seconds or seconds < 0:  # absent, unreadable or NaN
        return policy.default_rate_wait
    return min(seconds, policy.max_rate_wait)


def _seconds_until(value: str, now: Callable[[], float]) -> float | None:
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.timestamp() - now()


class Retrying:
    """Sends requests under one :class:`RetryPolicy`; one instance per client."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        give_up: GiveUp,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
        rate_wait: Callable[[httpx.Response], float] | None = None,
        log: logging.Logger | None = None,
        level: int = logging.INFO,
    ) -> None:
        self.policy = policy
        self._give_up = give_up
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rate_wait = rate_wait or (lambda response: retry_after(response, policy))
        self._log = log or logging.getLogger(__name__)
        self._level = level

    def send(self, call: Callable[[], httpx.Response], what: str) -> httpx.Response:
        """``call`` makes one request; errors it raises itself (other than httpx transport
        errors) go straight to the caller."""
        failures = rate_waits = 0
        while True:
            try:
                response = call()
            except httpx.TimeoutException as exc:
                failures = self._failed(failures, what, N_("no answer in time"), exc)
                continue
            except httpx.TransportError as exc:
                failures = self._failed(failures, what, N_("cannot connect"), exc)
                continue
            status = response.status_code
            if status == 429 and rate_waits < self.policy.rate_limit_waits:
                rate_waits += 1
                self._sleep(max(0.0, self._rate_wait(response)))
                continue
            if status >= 500 or status == 429:
                failures = self._failed(failures, what, f"HTTP {status}", None)
                continue
            return response

    def _failed(self, failures: int, what: str, reason: str, exc: Exception | None) -> int:
        failures += 1
        self._log.log(self._level, "%s: %s (attempt %d)", what, reason, failures, exc_info=exc)
        if failures >= self.policy.attempts:
            raise self._give_up(what, failures, reason)
        self._sleep(self.policy.backoff(failures, self._rng))
        return failures
