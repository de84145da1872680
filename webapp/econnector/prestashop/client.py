"""A PrestaShop shop's webservice over HTTP (issue 15): the calls the connector makes.

The API is `SHOP_URL/api/` (a shop may live in a sub-folder). The key travels as the HTTP Basic
user with an empty password; for a host that strips the Authorization header, the connector may
choose `ws_key=` in the query instead, and then the key is cut out of every log line and error
text. Every call has a timeout; network faults, timeouts and 5xx answers are retried under the
program's one policy (:mod:`webapp.http_retry`), then reported as the shop being unavailable. A
PUT replaces the whole resource, so sending it again is harmless.

Errors are :class:`PrestaShopError` subclasses with a message for the user: the key refused (401
with PrestaShop's realm), a method refused by the key or the host (403/405), PrestaShop's own
`<errors>` message, no answer, or an answer that is not a PrestaShop webservice at all.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from webapp.econnector.prestashop import xml
from webapp.econnector.prestashop.errors import (
    BadShopUrl,
    KeyRejected,
    MethodRefused,
    NotFound,
    NotPrestaShop,
    PrestaShopError,
    ShopUnavailable,
    prestashop_root,
    refused_401,
    shop_message,
    with_status,
)
from webapp.econnector.prestashop.xml import ApiIndex, ShopAnswerError
from webapp.http_retry import Retrying, RetryPolicy, http_client
from webapp.i18n import N_, gettext

__all__ = [  # the errors are the client's: callers import them from here
    "BadShopUrl",
    "KeyRejected",
    "MethodRefused",
    "NotFound",
    "NotPrestaShop",
    "PrestaShopClient",
    "PrestaShopError",
    "ShopUnavailable",
    "api_url",
    "redact",
    "shop_url",
]

log = logging.getLogger(__name__)

DEFAULT_RETRY = RetryPolicy(attempts=3, base_seconds=0.5, cap_seconds=10.0)
PAGE_SIZE = 100
LAST_DATE = "9999-12-31 23:59:59"
IDS_PER_REQUEST = 100  # filter[id]=[1|2|...] stays well under the hosts' URL limits
_WS_KEY = re.compile(r"(ws_key=)[^&\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with any `ws_key=` value cut out."""
    return _WS_KEY.sub(r"\1***", text)


