"""A register's synchronisation with its office: one round, and the thread that repeats it.

:func:`sync_once` imports the packages, pushes the outbox and fetches the update packages, in that
order, one round at a time in this process. :class:`Synchroniser` runs it in a background thread,
with an exponential backoff (with jitter, capped at 5 minutes) while the office does not answer.
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any

from webapp import history, settings
from webapp.clock import now_iso
from webapp.i18n import N_
from webapp.pos import journal, updates_register
from webapp.pos.outbox import PushResult, push_outbox
from webapp.pos.package_import import IMPORT_JOB, ImportResult, import_packages
from webapp.pos.register_client import OfficeError, OfficeRefused, OfficeUnreachable
from webapp.pos.register_config import (
    LAST_CONTACT,
    LAST_ERROR,
    SYNC_INTERVAL,
    ClientFactory,
    RegisterError,
    default_client,
    open_client,
    require_config,
    write_settings,
)
from webapp.secrets import Vault, VaultError
from webapp.store import Store

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0
BACKOFF_CAP = 300.0

_SYNC_LOCK = threading.Lock()  # one import/push round at a time in this process


@dataclass
class SyncResult:
    imported: ImportResult
    pushed: PushResult
    updates: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "packages_applied": self.imported.applied,
            "packages_acknowledged": self.imported.acknowledged,
            "records_sent": self.pushed.sent,
            "records_rejected": self.pushed.rejected,
            "updates": self.updates,
        }


def sync_once(
    store: Store,
    vault: Vault,
    factory: ClientFactory = default_client,
    *,
    with_updates: bool = True,
) -> SyncResult:
    """One import, one push (and the update packages): raises OfficeRefused/Unreachable."""
    config = require_config(store)
    with _SYNC_LOCK:
        try:
            with open_client(store, vault, factory) as client:
                imported = import_packages(store, client, config.number)
                pushed = push_outbox(store, client, config.number)
                updates: dict[str, int] = {}
                if with_updates:
                    updates = updates_register.fetch_updates(store, client, config)
        except (OfficeError, RegisterError) as exc:
            record_failure(store, exc)
            raise
    with store.write() as db:
        write_settings(db, {LAST_CONTACT: now_iso(), LAST_ERROR: None})
    result = SyncResult(imported, pushed, updates)
    record_history(store, result)
    return result


def failure_kind(exc: Exception) -> str:
    """What the till says about a failed round: ``refused`` (the token), ``certificate`` (the
    office's HTTPS certificate), ``unreachable`` (no answer), ``answer`` (an answer it cannot use)
    or ``local`` (this register: not joined, vault locked)."""
    if isinstance(exc, OfficeRefused):
        return "refused"
    if isinstance(exc, OfficeUnreachable):
        cause: BaseException | None = exc.__context__  # the transport error of the last try
        while cause is not None:
            if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY" in str(
                cause
            ):
                return "certificate"
            cause = cause.__cause__ or cause.__context__
        return "unreachable"
    return "answer" if isinstance(exc, OfficeError) else "local"


def record_failure(store: Store, exc: OfficeError | RegisterError) -> None:
    """The last problem, with the first failure of the current offline streak (``since``): a
    success clears it (:func:`sync_once`), so "offline since" is that first failure."""
    at = now_iso()
    with store.write() as db:
        row = db.execute("SELECT value FROM settings WHERE key = ?", [LAST_ERROR]).fetchone()
        previous = json.loads(row[0]) if row and row[0] else None
        since = (
            (previous.get("since") or previous.get("at")) if isinstance(previous, dict) else None
        )
        error = {
            "at": at,
            "since": since or at,
            "kind": failure_kind(exc),
            "message": exc.message,
            "params": exc.params,
        }
        write_settings(db, {LAST_ERROR: error})


def record_history(store: Store, result: SyncResult) -> int | None:
    """A history run (process ``import_caisseauto``) when a round applied packages or had records
    refused; the quiet rounds every 30 seconds leave no trace."""
    if not (result.imported.applied or result.pushed.rejected):
        return None
    run_id = history.start_run(store, IMPORT_JOB, "synchroniser")
    with store.write() as db:
        for number in result.imported.applied:
            history.insert_item(
                db,
                run_id,
                IMPORT_JOB,
                kind="package",
                status="received",
                reference=str(number),
                message=N_("Package {number} applied."),
                params={"number": number},
            )
        for row in result.pushed.rejected:
            history.insert_item(
                db,
                run_id,
                IMPORT_JOB,
                kind=row["kind"],
                status="error",
                reference=row["id"],
                message=N_("Refused by the office: {reason}"),
                params={"reason": row["reason"]},
            )
    status = "warning" if result.pushed.rejected else "success"
    message = N_("Packages applied: {applied}; records sent: {sent}; rejected: {rejected}.")
    counts = {
        "applied": len(result.imported.applied),
        "sent": result.pushed.sent,
        "rejected": len(result.pushed.rejected),
    }
    history.finish_run(store, run_id, status, message, counts)
    return run_id


def _event_kind(error: Exception | None) -> str:
    if error is None:
        return ""
    return failure_kind(error) if isinstance(error, OfficeError | RegisterError) else "other"


class Synchroniser:
    """The background thread of the register role: sync now, then every interval or backoff."""

    def __init__(
        self,
        store: Store,
        vault: Vault,
        *,
        interval: float | None = None,
        cap: float = BACKOFF_CAP,
        factory: ClientFactory = default_client,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.vault = vault
        self._fixed_interval = interval is not None
        self.interval = float(interval) if interval is not None else self._configured_interval()
        self.cap = cap
        self.factory = factory
        self.failures = 0
        self.rounds = 0
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def next_delay(self, ok: bool) -> float:
        """The interval after a success; after failures, exponential with jitter, capped."""
        if ok:
            self.failures = 0
            return self.interval
        self.failures += 1
        ceiling = min(self.cap, self.interval * 2.0 ** min(self.failures - 1, 16))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def run_round(self) -> bool:
        error: Exception | None = None
        try:
            result = sync_once(self.store, self.vault, self.factory)
        except (OfficeError, RegisterError, VaultError) as exc:
            # Expected while the office is away or refuses: one line, no traceback.
            log.warning("synchroniser: %s (%s)", exc.translated(), failure_kind(exc))
            error = exc
            return False
        except Exception as exc:
            log.exception("synchroniser round failed")
            error = exc
            return False
        finally:
            self.rounds += 1
            # The JET: connection lost or back, an error, a clock set back (never raises).
            journal.after_sync(self.store, self.vault, error, _event_kind(error))
        if result.pushed.sent or result.imported.applied or result.pushed.rejected:
            log.info("synchroniser: %s", result.as_dict())
        return True

    def _loop(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            self._wake.wait(delay)
            if self._stop.is_set():
                return
            self._wake.clear()
            ok = self.run_round()
            if ok and not self._fixed_interval:  # an update package may have changed it
                self.interval = self._configured_interval()
            delay = self.next_delay(ok)

    def _configured_interval(self) -> float:
        try:
            return float(settings.read_value(self.store, SYNC_INTERVAL, DEFAULT_INTERVAL))
        except (TypeError, ValueError):
            return DEFAULT_INTERVAL

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="pos-synchroniser", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 20.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
