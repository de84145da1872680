"""`relais backup|jobs|history|settings`: the platform's own data from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from webapp import history, history_queries, i18n, settings
from webapp.cli.common import EXIT_ITEMS_FAILED, CliState, emit, fail, json_option
from webapp.i18n import _


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def backup(state: CliState, file: Path, as_json: bool) -> None:
    """Write a consistent copy of the database to FILE (SQLite online backup)."""
    services = state.services()
    try:
        target = services.store.backup(file)
    except OSError as exc:
        fail(_("Cannot write the backup: {detail}", detail=str(exc)), as_json=as_json)
    emit(
        as_json,
        {"ok": True, "file": str(target), "bytes": target.stat().st_size},
        _("Backup written: {file}", file=str(target)),
    )


# -- processes -------------------------------------------------------------------------------


@click.group()
def jobs() -> None:
    """Scheduled processes."""


@jobs.command("list")
@json_option
@click.pass_obj
def jobs_list(state: CliState, as_json: bool) -> None:
    """List the processes with their trigger and last run."""
    services = state.services()
    rows = [
        {
            "name": row["name"],
            "title": _job_title(row),
            "trigger": f"{row['trigger_kind']} {row['trigger_value']}",
            "enabled": bool(row["enabled"]),
            "running": bool(row["running_since"]),
            "last_run": _run_summary(row["last_run"]) if row["last_run"] else None,
        }
        for row in services.runner.definitions()
    ]
    lines = [
        f"{r['name']:<20} {r['trigger']:<22} {'on ' if r['enabled'] else 'off'} "
        f"{(r['last_run'] or {}).get('status', '-')}"
        for r in rows
    ]
    emit(as_json, rows, "\n".join(lines))


def _job_title(row: dict[str, Any]) -> str:
    spec = row["spec"]
    return i18n.gettext(spec.title)


def _run_summary(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": run["id"],
        "job": run["job_name"],
        "status": run["status"],
        "started_at": run["started_at"],
        "finished_at": run["finished_at"],
        "message": i18n.translate_stored(run["message"], run["params"]),
        "counts": {key[6:]: run[key] for key in run if key.startswith("count_")},
    }


@jobs.command("run")
@click.argument("name")
@json_option
@click.pass_obj
def jobs_run(state: CliState, name: str, as_json: bool) -> None:
    """Run the process NAME now and wait for it (exit 1 if it failed or had errors)."""
    from webapp.jobs import JobError

    services = state.services()
    try:
        run_id = services.runner.run(name, origin="command")
    except JobError as exc:
        fail(exc.translated(), as_json=as_json)
    run = _run_summary(history_queries.get_run(services.store, run_id) or {})
    emit(as_json, run, f"{run['status']}: {run['message']}")
    if run["status"] in ("failed", "warning"):
        sys.exit(EXIT_ITEMS_FAILED)


# -- history ---------------------------------------------------------------------------------


@click.group("history")
def history_group() -> None:
    """Runs and their items."""


@history_group.command("list")
@click.option("--job", help="Only this process.")
@click.option(
    "--status", type=click.Choice([*history.ITEM_STATUSES, "unresolved"]), help="Only this status."
)
@click.option("--kind", help="Only this kind of item.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@json_option
@click.pass_obj
def history_list(
    state: CliState,
    job: str | None,
    status: str | None,
    kind: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List history items, newest first."""
    services = state.services()
    result = history_queries.query_items(
        services.store, history_queries.ItemFilter(job_name=job, status=status, kind=kind), 1, limit
    )
    rows = [
        {
            "id": item["id"],
            "run_id": item["run_id"],
            "job": item["job_name"],
            "created_at": item["created_at"],
            "kind": item["kind"],
            "status": item["status"],
            "reference": item["reference"],
            "message": i18n.translate_stored(item["message"], item["params"]),
            "resolved_at": item["resolved_at"],
            "resolution": item["resolution"],
        }
        for item in result.items
    ]
    emit(
        as_json,
        rows,
        "\n".join(
            f"{r['id']:>7} {r['created_at'][:19]} {r['job']:<16} {r['status']:<9} {r['message']}"
            for r in rows
        ),
    )


