"""What the register dashboard and `relais pos outbox` show: outbox, last contact, packages."""

from __future__ import annotations

from typing import Any

from webapp import clock, settings
from webapp.i18n import translate_stored
from webapp.pos.register_config import LAST_CONTACT, LAST_ERROR, load_config
from webapp.store import Store


def _age_seconds(moment: str | None) -> int | None:
    if not moment:
        return None
    then = clock.parse_iso(moment)
    return max(0, int((clock.utc_now() - then).total_seconds()))


def status(store: Store, rejected_limit: int = 50) -> dict[str, Any]:
    config = load_config(store)
    with store.read() as db:
        queued = db.execute(
            "SELECT count(*), min(created_at) FROM MICPTRACK WHERE state = 'queued'"
        ).fetchone()
        sent = db.execute("SELECT count(*) FROM MICPTRACK WHERE state = 'sent'").fetchone()[0]
        rejected = db.execute(
            "SELECT id, kind, created_at, last_error, payload FROM MICPTRACK"
            " WHERE state = 'rejected' ORDER BY seq DESC LIMIT ?",
            [rejected_limit],
        ).fetchall()
        package = db.execute(
            "SELECT number, full, applied_at, acked_at FROM pos_packages_applied"
            " ORDER BY number DESC LIMIT 1"
        ).fetchone()
    error = settings.read_value(store, LAST_ERROR)
    return {
        "joined": config is not None,
        "server_url": config.server_url if config else None,
        "register": config.number if config else None,
        "queued": int(queued[0]),
        "oldest_queued_at": queued[1],
        "oldest_queued_age_seconds": _age_seconds(queued[1]),
        "sent": int(sent),
        "rejected": [
            {
                "id": row["id"],
                "kind": row["kind"],
                "created_at": row["created_at"],
                "reason": row["last_error"],
            }
            for row in rejected
        ],
        "last_contact": settings.read_value(store, LAST_CONTACT),
        "last_error": (
            {
                "at": error.get("at"),
                "message": translate_stored(error["message"], error.get("params")),
            }
            if isinstance(error, dict) and error.get("message")
            else None
        ),
        "last_package": dict(package) if package else None,
    }
