"""The command line: `relais [--data-dir DIR] COMMAND`. Admins script it, tests drive it.

Exit codes: 0 success, 1 some items failed, 2 bad usage or input, 3 rejected credentials.
Every command takes --json for machine-readable output.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from webapp import buildinfo, history, i18n, logs, settings
from webapp.config import DEFAULT_HOST, DEFAULT_PORT, DataDir, is_frozen, resolve_data_dir
from webapp.i18n import _
from webapp.sockets import PortUnavailable

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


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    invoke_without_command=True,
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=str),
    envvar="RELAIS_DATA_DIR",
    help="Data folder (default: the user data folder, or data/ beside the program in portable mode).",
)
@click.version_option(buildinfo.current().version, prog_name="relais")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None) -> None:
    """Relais: moves a shop's business data where it must go, on a schedule."""
    ctx.obj = CliState(data_dir)
    if ctx.invoked_subcommand is None:
        if not is_frozen():
            click.echo(ctx.get_help())
            return
        # A double-click on the built program: the tray, and the browser opened on the interface.
        ctx.invoke(tray)


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
@click.option(
    "--webhook-cert",
    type=click.Path(dir_okay=False, exists=True),
    help="HTTPS certificate (PEM) of the webhook listener.",
)
@click.option(
    "--webhook-key", type=click.Path(dir_okay=False, exists=True), help="Its private key (PEM)."
)
@click.option(
    "--pos-listen",
    metavar="HOST:PORT",
    help="Also serve the cash registers' API (/api/pos/v1) on this address.",
)
@click.option(
    "--pos-cert",
    type=click.Path(dir_okay=False, exists=True),
    help="HTTPS certificate (PEM) of the cash registers' API.",
)
@click.option(
    "--pos-key", type=click.Path(dir_okay=False, exists=True), help="Its private key (PEM)."
)
@click.option(
    "--role",
    type=click.Choice(["office", "register"]),
    default=None,
    help="Run as the office or as a cash register (default: register once `pos join` was run).",
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
    webhook_cert: str | None,
    webhook_key: str | None,
    pos_listen: str | None,
    pos_cert: str | None,
    pos_key: str | None,
    role: str | None,
) -> None:
    """Start the web interface and the scheduled processes."""
    webhook_tls = _webhook_tls(webhook_listen, webhook_cert, webhook_key)
    _run_server(
        state,
        host=host,
        port=port,
        no_browser=no_browser,
        demo=demo,
        allow_hosts=allow_hosts,
        webhook_listen=webhook_listen,
        with_tray=False,
        pos=_pos_options(pos_listen, pos_cert, pos_key),
        webhook_tls=webhook_tls,
        role=role,
    )


def _run_server(
    state: CliState,
    *,
    host: str,
    port: int | None,
    no_browser: bool,
    demo: bool,
    allow_hosts: tuple[str, ...] = (),
    webhook_listen: str | None = None,
    webhook_tls: dict[str, Any] | None = None,
    with_tray: bool,
    pos: dict[str, Any] | None = None,
    role: str | None = None,
) -> None:
    """`serve` and `tray`: one server per data folder, the processes, and the icon if asked."""
    from webapp import server
    from webapp.services import open_services

    hook_address = _host_port(webhook_listen) if webhook_listen else None
    logs.configure(state.data_dir, console=True)
    if state.data_dir.portable:
        click.echo(
            _("Relais runs in portable mode: its data is in {path}.", path=str(state.data_dir.path))
        )
    _install_staged_update(state)
    tray_missing = None
    if with_tray:
        from webapp import tray

        tray_missing = tray.desktop_missing()
        if tray_missing:
            click.echo(
                _(
                    "No desktop here: Relais runs without a tray icon ({reason}).",
                    reason=tray_missing,
                ),
                err=True,
            )
    try:
        with server.serve_lock(state.data_dir):
            services = open_services(state.data_dir)
            _unlock_from_environment(services)
            _start_role(services, role)
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
                **(webhook_tls or {}),
                **(pos or {}),
            )
            try:
                prepared = server.prepare(services, options, announce=_announce)
                if with_tray and not tray_missing:
                    from webapp import tray

                    tray.run(services, prepared)
                else:
                    prepared.run()
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
    except PortUnavailable as exc:
        fail(_("The port is already in use: {detail}", detail=str(exc)))
    except KeyboardInterrupt:
        # Ctrl+C (or Ctrl+Break on Windows) before uvicorn took over the signals: a clean stop.
        logging.getLogger(__name__).info("interrupted while starting")
        sys.exit(0)


