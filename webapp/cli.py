"""The command line: `relais [--data-dir DIR] COMMAND`. Admins script it, tests drive it.

Exit codes: 0 success, 1 some items failed, 2 bad usage or input, 3 rejected credentials.
Every command takes --json for machine-readable output.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from webapp import __version__, history, i18n, logs, settings
from webapp.config import DEFAULT_HOST, DEFAULT_PORT, DataDir, resolve_data_dir
from webapp.i18n import _

EXIT_OK, EXIT_ITEMS_FAILED, EXIT_BAD_INPUT, EXIT_CREDENTIALS = 0, 1, 2, 3


@dataclass
class CliState:
    data_dir_option: str | None
    _data_dir: DataDir | None = None

    @property
    def data_dir(self) -> DataDir:
        if self._data_dir is None:
            self._data_dir = resolve_data_dir(self.data_dir_option)
        return self._data_dir

    def services(self) -> Any:
        from webapp.services import open_services

        logs.configure(self.data_dir, console=False)
        services = open_services(self.data_dir)
        i18n.set_language(services.default_language)
        return services


def fail(message: str, code: int = EXIT_BAD_INPUT, *, as_json: bool = False) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    else:
        click.echo(f"{_('Error')}: {message}", err=True)
    sys.exit(code)


def emit(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str, indent=2) if as_json else text)


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=str),
    envvar="RELAIS_DATA_DIR",
    help="Data folder (default: the user data folder, or data/ beside the program in portable mode).",
)
@click.version_option(__version__, prog_name="relais")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None) -> None:
    """Relais: moves a shop's business data where it must go, on a schedule."""
    ctx.obj = CliState(data_dir)


@main.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=int, default=None, help=f"Port (default {DEFAULT_PORT}, or the next free one)."
)
@click.option("--no-browser", is_flag=True, help="Do not open the browser.")
@click.option("--demo", is_flag=True, help="Seed demonstration data on first start.")
@click.option(
    "--allow-host", "allow_hosts", multiple=True, help="Extra Host name accepted (repeatable)."
)
@click.option(
    "--webhook-listen",
    metavar="HOST:PORT",
    help="Also receive Scrada webhooks (POST /hooks/scrada) on this address.",
)
@click.pass_obj
def serve(
    state: CliState,
    host: str,
    port: int | None,
    no_browser: bool,
    demo: bool,
    allow_hosts: tuple[str, ...],
    webhook_listen: str | None,
) -> None:
    """Start the web interface and the scheduled processes."""
    from webapp import server
    from webapp.services import open_services

    hook_address = _host_port(webhook_listen) if webhook_listen else None
    logs.configure(state.data_dir, console=True)
    try:
        with server.serve_lock(state.data_dir):
            services = open_services(state.data_dir)
            _unlock_from_environment(services)
            stop_demo = None
            if demo:
                from webapp.demo import seed_demo, start_scrada_simulator

                seed_demo(services)
                stop_demo = start_scrada_simulator(services)
            options = server.ServeOptions(
                host=host,
                port=DEFAULT_PORT if port is None else port,
                fallback=port is None,
                open_browser=not no_browser,
                extra_hosts=list(allow_hosts),
                webhook_listen=hook_address,
            )
            try:
                server.serve(services, options, announce=_announce)
            finally:
                if stop_demo:
                    stop_demo()
    except server.AlreadyRunning as exc:
        where = exc.url or "?"
        click.echo(_("Relais already runs for this data folder: {url}", url=where), err=True)
        if exc.url and not no_browser:
            import webbrowser

            webbrowser.open(exc.url)
        sys.exit(EXIT_BAD_INPUT)
    except server.PortUnavailable as exc:
        fail(_("The port is already in use: {detail}", detail=str(exc)))


def _host_port(value: str) -> tuple[str, int]:
    host, _sep, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        fail(_("Give the webhook address as HOST:PORT, for example 127.0.0.1:8766."))
    return host.strip("[]"), int(port)


