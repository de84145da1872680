"""Update packages, register side (POS-6, ``import_updatecaisse``).

Each update the office lists is checked before anything else: its Ed25519 signature over
``protocol.canonical(manifest)`` with the key pinned at join time, and the SHA-256 of its content.
A package that fails either check is kept as ``refused`` (with a history item) and never applied.

The confirmation mode (setting ``pos.update_mode``) decides what happens to a good one:
``always`` — each waits (``pending``) for a confirmation; ``once`` — the first one waits, the later
ones apply silently once it was confirmed; ``never`` — applied at once (piloted mode).

What a kind may change: ``settings`` only the keys of :data:`ALLOWED_SETTINGS` (a package naming
any other key is refused whole); ``reference`` rows as a package would bring them; ``templates`` and
``program`` are refused by this version (with that reason).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from webapp import history, settings
from webapp.clock import now_iso
from webapp.i18n import N_, UserError
from webapp.pos import journal, protocol
from webapp.pos.mirror import apply_rows
from webapp.pos.register_client import OfficeClient
from webapp.pos.register_config import (
    SYNC_INTERVAL,
    UPDATE_KEY,
    RegisterConfig,
    require_config,
    write_settings,
)
from webapp.store import Store

MODE = "pos.update_mode"
ONCE_CONFIRMED = "pos.update_once_confirmed"
MODES = ("always", "once", "never")
JOB_NAME = "import_updatecaisse"


class UpdateError(UserError):
    """An update package request refused (unknown number, not pending...)."""


def _interval(value: Any) -> int:
    number = int(value)
    if not 10 <= number <= 3600:
        raise ValueError(value)
    return number


def _app_setting(key: str) -> Callable[[Any], Any]:
    return lambda value: settings.SETTINGS[key].validate(value)


# What a "settings" update may change here, with each key's validator.
ALLOWED_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "language": _app_setting("language"),
    "history_retention_months": _app_setting("history_retention_months"),
    "backups_kept": _app_setting("backups_kept"),
    SYNC_INTERVAL: _interval,
}


def mode(store: Store) -> str:
    value = settings.read_value(store, MODE, "always")
    return value if value in MODES else "always"


def set_mode(store: Store, value: str) -> None:
    if value not in MODES:
        raise UpdateError(N_("The mode must be always, once or never."))
    settings.write_value(store, MODE, value)


def last_number(store: Store) -> int:
    with store.read() as db:
        return int(db.execute("SELECT coalesce(max(number), 0) FROM pos_updates").fetchone()[0])


def pinned_key(store: Store, client: OfficeClient) -> str:
    """The key pinned at join; an office that had none yet then gives it at the first update."""
    key = settings.read_value(store, UPDATE_KEY)
    if isinstance(key, str) and key:
        return key
    offered = client.hello().get("update_key")
    if isinstance(offered, str) and offered:
        settings.write_value(store, UPDATE_KEY, offered)
        return offered
    return ""


def check(update: Mapping[str, Any], key: str) -> str | None:
    """None when the package is genuine, else the reason (an English msgid)."""
    manifest = update.get("manifest")
    signature = update.get("signature")
    if not isinstance(manifest, dict) or not isinstance(signature, str):
        return N_("The update package is incomplete.")
    if not key or not protocol.verify(key, protocol.canonical(manifest), signature):
        return N_("The signature of the update package is not valid: it was not applied.")
    if protocol.sha256(protocol.canonical(manifest.get("content"))) != manifest.get("sha256"):
        return N_("The content of the update package does not match its checksum.")
    if manifest.get("number") != update.get("number"):
        return N_("The update package's number does not match its manifest.")
    return None


def _store_received(
    store: Store, update: Mapping[str, Any], state: str, reason: str | None
) -> None:
    manifest = update.get("manifest")
    text = protocol.canonical(manifest).decode() if isinstance(manifest, dict) else "{}"
    with store.write() as db:
        db.execute(
            "INSERT OR IGNORE INTO pos_updates (number, version, kind, manifest, signature,"
            " state, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                int(update["number"]),
                str(update.get("version") or "?"),
                str(update.get("kind") or "?"),
                text,
                str(update.get("signature") or ""),
                state,
                reason,
                now_iso(),
            ],
        )
        if state == "refused":  # the JET, signed as the round ends
            journal.note_update(db, int(update["number"]), state, reason)


def fetch_updates(store: Store, client: OfficeClient, config: RegisterConfig) -> dict[str, int]:
    """Fetch the updates after the last one received; check, keep and (by mode) apply them."""
    updates = sorted(client.updates(last_number(store)), key=lambda row: int(row["number"]))
    counts = {"received": 0, "applied": 0, "pending": 0, "refused": 0}
    if not updates:
        return counts
    key = pinned_key(store, client)
    run_id = history.start_run(store, JOB_NAME, "synchroniser")
    for update in updates:
        counts["received"] += 1
        reason = check(update, key)
        if reason:
            _store_received(store, update, "refused", reason)
            _item(store, run_id, update, "error", reason)
            counts["refused"] += 1
            continue
        _store_received(store, update, "pending", None)
        if _waits(store):
            _item(store, run_id, update, "received", N_("Update package waiting for confirmation."))
            counts["pending"] += 1
            continue
        state = apply(store, int(update["number"]), config.number)
        counts[state] += 1
        _item_for_state(store, run_id, int(update["number"]))
    status = "warning" if counts["refused"] else "success"
    history.finish_run(store, run_id, status, N_("Update packages: {received} received."), counts)
    return counts


def _waits(store: Store) -> bool:
    chosen = mode(store)
    if chosen == "always":
        return True
    if chosen == "once":
        return not settings.read_value(store, ONCE_CONFIRMED, False)
    return False


def _item(store: Store, run_id: int, update: Mapping[str, Any], status: str, message: str) -> None:
    history.add_item(
        store,
        run_id,
        JOB_NAME,
        kind="update",
        status=status,
        reference=str(update.get("number")),
        message=message,
    )


def _item_for_state(store: Store, run_id: int, number: int) -> None:
    row = get(store, number)
    if row is None:
        return
    if row["state"] == "applied":
        _item(store, run_id, row, "done", N_("Update package applied."))
    else:
        _item(store, run_id, row, "error", row["reason"] or N_("Update package refused."))


def get(store: Store, number: int) -> dict[str, Any] | None:
    with store.read() as db:
        row = db.execute(
            "SELECT number, version, kind, state, reason, created_at, applied_at, manifest"
            " FROM pos_updates WHERE number = ?",
            [number],
        ).fetchone()
    return dict(row) if row else None


def received(store: Store, state: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT number, version, kind, state, reason, created_at, applied_at FROM pos_updates"
    args: list[Any] = []
    if state:
        sql += " WHERE state = ?"
        args.append(state)
    with store.read() as db:
        return [dict(row) for row in db.execute(sql + " ORDER BY number", args)]


def apply(store: Store, number: int, register: int) -> str:
    """Apply a pending update in one transaction with its state; returns the new state."""
    with store.write() as db:
        row = db.execute(
            "SELECT kind, manifest, state FROM pos_updates WHERE number = ?", [number]
        ).fetchone()
        if row is None or row["state"] != "pending":
            raise UpdateError(N_("Update package {number} is not waiting."), number=number)
        manifest = json.loads(row["manifest"])
        reason = _apply_content(db, str(row["kind"]), manifest.get("content"), register)
        db.execute(
            "UPDATE pos_updates SET state = ?, reason = ?, applied_at = ? WHERE number = ?",
            ["refused" if reason else "applied", reason, None if reason else now_iso(), number],
        )
        journal.note_update(db, number, "refused" if reason else "applied", reason)
    return "refused" if reason else "applied"


def _apply_content(db: Any, kind: str, content: Any, register: int) -> str | None:
    if not isinstance(content, dict):
        return N_("The update package is incomplete.")
    if kind == "settings":
        values = {}
        for key, value in content.items():
            validate = ALLOWED_SETTINGS.get(key)
            if validate is None:
                return N_("This update changes a setting that a register does not take.")
            try:
                values[key] = validate(value)
            except (ValueError, UserError):
                return N_("This update gives a value refused for a setting.")
        write_settings(db, values)
        return None
    if kind == "reference":
        apply_rows(db, content, register)
        return None
    if kind == "templates":
        return N_("Template updates are not applied by this version of the register.")
    return N_("This kind of update is not applied by this version of the register.")


def confirm(store: Store, number: int) -> dict[str, Any]:
    """The user confirms a pending update; in "once" mode the later ones then apply too."""
    config = require_config(store)
    state = apply(store, number, config.number)
    if mode(store) == "once" and state == "applied":
        settings.write_value(store, ONCE_CONFIRMED, True)
        for row in received(store, "pending"):
            apply(store, int(row["number"]), config.number)
    found = get(store, number) or {}
    found.pop("manifest", None)
    return found
