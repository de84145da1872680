"""The register's JET (journal des événements techniques, issue 17; docs/pos-trail.md "JET").

Each technical event is a signed row of the ``event`` chain, written by :func:`record_event` in the
caller's transaction (kind: the event's code; ref: the event's id). Its fields: ``code``,
``label`` (the English msgid, translated when shown), ``at`` (when it happened), ``user`` and
``details``.

Signing needs the register's key, kept in the vault. Where an event happens without the key at hand
(a locked vault, or code that holds no vault), it is *noted* in the settings (``pos.jet_pending``,
in the caller's transaction) with its own time, and signed at the next event recorded with the key
or at the end of the next synchronisation round. An event that happened before its signing says so:
its row's ``recorded_at`` is later than its ``at``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from webapp.clock import now_iso, parse_iso
from webapp.i18n import N_
from webapp.pos import trail, trail_keys, trail_verify
from webapp.pos.protocol import ROLE_SETTING
from webapp.pos.register_config import config_from
from webapp.pos.trail import TrailRow
from webapp.pos.trail_keys import Signer
from webapp.secrets import Vault, VaultError
from webapp.store import Store, one, rows

log = logging.getLogger(__name__)

PENDING = "pos.jet_pending"  # events noted without the key, signed at the next chance

# Codes from the public NF525 R19 mapping (docs/pos-trail.md "Sources") where one fits; 900 and
# above are Relais's own.
INTERMEDIATE_ARCHIVE = 20
PERIOD_ARCHIVE = 30
STOP = 40
PERIOD_CLOSURE = 50
OFFLINE = 70
ONLINE = 120
INITIALIZATION = 260
START = 900
SELLER_LOGIN = 910
SELLER_LOGOUT = 911
UPDATE_APPLIED = 920
UPDATE_REFUSED = 921
CLOCK_BACKWARDS = 930
DATA_PURGE = 940
ERROR = 950

CODES: dict[int, str] = {
    INTERMEDIATE_ARCHIVE: N_("Intermediate archive"),
    PERIOD_ARCHIVE: N_("Period archive"),
    STOP: N_("Register stopped"),
    PERIOD_CLOSURE: N_("Period closed"),
    OFFLINE: N_("Connection to the office lost"),
    ONLINE: N_("Connection to the office back"),
    INITIALIZATION: N_("Register joined to the office"),
    START: N_("Register started"),
    SELLER_LOGIN: N_("Seller logged in"),
    SELLER_LOGOUT: N_("Seller logged out"),
    UPDATE_APPLIED: N_("Update applied"),
    UPDATE_REFUSED: N_("Update refused"),
    CLOCK_BACKWARDS: N_("Clock moved backwards"),
    DATA_PURGE: N_("Data purged"),
    ERROR: N_("Error"),
}


def label(code: int) -> str:
    """The English msgid naming a code (translate it to show it)."""
    if code not in CODES:
        raise ValueError(code)
    return CODES[code]


def event_fields(
    code: int, user: str | None, details: Mapping[str, Any] | None, at: str
) -> dict[str, Any]:
    return {
        "code": code,
        "label": label(code),
        "at": at,
        "user": user,
        "details": dict(details or {}),
    }


def record_event(
    db: Any,
    signer: Signer,
    register: int,
    code: int,
    user: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: str | None = None,
) -> TrailRow:
    """Sign and write an event of the JET in the caller's transaction; ``at`` when it happened
    (now by default)."""
    fields = event_fields(code, user, details, at or now_iso())
    event_id = uuid.uuid4().hex
    return trail.append(db, signer, register, "event", str(code), event_id, fields)


def note_event(
    db: Any, code: int, user: str | None = None, details: Mapping[str, Any] | None = None
) -> None:
    """Keep an event to sign later, in the caller's transaction (no key at hand here)."""
    queued = _pending(db)
    queued.append(event_fields(code, user, details, now_iso()))
    _write_pending(db, queued)


def _pending(db: Any) -> list[dict[str, Any]]:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [PENDING]).fetchone()
    found = json.loads(row[0]) if row and row[0] else []
    return [event for event in found if isinstance(event, dict)] if isinstance(found, list) else []


def _write_pending(db: Any, queued: list[dict[str, Any]]) -> None:
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
        " SET value = excluded.value",
        [PENDING, json.dumps(queued)],
    )