@history_group.command("runs")
@click.option("--job", help="Only this process or task kind (e.g. backoffice_import).")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@json_option
@click.pass_obj
def history_runs(state: CliState, job: str | None, limit: int, as_json: bool) -> None:
    """List runs, of processes and of tasks started from a page, newest first."""
    services = state.services()
    runs = history_queries.recent_runs(services.store, job_name=job, limit=limit)
    rows = [_run_row(run) for run in runs]
    emit(as_json, rows, "\n".join(_run_line(row) for row in rows))


@history_group.command("show")
@click.argument("run_id", type=int)
@json_option
@click.pass_obj
def history_show(state: CliState, run_id: int, as_json: bool) -> None:
    """One run (a process's or a page's task): its state, progress, message and items."""
    services = state.services()
    run = history_queries.get_run(services.store, run_id)
    if run is None:
        fail(_("There is no run {run_id}.", run_id=run_id), as_json=as_json)
    row = _run_row(run)
    items = history_queries.run_items(services.store, run_id, limit=50)
    row["items"] = [
        {
            "status": item["status"],
            "reference": item["reference"],
            "message": i18n.translate_stored(item["message"], item["params"]),
        }
        for item in items
    ]
    lines = [_run_line(row)] + [
        f"  {item['status']:<9} {item['reference'] or ''} {item['message'] or ''}"
        for item in row["items"]
    ]
    emit(as_json, row, "\n".join(lines))


def _run_row(run: dict[str, Any]) -> dict[str, Any]:
    return {
        **_run_summary(run),
        "origin": run["origin"],
        "subject": run.get("subject"),
        "progress": {"done": run["progress_done"], "total": run["progress_total"]},
    }


def _run_line(row: dict[str, Any]) -> str:
    total = row["progress"]["total"]
    return (
        f"{row['id']:>7} {row['started_at'][:19]} {row['job']:<20} {row['status']:<11}"
        f" {row['progress']['done']}/{total if total is not None else '?'} {row['message'] or ''}"
    )


@history_group.command("resolve")
@click.argument("item_id", type=int)
@click.option("--justification", required=True, help="Why this error needs no more action.")
@click.option("--by", "who", default=None, help="Who resolves it (default: the system user).")
@json_option
@click.pass_obj
def history_resolve(
    state: CliState, item_id: int, justification: str, who: str | None, as_json: bool
) -> None:
    """Mark the error ITEM_ID as resolved, with a written justification."""
    import getpass

    services = state.services()
    try:
        item = history.resolve_item(
            services.store, item_id, justification, who or getpass.getuser()
        )
    except history.HistoryError as exc:
        fail(exc.translated(), as_json=as_json)
    emit(
        as_json, {"ok": True, "id": item["id"], "resolved_at": item["resolved_at"]}, _("Resolved.")
    )


# -- settings --------------------------------------------------------------------------------


@click.group("settings")
def settings_group() -> None:
    """Application settings."""


@settings_group.command("list")
@json_option
@click.pass_obj
def settings_list(state: CliState, as_json: bool) -> None:
    """Show every setting and its value."""
    values = settings.get_all(state.services().store)
    emit(as_json, values, "\n".join(f"{key} = {value}" for key, value in values.items()))


@settings_group.command("set")
@click.argument("key", type=click.Choice(sorted(settings.SETTINGS)))
@click.argument("value")
@json_option
@click.pass_obj
def settings_set(state: CliState, key: str, value: str, as_json: bool) -> None:
    """Change a setting."""
    services = state.services()
    try:
        stored = settings.put(services.store, key, value)
    except settings.SettingError as exc:
        fail(exc.translated(), as_json=as_json)
    emit(as_json, {"ok": True, key: stored}, f"{key} = {stored}")
