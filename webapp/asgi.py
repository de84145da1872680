"""Small raw-ASGI pieces for the machine-to-machine listeners (Scrada webhooks, the POS API).

They serve JSON to other programs, never the UI, so they skip Litestar (no CSRF, no templates, no
Host check for browsers) and stay a few lines each. A listener gets its own socket on the same
uvicorn server; `PortRouter` sends each request to the app of the port it came in on.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None once it passes `limit` bytes (read no further)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def send_json(
    send: Send,
    status: int,
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A JSON answer (`body` serialised, or `raw` bytes sent as they are)."""
    # ASCII with escapes: a lone surrogate echoed from a request (an id) still makes valid JSON;
    # default=str: a Decimal in an error's params is written as its text, never a failed answer.
    payload = raw if raw is not None else json.dumps(body, default=str).encode("ascii")
    start = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
        # Answers to other programs: never cached by a proxy, never sniffed as another type.
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": payload})


async def lifespan(receive: Receive, send: Send) -> None:
    """Accept startup and shutdown: these apps hold nothing to open or close."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class PortRouter:
    """Requests that came in on `port` go to `app`, all others to `inner` (the UI, or another
    router). Lifespan events go to `inner` only."""

    def __init__(self, inner: Any, app: Any, port: int) -> None:
        self.inner = inner
        self.app = app
        self.port = port

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        server = scope.get("server") or (None, None)
        if scope["type"] != "lifespan" and server[1] == self.port:
            await self.app(scope, receive, send)
            return
        await self.inner(scope, receive, send)


def check_certificate(cert: str, key: str | None) -> None:
    """Load the certificate and key now: a bad file stops `serve` before it listens."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)


def start_tls_listener(app: Any, sock: Any, cert: str, key: str | None, name: str) -> None:
    """Serve `app` over HTTPS on `sock` in a daemon thread (the register API, the webhooks): its
    own uvicorn server, since the UI's stays plain HTTP on 127.0.0.1. Stopped at exit."""
    import atexit
    import threading

    import uvicorn

    check_certificate(cert, key)
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        ssl_certfile=cert,
        ssl_keyfile=key,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(15)

    atexit.register(stop)