def _announce(url: str) -> None:
    click.echo(_("Relais listens on {url}", url=url), err=False)
    sys.stdout.flush()


def _unlock_from_environment(services: Any) -> None:
    from webapp.secrets import VaultError

    try:
        services.vault.unlock_from_environment(interactive=False)
    except VaultError as exc:
        click.echo(f"{_('Error')}: {exc.translated()}", err=True)


@main.command()
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


@main.group()
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
    run = _run_summary(history.get_run(services.store, run_id) or {})
    emit(as_json, run, f"{run['status']}: {run['message']}")
    if run["status"] in ("failed", "warning"):
        sys.exit(EXIT_ITEMS_FAILED)


# -- history ---------------------------------------------------------------------------------


@main.group("history")
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
    result = history.query_items(
        services.store, history.ItemFilter(job_name=job, status=status, kind=kind), 1, limit
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


@main.group("settings")
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


# -- vault -----------------------------------------------------------------------------------


@main.group()
def vault() -> None:
    """Secrets vault: values are read from standard input, never from arguments."""


def _open_vault(state: CliState, as_json: bool) -> Any:
    from webapp.secrets import VaultError, WrongPassphrase

    services = state.services()
    try:
        unlocked = services.vault.unlock_from_environment(interactive=True)
    except WrongPassphrase:
        fail(_("Wrong vault passphrase."), EXIT_CREDENTIALS, as_json=as_json)
    except VaultError as exc:
        fail(exc.translated(), as_json=as_json)
    if not unlocked:
        fail(
            _(
                "The vault is locked: set RELAIS_VAULT_PASSPHRASE or run this command in a terminal."
            ),
            EXIT_CREDENTIALS,
            as_json=as_json,
        )
    return services.vault


@vault.command("status")
@json_option
@click.pass_obj
def vault_status(state: CliState, as_json: bool) -> None:
    """Which backend holds the secrets, and whether it is set up."""
    box = state.services().vault
    data = {
        "backend": box.backend_name,
        "initialized": box.is_initialized,
        "unlocked": box.is_unlocked,
    }
    emit(as_json, data, " ".join(f"{key}={value}" for key, value in data.items()))


@vault.command("set")
@click.argument("name")
@json_option
@click.pass_obj
def vault_set(state: CliState, name: str, as_json: bool) -> None:
    """Store the secret NAME; its value is read from standard input."""
    from webapp.secrets import VaultError

    box = _open_vault(state, as_json)
    if sys.stdin.isatty():
        value = click.prompt(_("Value"), hide_input=True)
    else:
        value = sys.stdin.read().rstrip("\r\n")
    if not value:
        fail(_("Empty value: nothing stored."), as_json=as_json)
    try:
        box.set(name, value)
    except VaultError as exc:
        fail(exc.translated(), as_json=as_json)
    emit(as_json, {"ok": True, "name": name}, _("Secret stored: {name}", name=name))


@vault.command("delete")
@click.argument("name")
@json_option
@click.pass_obj
def vault_delete(state: CliState, name: str, as_json: bool) -> None:
    """Delete the secret NAME."""
    existed = _open_vault(state, as_json).delete(name)
    emit(
        as_json,
        {"ok": True, "deleted": existed},
        _("Deleted.") if existed else _("No such secret."),
    )


@vault.command("list")
@json_option
@click.pass_obj
def vault_list(state: CliState, as_json: bool) -> None:
    """Names of the stored secrets (never their values)."""
    names = _open_vault(state, as_json).names()
    emit(as_json, names, "\n".join(names))


def _add_job_commands() -> None:
    """The job packages' command groups import this module's helpers, so they are added last."""
    from webapp.backoffice.commands import backoffice
    from webapp.scrada.commands import scrada

    main.add_command(backoffice)
    main.add_command(scrada)


_add_job_commands()

if __name__ == "__main__":
    main()
