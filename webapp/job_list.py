"""Every scheduled process and every task Relais has, in two explicit lists.

Each area defines its :class:`~webapp.jobs.JobSpec` or :class:`~webapp.tasks.TaskSpec` beside the
function it runs; nothing registers itself on import, so what the scheduler and the task runner
know is exactly what is written here."""

from __future__ import annotations

from webapp import maintenance, updates
from webapp.backoffice import uploads
from webapp.econnector import reception as connector_reception
from webapp.jobs import JobSpec
from webapp.pos import packages as pos_packages
from webapp.scrada import archive as scrada_archive
from webapp.scrada import pull as scrada_pull
from webapp.tasks import TaskSpec

JOBS: tuple[JobSpec, ...] = (
    scrada_pull.PULL,
    scrada_archive.ARCHIVE_PURGE,
    pos_packages.PACKAGE_EXPORT,
    maintenance.HISTORY_PURGE,
    maintenance.DATABASE_BACKUP,
    updates.UPDATE_CHECK,
)


def registry() -> dict[str, JobSpec]:
    """The processes by name, in the order the Processes page lists them."""
    return {spec.name: spec for spec in JOBS}


# Work started from a page (webapp/tasks.py): runs in the database like the jobs, never scheduled.
TASKS: tuple[TaskSpec, ...] = (
    uploads.ANALYSIS,
    uploads.INTEGRATION,
    connector_reception.ANALYSIS,
    connector_reception.INTEGRATION,
)


def task_registry() -> dict[str, TaskSpec]:
    """The tasks by name (their runs' job_name)."""
    return {spec.name: spec for spec in TASKS}
