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
import logging
from dataclasses import dataclass
from typing import Any

from webapp import history
from webapp.asgi import Receive, Send, lifespan, read_body, send_json
from webapp.i18n import N_
from webapp.scrada import config as scrada_config
from webapp.scrada import records
from webapp.scrada.delivery import deliver
from webapp.scrada.sources import from_webhook
from webapp.services import Services

log = logging.getLogger(__name__)

PATH = "/hooks/scrada"
JOB_NAME = "scrada_webhook"
MAX_BODY = 20 * 1024 * 1024
TOPICS = {
    "journal/newInvoiceUbl": "daily-receipts",
    "cashBook/newStatementCoda": "cash-book",
    "peppolInboundDocument/new": "peppol-inbound",
}
BOOK_NAMES = {"daily-receipts": "Recettes", "cash-book": "Caisse", "peppol-inbound": "Peppol"}


history.KIND_LABELS.setdefault("webhook", N_("webhook"))


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


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
    event_id = headers.get("x-scrada-event-id", "").strip()
    topic = headers.get("x-scrada-topic", "").strip()
    company_id = headers.get("x-scrada-company-id", "").strip()
    if not event_id or not company_id:
        return Answer(400, {"error": "x-scrada-event-id and x-scrada-company-id are required"})
    with services.store.read() as db:
        seen = db.execute(
            "SELECT delivery_id FROM scrada_webhook_events WHERE event_id = ?", [event_id]
        ).fetchone()
    if seen is not None:
        return Answer(200, {"status": "already processed"})
    kind = TOPICS.get(topic)
    is_xml = body.lstrip().startswith(b"<")
    if kind is None or (kind != "cash-book" and not is_xml):
        _remember(services, event_id, topic, company_id, None)
        return Answer(200, {"status": "ignored", "topic": topic})
    return _deliver(services, event_id, topic, company_id, kind, body)


def _deliver(
    services: Services, event_id: str, topic: str, company_id: str, kind: str, body: bytes
) -> Answer:
    config = scrada_config.load(services.store)
    root = config.root_in(services.data_dir)
    if root is None:
        return Answer(503, {"error": "root folder not configured"})
    company = _company(services, company_id, config.new_companies)
    if config.scope == "selected" and not company.selected:
        _remember(services, event_id, topic, company_id, None)
        return Answer(200, {"status": "company not selected"})
    incoming = from_webhook(company, kind, _book(services, company_id, kind), body)
    run_id = history.start_run(services.store, JOB_NAME, "webhook")
    try:
        outcome = deliver(services.store, root, config.template, incoming, run_id)
    except Exception as exc:
        history.finish_run(
            services.store, run_id, "failed", N_("The process failed: {error}"), {"error": str(exc)}
        )
        raise
    status = "warning" if outcome.state == "quarantined" else "success"
    history.finish_run(services.store, run_id, status)
    _remember(services, event_id, topic, company_id, outcome.path)
    return Answer(200, {"status": outcome.state, "path": outcome.path})


def _company(services: Services, company_id: str, select_new: bool) -> records.Company:
    with services.store.write() as db:
        new = records.upsert_company(db, company_id, source="webhook", selected=select_new)
    if new:
        log.info("scrada webhook: new company %s (selected: %s)", company_id, select_new)
    return next(item for item in records.companies(services.store) if item.id == company_id)


def _book(services: Services, company_id: str, kind: str) -> tuple[str, str]:
    """The company's only book of that kind if it has one; else a book for the webhooks."""
    known = [book for book in records.books(services.store, company_id) if book.kind == kind]
    if len(known) == 1:
        return known[0].id, known[0].name
    name = BOOK_NAMES[kind]
    with services.store.write() as db:
        records.upsert_book(db, company_id, kind, records.WEBHOOK_BOOK, name, True, True)
    return records.WEBHOOK_BOOK, name


def _remember(
    services: Services, event_id: str, topic: str, company_id: str, path: str | None
) -> None:
    with services.store.write() as db:
        db.execute(
            "INSERT OR IGNORE INTO scrada_webhook_events (event_id, topic, company_id,"
            " delivery_id, received_at) VALUES (?, ?, ?, ?, ?)",
            [event_id, topic, company_id, path, records.now_iso()],
        )
