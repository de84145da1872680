"""The register role (POS-1 to POS-6) as the server, the CLI and the pages use it.

The work is done in modules of one concern each, none of which imports this one:

- :mod:`webapp.pos.register_config` — the settings of a register and :func:`join`;
- :mod:`webapp.pos.mirror` — the office's reference data applied from a package;
- :mod:`webapp.pos.package_import` — fetch, check, apply and acknowledge the packages;
- :mod:`webapp.pos.outbox` — the records made here, pushed to the office;
- :mod:`webapp.pos.updates_register` — the signed update packages;
- :mod:`webapp.pos.synchroniser` — one round of all that, and the thread that repeats it.

This module names what is used from outside the package, and holds the synchroniser that
`relais serve` started in this process (for the "sync now" button).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.pos import journal, register_config
from webapp.pos.package_import import PackageRefused
from webapp.pos.register_client import OfficeError, OfficeRefused, OfficeUnreachable
from webapp.pos.register_config import (
    ClientFactory,
    RegisterConfig,
    RegisterError,
    default_client,
    load_config,
    require_config,
    role,
)
from webapp.pos.synchroniser import Synchroniser, SyncResult, sync_once

RUNNING: Synchroniser | None = None  # the server's synchroniser, for the "sync now" button


def join(
    store: Any,
    vault: Any,
    server_url: str,
    number: int,
    secret: str,
    factory: ClientFactory = default_client,
) -> dict[str, Any]:
    """Join the office (register_config.join), then note it in the JET: data initialization."""
    hello = register_config.join(store, vault, server_url, number, secret, factory)
    details = {"office": server_url.strip().rstrip("/"), "register": number}
    journal.record_event_now(store, vault, journal.INITIALIZATION, details=details)
    return hello


def start_synchroniser(services: Any, interval: float | None = None) -> Callable[[], None]:
    """Started by `relais serve` in the register role; returns the stop function for shutdown."""
    global RUNNING
    synchroniser = Synchroniser(services.store, services.vault, interval=interval)
    synchroniser.start()
    RUNNING = synchroniser

    def stop() -> None:
        global RUNNING
        synchroniser.stop()
        RUNNING = None

    return stop


__all__ = [
    "RUNNING",
    "OfficeError",
    "OfficeRefused",
    "OfficeUnreachable",
    "PackageRefused",
    "RegisterConfig",
    "RegisterError",
    "SyncResult",
    "Synchroniser",
    "join",
    "load_config",
    "require_config",
    "role",
    "start_synchroniser",
    "sync_once",
]
