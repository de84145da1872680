"""`relais pos ...`: the cash registers from the command line (office commands here; the register's
commands, in webapp/cli/pos_register.py, are added to the same group by webapp/cli/root.py)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from webapp import history, history_queries, i18n
from webapp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_ITEMS_FAILED,
    CliState,
    emit,
    fail,
    json_option,
    unlocked_services,
)
from webapp.cli.pos_archive import archive_group
from webapp.cli.pos_closures import pos_close
from webapp.cli.pos_journal import pos_journal
from webapp.cli.pos_trail import add_trail_commands
from webapp.i18n import _


@click.group()
def pos() -> None:
    """Autonomous cash registers: registers, packages, received tickets, updates."""


pos.add_command(archive_group)


@pos.group("register")
def register_group() -> None:
    """The registers of this office."""


@register_group.command("add")
@click.argument("number", type=int)
@click.option("--company", help="Company code (default: the default company).")
@click.option("--label", help="Name shown in the lists.")
@json_option
@click.pass_obj
def register_add(
    state: CliState, number: int, company: str | None, label: str | None, as_json: bool
) -> None:
    """Create or update register NUMBER and print its new token (shown only this once)."""
    from webapp.pos import office, updates_office
    from webapp.secrets import VaultError

    services = state.services()
    try:
        register, token = office.add_register(services.store, number, company, label)
    except office.RegisterError as exc:
        fail(exc.translated(), as_json=as_json)
    # The update key the register pins when it joins: made now if the vault can be opened.
    with contextlib.suppress(VaultError):  # locked: the key is made at the next open vault
        services.vault.unlock_from_environment(interactive=False)
    updates_office.ensure_public_key(services.store, services.vault)
    data = {
        "ok": True,
        "number": register.number,
        "company": register.company,
        "label": register.label,
        "token": token,
    }
    text = _(
        "Register {number} ({company}). Its token, shown only now:\n{token}",
        number=register.number,
        company=register.company,
        token=token,
    )
    emit(as_json, data, text)


@register_group.command("revoke")
@click.argument("number", type=int)
@json_option
@click.pass_obj
def register_revoke(state: CliState, number: int, as_json: bool) -> None:
    """Revoke the tokens of register NUMBER: it is refused until given a new one."""
    from webapp.pos import office

    services = state.services()
    if office.get_register(services.store, number) is None:
        fail(_("Register {number} does not exist.", number=number), as_json=as_json)
    count = office.revoke_tokens(services.store, number)
    emit(
        as_json,
        {"ok": True, "revoked": count},
        i18n.ngettext("{n} token revoked.", "{n} tokens revoked.", count),
    )


@register_group.command("list")
@json_option
@click.pass_obj
def register_list(state: CliState, as_json: bool) -> None:
    """The registers, their last contact, last package acknowledged and records received."""
    from webapp.pos import office

    rows = office.list_registers(state.services().store)
    for row in rows:
        row["active"] = bool(row["active"])
    lines = [
        f"{row['number']:>4} {row['company']:<8} {row['label']:<24}"
        f" seen={row['last_seen_at'] or '-'} acked={row['last_acked'] or '-'}"
        f" applied={row['applied']} rejected={row['rejected']}"
        for row in rows
    ]
    emit(as_json, rows, "\n".join(lines))


@pos.command("export")
@json_option
@click.pass_obj
def pos_export(state: CliState, as_json: bool) -> None:
    """Build the registers' packages now (the export_caisseauto process) and wait."""
    from webapp.jobs import JobError
    from webapp.pos.packages import JOB_NAME

    services = state.services()
    try:
        run_id = services.runner.run(JOB_NAME, origin="command")
    except JobError as exc:
        fail(exc.translated(), as_json=as_json)
    run = history_queries.get_run(services.store, run_id) or {}
    message = i18n.translate_stored(run.get("message"), run.get("params"))
    data = {
        "ok": run.get("status") == "success",
        "run_id": run_id,
        "status": run.get("status"),
        "message": message,
        "packages": (run.get("params") or {}).get("count", 0),
    }
    emit(as_json, data, f"{history.status_label(str(run.get('status')))}: {message}")
    if run.get("status") != "success":
        sys.exit(EXIT_ITEMS_FAILED)


@pos.command("received")
@click.option("--status", type=click.Choice(["applied", "rejected"]), help="Only this status.")
@click.option("--limit", type=click.IntRange(1, 10000), default=200, show_default=True)
@json_option
@click.pass_obj
def pos_received(state: CliState, status: str | None, limit: int, as_json: bool) -> None:
    """Records received from the registers (tickets, customers, settings), newest first."""
    from webapp.pos import office_records

    rows = office_records.received(state.services().store, status=status, limit=limit)
    for row in rows:
        row["reason"] = i18n.translate_stored(row["reason"], row["params"]) or None
    lines = [
        f"{row['received_at'][:19]} #{row['register']} {row['kind']:<16} {row['status']:<9}"
        f" {row['id']} {row['reason'] or ''}"
        for row in rows
    ]
    emit(as_json, rows, "\n".join(lines))


@pos.group("update")
def update_group() -> None:
    """Signed update packages for the registers."""


@update_group.command("publish")
@click.option("--kind", type=click.Choice(["settings", "reference", "templates"]), required=True)
@click.option("--version", "version", required=True, help="Version of this update, e.g. 2026.11.1.")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@json_option
@click.pass_obj
def update_publish(state: CliState, kind: str, version: str, file: Path, as_json: bool) -> None:
    """Sign and publish FILE (a JSON object) as an update package of KIND."""
    from webapp.pos import updates_office

    try:
        content: Any = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(_("Cannot read the JSON file: {detail}", detail=str(exc)), as_json=as_json)
    services = unlocked_services(state, as_json)
    try:
        number = updates_office.publish_update(
            services.store, services.vault, kind, version, content
        )
    except updates_office.UpdateError as exc:
        fail(exc.translated(), EXIT_BAD_INPUT, as_json=as_json)
    emit(
        as_json,
        {"ok": True, "number": number, "kind": kind, "version": version},
        _("Update {number} published.", number=number),
    )


pos.add_command(pos_close)  # the register's closures: webapp/cli/pos_closures.py
pos.add_command(pos_journal)  # the register's JET: webapp/cli/pos_journal.py
add_trail_commands(pos)  # the register's trail: verify, reprint (webapp/cli/pos_trail.py)