@main.command()
@click.option(
    "--port", type=int, default=None, help=f"Port (default {DEFAULT_PORT}, or the next free one)."
)
@click.option("--no-browser", is_flag=True, help="Do not open the browser.")
@click.option("--demo", is_flag=True, help="Seed demonstration data on first start.")
@click.pass_obj
def tray(state: CliState, port: int | None, no_browser: bool, demo: bool) -> None:
    """Like serve, with a system-tray icon (Open, Sync now, Pause, Quit) where a desktop exists."""
    _run_server(
        state, host=DEFAULT_HOST, port=port, no_browser=no_browser, demo=demo, with_tray=True
    )


def _start_role(services: Any, role: str | None) -> None:
    """The register role (chosen, or remembered by `pos join`) runs the synchroniser beside the
    server; it is stopped by ``services.close()`` on shutdown, before the store closes."""
    from webapp.pos import register

    if (role or register.role(services.store)) != "register":
        return
    if register.load_config(services.store) is None:
        services.close()
        fail(_("This data folder has not joined an office: run `relais pos join` first."))
    services.stoppers.append(register.start_synchroniser(services))


def _install_staged_update(state: CliState) -> None:
    """A downloaded update is installed when the built program starts (PLT-10)."""
    from webapp import updates

    try:
        updates.install_staged_at_start()
    except Exception:  # an update must never stop the current version from starting
        logging.getLogger(__name__).exception("installing the staged update failed")


def _host_port(value: str, message: str | None = None) -> tuple[str, int]:
    host, _sep, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        fail(message or _("Give the webhook address as HOST:PORT, for example 127.0.0.1:8766."))
    return host.strip("[]"), int(port)


def _pos_options(listen: str | None, cert: str | None, key: str | None) -> dict[str, Any]:
    """The POS listener's ServeOptions; a bad address or certificate stops here."""
    if not listen:
        if cert or key:
            fail(_("--pos-cert and --pos-key need --pos-listen."))
        return {}
    address = _host_port(
        listen, _("Give the POS listener address as HOST:PORT, for example 0.0.0.0:8770.")
    )
    if key and not cert:
        fail(_("--pos-key needs --pos-cert."))
    if cert:
        import ssl

        from webapp.asgi import check_certificate

        try:
            check_certificate(cert, key)
        except (OSError, ssl.SSLError) as exc:
            fail(_("The POS listener's certificate cannot be used: {detail}", detail=str(exc)))
    return {"pos_listen": address, "pos_cert": cert, "pos_key": key}


def _webhook_tls(listen: str | None, cert: str | None, key: str | None) -> dict[str, Any]:
    """HTTPS on the webhook listener (ServeOptions fields); a bad certificate stops here."""
    if (cert or key) and not listen:
        fail(_("--webhook-cert and --webhook-key need --webhook-listen."))
    if key and not cert:
        fail(_("--webhook-key needs --webhook-cert."))
    if not cert:
        return {}
    import ssl

    from webapp.asgi import check_certificate

    try:
        check_certificate(cert, key)
    except (OSError, ssl.SSLError) as exc:
        fail(_("The webhook listener's certificate cannot be used: {detail}", detail=str(exc)))
    return {"webhook_cert": cert, "webhook_key": key}


def _announce(url: str) -> None:
    click.echo(_("Relais listens on {url}", url=url), err=False)
    if sys.stdout is not None:  # a windowed build has none
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


# -- updates ---------------------------------------------------------------------------------


@main.group()
def update() -> None:
    """Updates from the signed update feed (setting update_feed_url)."""


def _update_fail(exc: Any, as_json: bool) -> NoReturn:
    """Exit 2 when updates are not set up here; 1 when one was refused or failed."""
    from webapp.updates import UpdateNotConfigured

    code = EXIT_BAD_INPUT if isinstance(exc, UpdateNotConfigured) else EXIT_ITEMS_FAILED
    fail(exc.translated(), code, as_json=as_json)


@update.command("check")
@json_option
@click.pass_obj
def update_check(state: CliState, as_json: bool) -> None:
    """Look for a newer version on the feed and verify its signature (exit 1 if refused)."""
    from webapp import updates

    services = state.services()
    current = buildinfo.current().version
    try:
        offer = updates.check(str(settings.get(services.store, "update_feed_url")))
    except updates.UpdateError as exc:
        _update_fail(exc, as_json)
    if offer is None:
        emit(
            as_json,
            {"ok": True, "current": current, "available": None},
            _("Relais {version} is up to date.", version=current),
        )
        return
    emit(
        as_json,
        {"ok": True, "current": current, "available": offer.version, "notes": offer.notes},
        _(
            "Version {version} is available (installed: {current}).",
            version=offer.version,
            current=current,
        ),
    )


