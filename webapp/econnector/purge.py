"""The connectors' history keeps receptions for the retention period (2 months by default, the
history retention setting), as the seed's history screen says (ECN-8)."""

from __future__ import annotations

from webapp import history, settings
from webapp.i18n import N_
from webapp.jobs import JobSpec, RunContext, Summary
from webapp.store import Store

JOB_NAME = "connector_history_purge"
BATCH = 2000


def purge_receptions(store: Store, cutoff: str) -> int:
    """Delete reception events older than `cutoff` in small transactions; returns how many."""
    removed = 0
    while True:
        with store.write() as db:
            cursor = db.execute(
                "DELETE FROM connector_events WHERE id IN (SELECT id FROM connector_events"
                " WHERE direction = 'reception' AND created_at < ? LIMIT ?)",
                [cutoff, BATCH],
            )
            count = cursor.rowcount
        removed += count
        if count < BATCH:
            return removed


def purge_job(context: RunContext) -> Summary:
    months = int(settings.get(context.store, "history_retention_months"))
    removed = purge_receptions(context.store, history.cutoff_for(months))
    return Summary(
        N_("{count} connector receptions older than {months} months deleted."),
        {"count": removed, "months": months},
    )


CONNECTOR_HISTORY_PURGE = JobSpec(
    name=JOB_NAME,
    title=N_("Connector history purge"),
    description=N_("Deletes the connectors' receptions older than the history retention."),
    func=purge_job,
    default_trigger=("cron", "45 3 * * *"),
)
