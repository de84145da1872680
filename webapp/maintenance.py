"""The platform's own processes: history purge (PLT-6 retention) and database backup."""

from __future__ import annotations

from collections.abc import Callable

from webapp import clock, settings
from webapp.i18n import N_
from webapp.jobs import JobSpec, RunContext, Summary
from webapp.store import Store

BACKUP_PREFIX = "relais-"


def purge_history(context: RunContext) -> Summary:
    months = int(settings.get(context.store, "history_retention_months"))
    cutoff = clock.months_ago_iso(months)
    label = N_("Deleting history entries")
    context.progress(0, None, label)
    items, runs = purge_history_before(
        context.store,
        cutoff,
        progress=lambda done, total: context.progress(done, total, label),
        check_stop=context.check_stop,
    )
    context.item(
        "history",
        "done",
        message=N_("{items} entries older than {months} months deleted"),
        items=items,
        months=months,
    )
    return Summary(
        N_("{items} entries and {runs} runs older than {months} months deleted."),
        {"items": items, "runs": runs, "months": months},
    )


def purge_history_before(
    store: Store,
    cutoff: str,
    *,
    batch: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    check_stop: Callable[[], None] | None = None,
) -> tuple[int, int]:
    """Delete items and finished runs older than ``cutoff`` in batches; returns (items, runs)."""
    with store.read() as db:
        total = int(
            db.execute("SELECT count(*) FROM run_items WHERE created_at < ?", [cutoff]).fetchone()[
                0
            ]
        )
    items_deleted = 0
    while True:
        # Small transactions keep the writer lock short: the UI stays responsive during a big purge.
        with store.write() as db:
            cursor = db.execute(
                "DELETE FROM run_items WHERE id IN"
                " (SELECT id FROM run_items WHERE created_at < ? LIMIT ?)",
                [cutoff, batch],
            )
            deleted = cursor.rowcount
        items_deleted += deleted
        if progress:
            progress(items_deleted, total)
        if deleted < batch:
            break
        if check_stop:
            check_stop()
    with store.write() as db:
        runs_deleted = db.execute(
            "DELETE FROM runs WHERE started_at < ? AND status != 'running'"
            " AND NOT EXISTS (SELECT 1 FROM run_items WHERE run_id = runs.id)",
            [cutoff],
        ).rowcount
    return items_deleted, runs_deleted


def backup_database(context: RunContext) -> Summary:
    folder = context.data_dir.backups
    stamp = clock.file_stamp()
    target = folder / f"{BACKUP_PREFIX}{stamp}.sqlite"
    label = N_("Copying the database")
    context.store.backup(target, progress=lambda done, total: context.progress(done, total, label))
    context.item(
        "backup",
        "done",
        reference=target.name,
        message=N_("Backup written: {file}"),
        file=str(target),
    )
    kept = int(settings.get(context.store, "backups_kept"))
    backups = sorted(folder.glob(f"{BACKUP_PREFIX}*.sqlite"))
    removed = backups[:-kept] if len(backups) > kept else []
    for old in removed:
        old.unlink(missing_ok=True)
        context.item("backup", "done", reference=old.name, message=N_("Old backup removed"))
    return Summary(
        N_("Backup {file} written; {removed} old backups removed."),
        {"file": target.name, "removed": len(removed)},
    )


HISTORY_PURGE = JobSpec(
    name="history_purge",
    title=N_("History purge"),
    description=N_("Deletes history entries older than the retention period."),
    func=purge_history,
    default_trigger=("cron", "30 3 * * *"),
)
DATABASE_BACKUP = JobSpec(
    name="database_backup",
    title=N_("Database backup"),
    description=N_("Writes a consistent copy of the database in the data folder."),
    func=backup_database,
    default_trigger=("cron", "0 2 * * *"),
)
