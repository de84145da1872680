"""Safety of the local UI (PLT-8): allowed Host values, CSRF secret, security headers."""

from __future__ import annotations

import ipaddress
import secrets

from litestar.types import Message, Scope

from webapp.config import DataDir
from webapp.files import atomic_write_text

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
