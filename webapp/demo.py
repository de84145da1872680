"""--demo: a first start that shows something: the platform's processes have run once and the back
office holds a wine estate (articles, customers, registers, orders and deliveries)."""

from __future__ import annotations

import logging

from webapp import settings
from webapp.backoffice.demo import seed_backoffice_demo
from webapp.services import Services

log = logging.getLogger(__name__)


def seed_demo(services: Services) -> None:
    """Idempotent: runs once per data folder."""
    # Before the platform's marker: data folders seeded before the back office existed get it too.
    seed_backoffice_demo(services.store)
    if settings.read_value(services.store, "demo_seeded", False):
        return
    for name in ("database_backup", "history_purge"):
        services.runner.run(name, origin="command")
    settings.write_value(services.store, "demo_seeded", True)
    log.info("demo data seeded")