def sign_pending(db: Any, signer: Signer, register: int) -> int:
    """Sign the noted events, oldest first, in the caller's transaction; how many."""
    queued = _pending(db)
    for event in queued:
        record_event(
            db, signer, register, int(event["code"]), event["user"], event["details"], event["at"]
        )
    if queued:
        _write_pending(db, [])
    return len(queued)


def register_number(db: Any) -> int | None:
    """This folder's register number; None on an office (which records no event)."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [ROLE_SETTING]).fetchone()
    if not row or json.loads(row[0]) != "register":
        return None
    config = config_from(db)
    return config.number if config else None


def signer_or_none(vault: Vault) -> Signer | None:
    """The register's key, made on first use; None while the vault is locked."""
    try:
        return trail_keys.ensure_signer(vault)
    except (trail_keys.TrailKeyError, VaultError) as exc:
        log.info("JET: no key to sign with (%s)", exc)
        return None


def _keep_public_key(db: Any, signer: Signer) -> None:
    """The public half in the settings, as the sales keep it (checking needs no vault)."""
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        [trail_keys.PUBLIC_KEY_SETTING, json.dumps(signer.public_key)],
    )


def record_event_now(
    store: Store,
    vault: Vault,
    code: int,
    user: str | None = None,
    details: Mapping[str, Any] | None = None,
    *,
    also: Callable[[Any], Mapping[str, Any] | None] | None = None,
) -> bool:
    """Record an event in a transaction of its own (signing what was noted before it); without
    the key it is noted for later. False on an office, where no event is recorded.

    ``also(db)``, when given, runs first in the same transaction: the details it returns are added
    (so a check and the event it finds are one write)."""
    signer = signer_or_none(vault)
    with store.write() as db:
        register = register_number(db)
        if register is None:
            return False
        found = dict(details or {})
        if also is not None:
            found.update(also(db) or {})
        if signer is None:
            note_event(db, code, user, found)
            log.warning("JET: event %s noted, to be signed once the vault is unlocked", code)
            return True
        _keep_public_key(db, signer)
        sign_pending(db, signer, register)
        record_event(db, signer, register, code, user, found)
    return True


def sign_pending_now(store: Store, vault: Vault) -> int:
    """Sign what was noted, when the key is at hand (after each synchronisation round)."""
    with store.read() as db:
        if not _pending(db):
            return 0
    signer = signer_or_none(vault)
    if signer is None:
        return 0
    with store.write() as db:
        register = register_number(db)
        if register is None:
            return 0
        _keep_public_key(db, signer)
        return sign_pending(db, signer, register)


# --- What the checks look at ----------------------------------------------------------------------


def last_event(db: Any, codes: tuple[int, ...]) -> dict[str, Any] | None:
    """The newest of these events, signed or still noted (a noted one is newer)."""
    for event in reversed(_pending(db)):
        if int(event["code"]) in codes:
            noted: dict[str, Any] = event
            return noted
    marks = ",".join("?" * len(codes))
    row = one(
        db,
        f"SELECT fields FROM pos_trail WHERE chain = 'event' AND kind IN ({marks})"
        " ORDER BY seq DESC LIMIT 1",
        [str(code) for code in codes],
    )
    if row is None:
        return None
    values: dict[str, Any] = json.loads(row["fields"])
    return values


def clock_backwards(db: Any) -> dict[str, Any] | None:
    """When this computer's clock is earlier than the last record signed here: both times."""
    last = one(db, "SELECT recorded_at FROM pos_trail ORDER BY id DESC LIMIT 1")
    now = now_iso()
    if last is None or parse_iso(now) >= parse_iso(last["recorded_at"]):
        return None
    return {"now": now, "last_recorded_at": last["recorded_at"]}


def chain_breaks(db: Any) -> list[trail_verify.Break]:
    """Where the event chain stops holding ([] when it holds), checked with the public key the
    register keeps in its settings (no vault needed)."""
    stored = db.execute(
        "SELECT value FROM settings WHERE key = ?", [trail_keys.PUBLIC_KEY_SETTING]
    ).fetchone()
    public_key = json.loads(stored[0]) if stored and stored[0] else None
    keys = {trail_keys.key_id(public_key): public_key} if public_key else {}
    register = register_number(db) or 0
    chain = [row for row in trail_verify.register_rows(db, register) if row.chain == "event"]
    _states, found = trail_verify.check_chains(chain, keys)
    return found


