"""Safety of the local UI (PLT-8): allowed Host values, CSRF secret, security headers."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from webapp.config import DataDir
from webapp.files import atomic_write_text

if TYPE_CHECKING:  # litestar only for the server's middlewares: commands check hosts without it
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind_host: str, port: int, extra: list[str] | None = None) -> list[str]:
    """The Host values a browser sends for this server; anything else is refused (DNS rebinding)."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    if bind_host not in ("0.0.0.0", "::", ""):
        names.add(f"[{bind_host}]" if ":" in bind_host else bind_host)
    names.update(extra or [])
    hosts = set()
    for name in names:
        hosts.add(f"{name}:{port}")
        if port == 80:
            hosts.add(name)
    return sorted(hosts)


def csrf_secret(data_dir: DataDir) -> str:
    """Kept in the data folder: a new secret at each start would reject every open page's forms."""
    path = data_dir.path / "csrf.secret"
    if path.exists():
        value = path.read_text(encoding="ascii").strip()
        if len(value) >= 32:
            return value
    value = secrets.token_urlsafe(32)
    atomic_write_text(path, value, encoding="ascii", permissions=0o600)
    return value


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: every response, error pages from middlewares included."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {bytes(name).lower() for name, _ in headers}
    headers.extend(item for item in SECURITY_HEADERS if item[0] not in present)
    message["headers"] = headers


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Fetch metadata a browser sends with every request: "same-site" includes another port of
# 127.0.0.1 (any local program's page), so only "same-origin" and "none" (typed, bookmarked) pass.
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


def allowed_origins(hosts: list[str]) -> frozenset[str]:
    return frozenset(f"{scheme}://{host}" for host in hosts for scheme in ("http", "https"))


def foreign_request(scope: Scope, origins: frozenset[str]) -> bool:
    """A state-changing request a browser sent from another page: refused before any handler.

    Defence in depth beside the CSRF token: a token leaked to another local page (or the
    CSRF-exempt local ticket API) still cannot be used across origins. Programs that are not
    browsers send neither header and pass.
    """
    kind: object = scope["type"]  # "http", ScopeType.HTTP (a str) in litestar's types
    if kind != "http" or scope.get("method", "GET") not in UNSAFE_METHODS:
        return False
    for name, value in scope.get("headers", []):
        if name == b"origin" and value.decode("latin-1").lower() not in origins:
            return True
        if name == b"sec-fetch-site" and value.decode("latin-1") not in ALLOWED_FETCH_SITES:
            return True
    return False


def origin_check_middleware(hosts: list[str]) -> Callable[[ASGIApp], ASGIApp]:
    from litestar.response.base import ASGIResponse

    origins = allowed_origins(hosts)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if not foreign_request(scope, origins):
                await app(scope, receive, send)
                return
            refused = ASGIResponse(
                body=b"Cross-origin request refused.",
                status_code=403,
                media_type="text/plain; charset=utf-8",
            )
            await refused(scope, receive, send)

        return middleware

    return factory
