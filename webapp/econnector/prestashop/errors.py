"""What can go wrong talking to a shop's webservice, as errors with a message for the user.

Each error carries the HTTP `status` that decided it (None when nothing answered). PrestaShop
answers 401 both for a bad key and for a resource the key may not use (its error 26); a 401
from the host itself (another realm) means the host wants its own password first.
"""

from __future__ import annotations

from typing import Any

import httpx

from webapp.econnector.prestashop import xml
from webapp.econnector.prestashop.xml import ShopAnswerError
from webapp.i18n import N_, UserError


class PrestaShopError(UserError):
    """The shop's webservice could not do what was asked; the message says why."""

    status: int | None = None


class BadShopUrl(PrestaShopError):
    """The shop address cannot be used (scheme, shape)."""


class KeyRejected(PrestaShopError):
    """401: the shop refused the key (or the host asks for its own password)."""


class MethodRefused(PrestaShopError):
    """403/405: the key, or the host, does not allow this method on this resource."""


class NotFound(PrestaShopError):
    """404: no such record (or resource)."""


class ShopUnavailable(PrestaShopError):
    """No answer, or still failing after the retries."""


class NotPrestaShop(PrestaShopError):
    """Something answered, but not a PrestaShop webservice."""


def with_status(error: PrestaShopError, status: int) -> PrestaShopError:
    error.status = status
    return error


def refused_401(response: httpx.Response, data: bytes, method: str, path: str) -> PrestaShopError:
    """PrestaShop answers 401 for a bad key, and for a resource the key may not use (error 26)."""
    try:
        problems = xml.errors(xml.parse(data))
    except ShopAnswerError:
        problems = []
    if any(problem.code == "26" for problem in problems):
        return MethodRefused(
            N_("{method} on {resource} is refused (HTTP {status}): {detail}"),
            method=method,
            resource=path,
            status=401,
            detail=problems[0].message[:300],
        )
    realm = response.headers.get("www-authenticate", "")
    if problems or "prestashop" in realm.lower():
        detail = "; ".join(problem.message for problem in problems)[:300]
        if detail:
            return KeyRejected(N_("The shop refused the webservice key: {detail}"), detail=detail)
        return KeyRejected(N_("The shop refused the webservice key."))
    return KeyRejected(
        N_("The host asks for its own password before PrestaShop ({realm})."),
        realm=realm[:80] or "HTTP 401",
    )


def prestashop_root(data: bytes, response: httpx.Response) -> Any:
    try:
        return xml.parse(data)
    except ShopAnswerError:
        kind = response.headers.get("content-type", "").split(";")[0].strip() or "?"
        raise with_status(
            NotPrestaShop(
                N_(
                    "This address is not a PrestaShop webservice (it answered HTTP {status}, "
                    "{kind})."
                ),
                status=response.status_code,
                kind=kind,
            ),
            response.status_code,
        ) from None


def shop_message(data: bytes) -> str:
    """PrestaShop's `<errors>` messages in an answer, or "" when there are none to read."""
    try:
        return "; ".join(p.message for p in xml.errors(xml.parse(data)))[:300]
    except ShopAnswerError:
        return ""
