"""The platform's own processes: history purge (PLT-6 retention) and database backup."""

from __future__ import annotations

import time
from collections.abc import Callable

from webapp import clock, settings
from webapp.i18n import N_, N_plural
from webapp.jobs import JobSpec, RunContext, Summary
from webapp.pos import journal
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
    journal.note_purge(context.store, "history", items + runs)  # a register's JET
    context.item(
        "history",
        "done",
        message=N_plural(
            "{n} entry older than {months} months deleted",
            "{n} entries older than {months} months deleted",
        ),
        n=items,
        months=months,
    )
    return Summary(
        N_("{items} entries and {runs} runs older than {months} months deleted."),
        {"items": items, "runs": runs, "months": months},
    )


# A purge holds the write lock a chunk at a time, each well under the 250 ms a UI save may wait.
CHUNK_SECONDS = 0.1
CHUNK_MIN = 100


def purge_history_before(
    store: Store,
    cutoff: str,
    *,
    batch: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    check_stop: Callable[[], None] | None = None,
) -> tuple[int, int]:
    """Delete items, then finished runs left empty, older than ``cutoff``; returns (items, runs).

    Chunks of at most ``batch`` rows, fewer when a chunk takes longer than CHUNK_SECONDS (a slow
    disk): each commits on its own, so a purge stopped halfway leaves whole rows, fewer of them."""
    with store.read() as db:
        total = int(
            db.execute("SELECT count(*) FROM run_items WHERE created_at < ?", [cutoff]).fetchone()[
                0
            ]
        )

    def items_done(deleted: int) -> None:
        if progress:
            progress(deleted, total)
        if check_stop:
            check_stop()

    items = _delete_in_chunks(
        store,
        "DELETE FROM run_items WHERE id IN (SELECT id FROM run_items WHERE created_at < ? LIMIT ?)",
        cutoff,
        batch,
        items_done,
    )
    runs = _delete_in_chunks(
        store,
        "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE started_at < ?"
        " AND status != 'running' AND NOT EXISTS (SELECT 1 FROM run_items WHERE run_id = runs.id)"
        " LIMIT ?)",
        cutoff,
        batch,
        None if check_stop is None else lambda _deleted: check_stop(),
    )
    return items, runs


def _delete_in_chunks(
    store: Store,
    delete_sql: str,
    cutoff: str,
    ceiling: int,
    after_chunk: Callable[[int], None] | None,
) -> int:
    """Run ``delete_sql`` (cutoff, limit) in short transactions until a chunk comes back short."""
    size, deleted = ceiling, 0
    while True:
        with store.write() as db:
            began = time.perf_counter()  # the lock is held from here to the commit
            count = db.execute(delete_sql, [cutoff, size]).rowcount
        elapsed = time.perf_counter() - began
        deleted += count
        if after_chunk and count:
            after_chunk(deleted)
        if count < size:
            return deleted
        if elapsed > CHUNK_SECONDS:
            size = max(CHUNK_MIN, min(ceiling, int(size * CHUNK_SECONDS / elapsed)))
        else:
            size = min(ceiling, size * 2)


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
        N_plural(
            "Backup {file} written; {n} old backup removed.",
            "Backup {file} written; {n} old backups removed.",
        ),
        {"file": target.name, "n": len(removed)},
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
