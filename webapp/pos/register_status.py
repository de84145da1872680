"""What the register dashboard and `relais pos outbox` show: outbox, last contact, packages; and
where the till stands (online or not, since when, tickets waiting), read in one short read."""

from __future__ import annotations

import json
from typing import Any

from webapp import clock, settings
from webapp.i18n import N_, gettext, translate_stored
from webapp.pos.register_config import LAST_CONTACT, LAST_ERROR, config_from, load_config
from webapp.store import Store

# Why the last round failed, in the shopkeeper's words (synchroniser.failure_kind).
EXPLANATIONS = {
    "unreachable": N_("Cannot reach the office ({url}): the office does not answer."),
    "refused": N_("Cannot reach the office ({url}): the office refuses this register's token."),
    "certificate": N_("Cannot reach the office ({url}): its certificate is not valid."),
    "answer": N_("The office ({url}) sent an answer this register cannot use."),
    "local": N_("This register cannot reach the office ({url}) for now."),
}

# The signed rows and the key travel beside the records they sign: the shopkeeper counts tickets
# and changes waiting, not their signatures.
_TRAIL_KINDS = "('trail', 'trail_key')"


def _age_seconds(moment: str | None) -> int | None:
    if not moment:
        return None
    then = clock.parse_iso(moment)
    return max(0, int((clock.utc_now() - then).total_seconds()))


def problem(error: Any, url: str) -> dict[str, Any] | None:
    """The last failed round explained, with the start of the offline streak; None when the last
    round went through."""
    if not isinstance(error, dict) or not error.get("message"):
        return None
    kind = str(error.get("kind") or "")
    kind = kind if kind in EXPLANATIONS else "answer"
    return {
        "at": error.get("at"),
        "since": error.get("since") or error.get("at"),
        "kind": kind,
        "explanation": gettext(EXPLANATIONS[kind], url=url or "?"),
        "detail": translate_stored(error["message"], error.get("params")),
    }


def till(store: Store) -> dict[str, Any]:
    """What the sales screen's sign shows: online or not, since when, tickets waiting."""
    with store.read() as db:
        config = config_from(db)
        values = {
            str(row[0]): json.loads(row[1]) if row[1] else None
            for row in db.execute(
                "SELECT key, value FROM settings WHERE key IN (?, ?)", [LAST_CONTACT, LAST_ERROR]
            )
        }
        waiting = db.execute(
            "SELECT count(*) FROM MICPTRACK WHERE state = 'queued' AND kind = 'ticket'"
        ).fetchone()[0]
    trouble = problem(values.get(LAST_ERROR), config.server_url if config else "")
    return {
        "joined": config is not None,
        "register": config.number if config else None,
        "online": config is not None and trouble is None,
        "waiting": int(waiting),
        "problem": trouble,
        "last_contact": values.get(LAST_CONTACT),
    }


def status(store: Store, rejected_limit: int = 50) -> dict[str, Any]:
    config = load_config(store)
    with store.read() as db:
        queued = db.execute(
            "SELECT count(*), min(created_at) FROM MICPTRACK WHERE state = 'queued'"
            f" AND kind NOT IN {_TRAIL_KINDS}"
        ).fetchone()
        sent = db.execute(
            f"SELECT count(*) FROM MICPTRACK WHERE state = 'sent' AND kind NOT IN {_TRAIL_KINDS}"
        ).fetchone()[0]
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
        "problem": problem(error, config.server_url if config else ""),
    }
