"""Scrada webhooks (SCR-5): `relais serve --webhook-listen HOST:PORT` answers POST /hooks/scrada.

A request is believed only if `x-scrada-hmac-sha256` is the HMAC-SHA256 of its raw body with our
secret; otherwise 401 and nothing is written. Each `x-scrada-event-id` is handled once. The answer
is 200 only after the document is safely written (or quarantined): Scrada retries anything else,
so a crash before the answer costs a retry, never a document.

This listener is its own small ASGI app, reached only through its own socket: the UI is never
served on it, even when it listens beyond 127.0.0.1 for Scrada to reach it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
from dataclasses import dataclass
from typing import Any

from webapp import history
from webapp.asgi import (
    PortRouter,
    Receive,
    Send,
    lifespan,
    read_body,
    send_json,
    start_tls_listener,
)
from webapp.files import atomic_write_text
from webapp.i18n import N_
from webapp.scrada import alerts, identify
from webapp.scrada import config as scrada_config
from webapp.scrada.webhook_filing import Answer, Event, file_document, remember
from webapp.services import Services

log = logging.getLogger(__name__)

PATH = "/hooks/scrada"
MAX_BODY = 20 * 1024 * 1024
LINES_MISSING = "journal/linesMissing"

history.KIND_LABELS.setdefault("webhook", N_("webhook"))
history.KIND_LABELS.setdefault("purchase_invoice", N_("purchase invoices"))


class WebhookApp:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = asyncio.Lock()  # one event at a time: the same event twice never races

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] != PATH:
            await send_json(send, 404, {"error": "not found"})
            return
        if scope["method"] != "POST":
            await send_json(send, 405, {"error": "POST only"})
            return
        body = await read_body(receive, MAX_BODY)
        if body is None:
            await send_json(send, 413, {"error": "too large"})
            return
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope["headers"]
        }
        async with self._lock:
            answer = await asyncio.to_thread(handle, self.services, headers, body)
        await send_json(send, answer.status, answer.body)


def handle(services: Services, headers: dict[str, str], body: bytes) -> Answer:
    secret = scrada_config.webhook_secret(services.vault)
    if not secret:
        # 503: Scrada keeps the event and retries once the secret (or the vault) is there.
        return Answer(503, {"error": "webhook secret not configured or vault locked"})
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    given = headers.get("x-scrada-hmac-sha256", "").strip().lower()
    if not given or not hmac.compare_digest(expected, given):
        log.warning("scrada webhook refused: bad signature")
        return Answer(401, {"error": "bad signature"})
    event = Event(
        headers.get("x-scrada-event-id", "").strip(),
        headers.get("x-scrada-topic", "").strip(),
        # Kept for the record and the few cases the document cannot answer (webhook_filing.py).
        headers.get("x-scrada-company-id", "").strip(),
    )
    if not event.id:
        return Answer(400, {"error": "x-scrada-event-id is required"})
    with services.store.read() as db:
        seen = db.execute(
            "SELECT 1 FROM scrada_webhook_events WHERE event_id = ?", [event.id]
        ).fetchone()
    if seen is not None:
        return Answer(200, {"status": "already processed"})
    if event.topic == LINES_MISSING:
        return _lines_missing(services, event, body)
    kind = identify.WEBHOOK_KINDS.get(event.topic)
    if kind is None:
        remember(services.store, event, None)
        return Answer(200, {"status": "ignored", "topic": event.topic})
    return file_document(services, event, kind, body)


def _lines_missing(services: Services, event: Event, body: bytes) -> Answer:
    """The shop's register sent no lines: an alert on the dashboard, no document."""
    try:
        notice = alerts.parse_lines_missing(body)
    except alerts.BadNotice as problem:
        # Not remembered: once the body's real shape is handled, Scrada's retry is taken.
        log.warning("scrada webhook %s: %s", event.topic, problem.message)
        return Answer(400, {"error": problem.message})
    with services.store.write() as db:
        alert_id = alerts.raise_lines_missing(db, notice)
    remember(services.store, event, None)
    return Answer(200, {"status": "alert", "alert": alert_id, "company": notice.company_id})


@dataclass
class Listener:
    app: Any  # what the main server serves: the UI routed with the webhook port, or the UI alone
    sockets: list[socket.socket]  # sockets the main server must also serve (none with HTTPS)
    url: str


def attach(
    services: Services,
    app: Any,
    listen: tuple[str, int],
    cert: str | None = None,
    key: str | None = None,
) -> Listener:
    """Bind the webhook listener; its URL goes to `webhook.json` in the data folder.

    Plain HTTP shares the main uvicorn server, routed by port. With a certificate the listener
    gets a uvicorn server of its own in a thread: uvicorn's TLS settings apply to a whole server,
    and the UI stays plain HTTP on 127.0.0.1 (as the POS listener does)."""
    from webapp.sockets import bind_socket, url_for

    sock = bind_socket(listen[0], listen[1], fallback=False)
    port = sock.getsockname()[1]
    url = url_for(listen[0], port) + PATH
    if cert:
        url = "https://" + url.removeprefix("http://")
    atomic_write_text(services.data_dir.path / "webhook.json", json.dumps({"url": url}))
    if not cert:
        return Listener(PortRouter(app, WebhookApp(services), port), [sock], url)
    start_tls_listener(WebhookApp(services), sock, cert, key, "webhook-listener")
    return Listener(app, [], url)
