"""Every scheduled process Relais has, in one explicit list.

Each area defines its :class:`~webapp.jobs.JobSpec` beside the function it runs; nothing registers
itself on import, so what the scheduler knows is exactly what is written here."""

from __future__ import annotations

from webapp import maintenance, updates
from webapp.econnector import purge as connector_purge
from webapp.jobs import JobSpec
from webapp.pos import changes as pos_packages
from webapp.scrada import archive as scrada_archive
from webapp.scrada import pull as scrada_pull

JOBS: tuple[JobSpec, ...] = (
    scrada_pull.PULL,
    scrada_archive.ARCHIVE_PURGE,
    pos_packages.PACKAGE_EXPORT,
    connector_purge.CONNECTOR_HISTORY_PURGE,
    maintenance.HISTORY_PURGE,
    maintenance.DATABASE_BACKUP,
    updates.UPDATE_CHECK,
)


def registry() -> dict[str, JobSpec]:
    """The processes by name, in the order the Processes page lists them."""
    return {spec.name: spec for spec in JOBS}