class _RedactKey(logging.Filter):
    """httpx logs every request's URL: with the ws_key fallback, that URL holds the key."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(str(arg)) if "ws_key" in str(arg) else arg for arg in args)
        record.msg = redact(str(record.msg))
        return True


for _name in ("httpx", "httpcore", __name__, "webapp.http_retry"):
    logging.getLogger(_name).addFilter(_RedactKey())


def api_url(shop_url: str) -> str:
    """`https://example.org/boutique` -> `https://example.org/boutique/api/`; the sub-folder kept,
    `/api/` appended once; http or https only."""
    value = shop_url.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadShopUrl(
            N_(
                "The shop address must start with https:// (or http://), such as "
                "https://example.org/boutique."
            ),
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise BadShopUrl(N_("The shop address must not hold a query, a fragment or a password."))
    if any(char.isspace() for char in value):
        raise BadShopUrl(N_("The shop address must not hold spaces."))
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path = path.removesuffix("/api")
    return urlunsplit((parts.scheme.lower(), parts.netloc, f"{path}/api/", "", ""))


def shop_url(value: str) -> str:
    """The shop address as stored: normalised, without `/api/` (checked as api_url checks it)."""
    return api_url(value).removesuffix("api/")


Sleep = Callable[[float], None]


class PrestaShopClient:
    """One shop, one key. Use as a context manager, or close()."""

    def __init__(
        self,
        shop: str,
        key: str,
        *,
        use_ws_key: bool = False,
        timeout: float = 20.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        if not key.strip():
            raise KeyRejected(N_("Give the PrestaShop webservice key."))
        self.api_url = api_url(shop)
        self.requests_made = 0
        self._ws_key = key.strip() if use_ws_key else None
        self._retrying = Retrying(
            retry or DEFAULT_RETRY,
            give_up=self._unavailable,
            sleep=sleep,
            log=log,
            level=logging.WARNING,
        )
        self._last_problem = ""
        self._http = http_client(self.api_url, {}, timeout=timeout, connect=min(timeout, 10.0))
        if not use_ws_key:
            self._http.auth = httpx.BasicAuth(key.strip(), "")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PrestaShopClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the calls ---------------------------------------------------------------------------

    def index(self) -> ApiIndex:
        """`GET /api/`: the resources this key may use; the connection test."""
        return xml.api_index(self._get(""))

    def get(self, resource: str, record_id: int) -> dict[str, Any]:
        """One record, whole."""
        return xml.record(self._get(f"{resource}/{int(record_id)}"), resource)

    def list_ids(
        self,
        resource: str,
        *,
        filters: Mapping[str, str] | None = None,
        sort: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[int]:
        """Ids only (no `display`), in the shop's order."""
        params = _list_params(filters, sort, offset, limit)
        return xml.ids(self._get(resource, params), resource)

    def list_full(
        self,
        resource: str,
        *,
        filters: Mapping[str, str] | None = None,
        sort: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        display: str = "full",
    ) -> list[dict[str, Any]]:
        """Whole records (`display=full`) or some fields (`display=[id,reference]`)."""
        params = {"display": display, **_list_params(filters, sort, offset, limit)}
        return xml.records(self._get(resource, params), resource)

    def get_many(
        self, resource: str, record_ids: Sequence[int], *, display: str = "full"
    ) -> dict[int, dict[str, Any]]:
        """Records by id with `filter[id]=[1|2|3]`, a request per hundred ids; id -> record.
        An id the shop does not have is absent from the answer."""
        wanted = sorted({int(value) for value in record_ids})
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(wanted), IDS_PER_REQUEST):
            chunk = wanted[start : start + IDS_PER_REQUEST]
            filters = {"id": "[" + "|".join(str(value) for value in chunk) + "]"}
            for item in self.list_full(resource, filters=filters, display=display):
                found[int(item["id"])] = item
        return found

    def changed_since(
        self,
        resource: str,
        since: str | None,
        *,
        filters: Mapping[str, str] | None = None,
        page_size: int = PAGE_SIZE,
        inclusive: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """Whole records whose `date_upd` is after `since` (the shop's own text; None: all),
        oldest first, a page at a time (`limit=offset,N`). PrestaShop takes a date filter only
        with `date=1`. The caller advances its cursor only once a page is committed.

        `inclusive` also takes records of that very second (an interval filter): the shop's dates
        have no fraction, so a cursor between two orders of one second would skip the second."""
        wanted = dict(filters or {})
        if since:
            wanted["date_upd"] = f"[{since},{LAST_DATE}]" if inclusive else f">[{since}]"
        offset = 0
        while True:
            params = {
                "display": "full",
                "date": "1",
                **_list_params(wanted, "[date_upd_ASC,id_ASC]", offset, page_size),
            }
            page = xml.records(self._get(resource, params), resource)
            if page:
                yield page
            if len(page) < page_size:
                return
            offset += page_size

    def orders_since(
        self,
        since: str | None,
        *,
        states: Sequence[int] = (),
        page_size: int = PAGE_SIZE,
        inclusive: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """Orders changed after `since` in the chosen states (none chosen: every state)."""
        filters = {"current_state": "[" + "|".join(str(s) for s in states) + "]"} if states else {}
        return self.changed_since(
            "orders", since, filters=filters, page_size=page_size, inclusive=inclusive
        )

    def put(self, resource: str, record_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the whole record (GET it, change it, PUT it back); the shop's answer."""
        body = xml.document(resource, {**values, "id": int(record_id)})
        root = self._send("PUT", f"{resource}/{int(record_id)}", None, body)
        return xml.record(root, resource)

    # -- transport ---------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self._send("GET", path, params, None)

    def _send(
        self, method: str, path: str, params: Mapping[str, str] | None, body: bytes | None
    ) -> Any:
        query = dict(params or {})
        if self._ws_key is not None:
            query["ws_key"] = self._ws_key
        what = f"{method} {self.api_url}{path}"
        content = bytearray()
        headers = {"Content-Type": "text/xml; charset=utf-8"} if body is not None else None

        def call() -> httpx.Response:
            content.clear()
            request = self._http.build_request(
                method, path, params=query, content=body, headers=headers
            )
            self.requests_made += 1
            response = self._http.send(request, stream=True)
            try:
                for chunk in response.iter_bytes():
                    content.extend(chunk)
                    if len(content) > xml.MAX_BYTES:
                        raise ShopAnswerError(
                            N_("The shop's answer is bigger than {size} MB."), size=50
                        )
            except httpx.TransportError:
                response.close()
                raise
            finally:
                response.close()
            if response.status_code >= 500:
                self._last_problem = shop_message(bytes(content))
            return response

        try:
            response = self._retrying.send(call, what)
        except ShopAnswerError as exc:
            raise NotPrestaShop(exc.message, **exc.params) from None
        return self._checked(response, bytes(content), method, path)

    def _checked(self, response: httpx.Response, data: bytes, method: str, path: str) -> Any:
        status = response.status_code
        if 300 <= status < 400:
            raise NotPrestaShop(
                N_("The shop answered with a redirect to {location}: use that address."),
                location=redact(response.headers.get("location", "?")),
            )
        if status == 401:
            raise with_status(refused_401(response, data, method, path), status)
        if status in (403, 405):
            raise with_status(
                MethodRefused(
                    N_("{method} on {resource} is refused (HTTP {status}): {detail}"),
                    method=method,
                    resource=path or "/api/",
                    status=status,
                    detail=shop_message(data)
                    or gettext(N_("by the key's permissions or by the host")),
                ),
                status,
            )
        if status == 404 and path and "psws-version" in response.headers:
            # PrestaShop answers an unknown id with a 404 and an empty body.
            raise with_status(NotFound(N_("The shop has no {path}."), path=path), status)
        root = prestashop_root(data, response)
        problems = xml.errors(root)
        if status >= 400 or problems:
            detail = "; ".join(p.message for p in problems) or f"HTTP {status}"
            raise with_status(
                PrestaShopError(N_("The shop refused {path}: {detail}"), path=path, detail=detail),
                status,
            )
        return root

    def _unavailable(self, what: str, attempts: int, reason: str) -> ShopUnavailable:
        detail = redact(self._last_problem or reason)
        self._last_problem = ""
        return ShopUnavailable(
            N_("The shop did not answer properly for {what} after {attempts} tries: {reason}."),
            what=redact(what),
            attempts=attempts,
            reason=detail,
        )


def _list_params(
    filters: Mapping[str, str] | None, sort: str | None, offset: int, limit: int | None
) -> dict[str, str]:
    params = {f"filter[{name}]": value for name, value in (filters or {}).items()}
    if sort:
        params["sort"] = sort
    if limit is not None:
        params["limit"] = f"{offset},{limit}" if offset else str(limit)
    return params
