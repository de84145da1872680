"""--demo: a first start that shows something: the platform's processes have run once."""

from __future__ import annotations

import logging

from webapp import settings
from webapp.services import Services
from webapp.store import Store

log = logging.getLogger(__name__)


def _already_seeded(store: Store) -> bool:
    with store.read() as db:
        return db.execute("SELECT 1 FROM settings WHERE key = 'demo_seeded'").fetchone() is not None


def seed_demo(services: Services) -> None:
    """Idempotent: runs once per data folder."""
    if _already_seeded(services.store):
        return
    for name in ("database_backup", "history_purge"):
        services.runner.run(name, origin="command")
    settings._write(services.store, "demo_seeded", True)
    log.info("demo data seeded")
