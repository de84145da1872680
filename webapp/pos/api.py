"""The office's POS listener (POS-7): /api/pos/v1/... for the registers.

A small ASGI app of its own, reached only through its own socket (webapp/pos/listener.py runs it,
as `relais serve --pos-listen HOST:PORT` or Paramètres ask): the UI is never served on it, even when it listens beyond 127.0.0.1 for the registers to reach it. Every
call carries ``Authorization: Bearer <register token>``; the token names the register, so no call
can reach another register's packages. See docs/pos.md for the calls and their answers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from webapp.asgi import Receive, Send, lifespan, read_body, send_json
from webapp.pos import office, office_packages, office_records, protocol, updates_office
from webapp.pos.office import Register
from webapp.services import Services

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024

_PACKAGE = re.compile(r"/packages/(\d{1,9})")
_ACK = re.compile(r"/packages/(\d{1,9})/ack")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # below the API prefix: /hello, /packages, ...
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


def _error(status: int, message: str) -> Answer:
    return Answer(status, {"error": message})


class PosApp:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = str(scope["path"])
        if not path.startswith(protocol.API + "/"):
            await _send(send, _error(404, "not found"))
            return
        body = await read_body(receive, MAX_BODY)
        if body is None:
            await _send(send, _error(413, "request body too large"))
            return
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope["headers"]
        }
        call = Call(
            method=str(scope["method"]),
            path=path[len(protocol.API) :],
            query=parse_qs(scope.get("query_string", b"").decode("latin-1")),
            headers=headers,
            body=body,
        )
        try:
            answer = await asyncio.to_thread(handle, self.services, call)
        except Exception:
            log.exception("pos api: %s %s failed", call.method, path)
            answer = _error(500, "internal error")
        await _send(send, answer)


def _bearer(headers: dict[str, str]) -> str:
    scheme, _sep, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def handle(services: Services, call: Call) -> Answer:
    """Authenticate the register by its token, then route the call."""
    token = _bearer(call.headers)
    if not token:
        return _error(401, "missing bearer token")
    register = office.register_for_token(services.store, token)
    if register is None:
        return _error(401, "unknown or revoked token")
    return route(services, register, call)


def route(services: Services, register: Register, call: Call) -> Answer:
    method, path = call.method, call.path
    if path == "/hello" and method == "GET":
        return _hello(services, register)
    if path == "/packages" and method == "GET":
        return _packages(services, register, call)
    if path == "/outbox" and method == "POST":
        return _outbox(services, register, call)
    if path == "/updates" and method == "GET":
        after = _after(call)
        if after is None:
            return _error(400, "after must be a whole number")
        return Answer(200, {"updates": updates_office.list_updates(services.store, after)})
    if (match := _ACK.fullmatch(path)) and method == "POST":
        number = int(match.group(1))
        if not office_packages.acknowledge(services.store, register, number):
            return _error(404, "no such package")
        return Answer(200, {"acknowledged": number})
    if (match := _PACKAGE.fullmatch(path)) and method == "GET":
        return _package(services, register, int(match.group(1)), call)
    known = path in ("/hello", "/packages", "/outbox", "/updates") or _PACKAGE.fullmatch(path)
    if known or _ACK.fullmatch(path):
        return _error(405, "method not allowed")
    return _error(404, "not found")


def _hello(services: Services, register: Register) -> Answer:
    return Answer(
        200,
        {
            "register": register.number,
            "company": register.company,
            "office": services.install_id,
            "update_key": updates_office.ensure_public_key(services.store, services.vault),
            "protocol": protocol.PROTOCOL,
        },
    )


def _after(call: Call) -> int | None:
    values = call.query.get("after") or ["0"]
    return int(values[0]) if values[0].isdigit() else None


def _packages(services: Services, register: Register, call: Call) -> Answer:
    after = _after(call)
    if after is None:
        return _error(400, "after must be a whole number")
    return Answer(200, {"packages": office_packages.list_packages(services.store, register, after)})


def _package(services: Services, register: Register, number: int, call: Call) -> Answer:
    body = office_packages.package_body(services.store, register, number)
    if body is None:
        return _error(404, "no such package")
    # Stored zlib-compressed, which is HTTP's "deflate": sent as it is to whoever accepts it.
    if "deflate" in call.headers.get("accept-encoding", "").lower():
        return Answer(200, raw=body, headers=[(b"content-encoding", b"deflate")])
    return Answer(200, raw=zlib.decompress(body))


def _outbox(services: Services, register: Register, call: Call) -> Answer:
    try:
        data = protocol.parse_json(call.body)
    except protocol.BadJson as exc:
        return _error(400, str(exc))
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        return _error(400, 'expected {"records": [...]}')
    if len(records) > protocol.MAX_BATCH:
        return _error(413, f"at most {protocol.MAX_BATCH} records per call")
    results = office_records.apply_records(services.store, register, records)
    return Answer(200, batch_answer(results, len(records)))


def batch_answer(results: list[dict[str, Any]], sent: int) -> dict[str, Any]:
    """The results, and the ids applied and rejected spelt out: the register is never left
    guessing. Records after the last result (the office failed there) stay queued."""
    return {
        "results": results,
        "applied": [r["id"] for r in results if r["status"] in ("applied", "already_applied")],
        "rejected": [r["id"] for r in results if r["status"] == "rejected"],
        "complete": len(results) == sent,
    }


async def _send(send: Send, answer: Answer) -> None:
    headers = list(answer.headers)
    if answer.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="relais-pos"'))
    await send_json(send, answer.status, answer.body, raw=answer.raw, headers=headers)