def list_events(db: Any, before: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The JET, newest first, ``limit`` rows with ``seq`` below ``before`` (keyset pages)."""
    found = rows(
        db,
        "SELECT seq, kind, ref, recorded_at, fields FROM pos_trail WHERE chain = 'event'"
        " AND (? IS NULL OR seq < ?) ORDER BY seq DESC LIMIT ?",
        [before, before, limit],
    )
    events = []
    for row in found:
        values = json.loads(row.pop("fields"))
        events.append({**row, **values})
    return events


# --- Where events happen ---------------------------------------------------------------------------


def watch_process(services: Any) -> None:
    """At the server's start on a register: the start event (saying whether the last run stopped
    cleanly), a clock set back, and the stop event recorded at shutdown (by ``services.close``).
    A kill -9 records no stop: the next start sees it."""
    with services.store.read() as db:
        if register_number(db) is None:
            return
        last = last_event(db, (START, STOP))
    details = {"unclean_stop": bool(last and int(last["code"]) == START)}
    record_event_now(services.store, services.vault, START, details=details, also=_clock_event)
    # First in the list: run last, once the synchroniser has stopped (no event after the stop).
    services.stoppers.insert(0, lambda: _record_quietly(services.store, services.vault, STOP))


def _clock_event(db: Any) -> None:
    """Run first in the start's transaction: a clock set back is its own event, before it."""
    moved = clock_backwards(db)
    if moved is not None:
        note_event(db, CLOCK_BACKWARDS, details=moved)


def _record_quietly(store: Store, vault: Vault, code: int, **details: Any) -> None:
    """An event where a failure must not stop the work around it (a stop, a sync round)."""
    try:
        record_event_now(store, vault, code, details=details)
    except Exception:
        log.exception("JET: event %s could not be recorded", code)


def after_sync(store: Store, vault: Vault, error: BaseException | None, kind: str) -> None:
    """After a synchronisation round: the connection lost or back (only when it changes), an
    error that is not the connection, a clock set back, and what was noted signed. Never raises.

    ``kind`` is :func:`webapp.pos.synchroniser.failure_kind` of the error ("" on success)."""
    try:
        _after_sync(store, vault, error, kind)
    except Exception:
        log.exception("JET: the synchronisation's events could not be recorded")


def _after_sync(store: Store, vault: Vault, error: BaseException | None, kind: str) -> None:
    with store.read() as db:
        if register_number(db) is None:
            return
        link = last_event(db, (OFFLINE, ONLINE))
        moved = clock_backwards(db)
        last_error = last_event(db, (ERROR,))
    offline = link is not None and int(link["code"]) == OFFLINE
    if moved is not None:
        record_event_now(store, vault, CLOCK_BACKWARDS, details=moved)
    if error is None and offline:
        record_event_now(store, vault, ONLINE)
    elif error is not None and kind in ("unreachable", "certificate") and not offline:
        record_event_now(store, vault, OFFLINE, details={"reason": kind})
    elif error is not None and kind in ("refused", "answer", "other"):
        details = {"reason": kind, "message": _message(error)}
        if last_error is None or last_error["details"] != details:  # once per new problem
            record_event_now(store, vault, ERROR, details=details)
    sign_pending_now(store, vault)


def _message(error: BaseException) -> str:
    message = getattr(error, "message", None)
    return str(message) if message else type(error).__name__


def note_update(db: Any, number: int, state: str, reason: str | None) -> None:
    """An update package applied or refused, noted in the transaction that records it (the
    update code holds no key: the round that fetched it signs it as it ends)."""
    if register_number(db) is None:
        return
    code = UPDATE_APPLIED if state == "applied" else UPDATE_REFUSED
    details: dict[str, Any] = {"number": number}
    if reason:
        details["reason"] = reason
    note_event(db, code, details=details)


def note_purge(store: Store, what: str, deleted: int) -> None:
    """A purge that deleted something on a register, noted to be signed at the next chance."""
    if not deleted:
        return
    with store.write() as db:
        if register_number(db) is not None:
            note_event(db, DATA_PURGE, details={"what": what, "deleted": deleted})


def record_seller(db: Any, signer: Signer, register: int, user: str | None) -> None:
    """The seller named on the sales screen, in the ticket's transaction: when it changes, the
    previous one logs out (911) and the new one logs in (910)."""
    last = last_event(db, (SELLER_LOGIN, SELLER_LOGOUT))
    previous = last["user"] if last and int(last["code"]) == SELLER_LOGIN else None
    if previous == (user or None):
        return
    if previous:
        record_event(db, signer, register, SELLER_LOGOUT, previous)
    if user:
        record_event(db, signer, register, SELLER_LOGIN, user)
