"""`relais update ...`: updates of the program from the signed update feed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from webapp import buildinfo, i18n, settings
from webapp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_ITEMS_FAILED,
    EXIT_OK,
    CliState,
    emit,
    fail,
    json_option,
)
from webapp.config import DEFAULT_HOST, DEFAULT_PORT, resolve_data_dir
from webapp.i18n import _


@click.group()
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
    """Run from a copy of the program: swap in the staged update (see webapp/updates/install.py)."""
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