@update.command("apply")
@json_option
@click.pass_obj
def update_apply(state: CliState, as_json: bool) -> None:
    """Download, verify and install a newer version now (at the next start if Relais is running)."""
    from webapp import server, updates

    services = state.services()
    current = buildinfo.current().version
    try:
        updates.require_installable()
        _outcome, offer = updates.auto_check(services.store, force=True)
        if offer is None:
            emit(
                as_json,
                {"ok": True, "current": current, "installed": None},
                _("Relais {version} is up to date.", version=current),
            )
            return
        # Once the new files are in place this process can import nothing more: words first.
        _("Version {version} is installed (the previous one is kept).", version=offer.version)
        try:
            with server.serve_lock(state.data_dir):
                services.close()
                installed = updates.install_staged()
        except server.AlreadyRunning:
            emit(
                as_json,
                {"ok": True, "current": current, "staged": offer.version},
                _(
                    "Version {version} is ready: it will be installed at the next start.",
                    version=offer.version,
                ),
            )
            return
    except updates.UpdateError as exc:
        _update_fail(exc, as_json)
    version = installed.version if installed else offer.version
    _emit_and_exit(
        as_json,
        {"ok": True, "previous": current, "installed": version},
        _("Version {version} is installed (the previous one is kept).", version=version),
    )


def _emit_and_exit(as_json: bool, data: Any, text: str) -> NoReturn:
    """After the program's files were swapped: print and leave without importing anything."""
    emit(as_json, data, text)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # a windowed build has none
            stream.flush()
    os._exit(EXIT_OK)


@update.command("rollback")
@json_option
@click.pass_obj
def update_rollback(state: CliState, as_json: bool) -> None:
    """Put back the version that the last update replaced."""
    from webapp import server, updates

    _("Version {version} is back.", version="")  # translations loaded before the swap
    try:
        with server.serve_lock(state.data_dir):
            version = updates.rollback()
    except server.AlreadyRunning:
        fail(_("Stop Relais first: it is running for this data folder."), as_json=as_json)
    except updates.UpdateError as exc:
        _update_fail(exc, as_json)
    _emit_and_exit(
        as_json,
        {"ok": True, "installed": version},
        _("Version {version} is back.", version=version),
    )


@update.command("status")
@json_option
@click.pass_obj
def update_status(state: CliState, as_json: bool) -> None:
    """The running version and what happened to updates here."""
    from webapp import updates

    build = buildinfo.current()
    record = updates.state()
    data = {
        "version": build.version,
        "build_date": build.build_date,
        "kind": build.kind,
        "platform": buildinfo.platform_id(),
        "staged": updates.staged().get("version"),
        **record,
    }
    message = record.get("last_error")
    if message:
        data["last_error"] = i18n.gettext(message, **(record.get("last_error_params") or {}))
    emit(as_json, data, "\n".join(f"{key}: {value}" for key, value in data.items() if value))


@update.command("_install", hidden=True)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--wait-pid", type=int, default=None)
@click.option("--relaunch", default=None, help="JSON list of arguments to start the program with.")
def update_install_helper(root: Path, wait_pid: int | None, relaunch: str | None) -> None:
    """Run from a copy of the program: swap in the staged update (see updates._run_helper)."""
    from webapp import updates

    arguments = json.loads(relaunch) if relaunch else None
    answer = updates.helper_main("install", root, wait_pid=wait_pid, relaunch=arguments)
    click.echo(json.dumps(answer, ensure_ascii=False))


@update.command("_rollback", hidden=True)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), required=True)
def update_rollback_helper(root: Path) -> None:
    """Run from a copy of the program: put the previous version back."""
    from webapp import updates

    click.echo(json.dumps(updates.helper_main("rollback", root), ensure_ascii=False))


@update.command("selftest", hidden=True)
@json_option
def update_selftest(as_json: bool) -> None:
    """Start the whole application over a scratch data folder and answer with the version."""
    from litestar.testing import TestClient

    from webapp import updates
    from webapp.app import create_app
    from webapp.services import open_services

    with updates.scratch_dir() as folder:
        services = open_services(resolve_data_dir(folder), vault_backend="file")
        try:
            app = create_app(services, host=DEFAULT_HOST, port=DEFAULT_PORT)
            with TestClient(app, base_url=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}") as client:
                page = client.get("/", headers={"accept": "text/html"})
                if page.status_code != 200:
                    fail(f"GET / answered {page.status_code}", EXIT_ITEMS_FAILED, as_json=as_json)
        finally:
            services.close()
    build = buildinfo.current()
    emit(as_json, {"ok": True, "version": build.version, "kind": build.kind}, build.version)


def _add_job_commands() -> None:
    """The job packages' command groups import this module's helpers, so they are added last."""
    from webapp.backoffice.commands import backoffice
    from webapp.econnector.commands import connector
    from webapp.pos.commands import pos
    from webapp.scrada.commands import scrada

    main.add_command(backoffice)
    main.add_command(connector)
    main.add_command(pos)
    main.add_command(scrada)


_add_job_commands()

if __name__ == "__main__":
    main()
