"""`relais pos join|sync|sell|tickets|users|outbox|update ...`: the register side of `relais pos`.

Added to the `pos` group (and its `update` group) by webapp/cli/root.py.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from webapp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_CREDENTIALS,
    EXIT_ITEMS_FAILED,
    CliState,
    emit,
    fail,
    json_option,
    unlocked_services,
)
from webapp.i18n import _


def _services(state: CliState, as_json: bool, *, vault: bool) -> Any:
    return unlocked_services(state, as_json) if vault else state.services()


def _office_failure(exc: Exception, as_json: bool) -> None:
    """Exit with the code that fits an office error: 3 refused, 1 unreachable, 2 otherwise."""
    from webapp.pos.register import PackageRefused, RegisterError
    from webapp.pos.register_client import OfficeError, OfficeRefused, OfficeUnreachable

    if isinstance(exc, OfficeRefused):
        fail(_("The office refused the token."), EXIT_CREDENTIALS, as_json=as_json)
    if isinstance(exc, OfficeUnreachable | PackageRefused):
        fail(exc.translated(), EXIT_ITEMS_FAILED, as_json=as_json)
    if isinstance(exc, OfficeError | RegisterError):
        fail(exc.translated(), EXIT_BAD_INPUT, as_json=as_json)
    raise exc


@click.command("join")
@click.option("--code", help="The join code the office page showed (RLS1-...; '-': stdin).")
@click.option("--server", help="The office's POS address, e.g. http://10.0.0.2:8770.")
@click.option("--register", "number", type=click.IntRange(1), help="This register's number.")
@click.option("--token", help="The token `relais pos register add` printed ('-': stdin).")
@json_option
@click.pass_obj
def pos_join(
    state: CliState,
    code: str | None,
    server: str | None,
    number: int | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Join an office with its join code, or as register NUMBER with its token (exit 3 if the
    office refuses the token)."""
    from webapp.pos import register
    from webapp.pos.register_client import OfficeError

    server, number, token = _join_values(code, server, number, token, as_json)
    services = _services(state, as_json, vault=True)
    try:
        hello = register.join(services.store, services.vault, server, number, token)
    except (OfficeError, register.RegisterError) as exc:
        _office_failure(exc, as_json)
    data = {
        "ok": True,
        "server": server.rstrip("/"),
        "register": number,
        "company": hello.get("company"),
        "office": hello.get("office"),
    }
    emit(
        as_json,
        data,
        _("Joined the office {server} as register {number}.", server=server, number=number),
    )


def _join_values(
    code: str | None, server: str | None, number: int | None, token: str | None, as_json: bool
) -> tuple[str, int, str]:
    """The office, the number and the token: from the code, or from the three options."""
    from webapp.pos import join_code

    if code is not None:
        if server or number or token:
            fail(_("Give either --code or --server, --register and --token."), as_json=as_json)
        try:
            packed = join_code.decode(sys.stdin.readline() if code == "-" else code)
        except join_code.JoinCodeError as exc:
            fail(exc.translated(), as_json=as_json)
        return packed.server_url, packed.number, packed.token
    if not server or number is None or token is None:
        fail(_("Give either --code or --server, --register and --token."), as_json=as_json)
    if token == "-":
        token = sys.stdin.readline().strip()
    if not token:
        fail(_("Empty token."), as_json=as_json)
    return server, number, token


@click.command("sync")
@json_option
@click.pass_obj
def pos_sync(state: CliState, as_json: bool) -> None:
    """One import and one push now (exit 1 if unreachable or records were rejected, 3 refused)."""
    from webapp.pos import register
    from webapp.pos.register_client import OfficeError

    services = _services(state, as_json, vault=True)
    try:
        result = register.sync_once(services.store, services.vault)
    except (OfficeError, register.RegisterError) as exc:
        _office_failure(exc, as_json)
    data = {"ok": not result.pushed.rejected, **result.as_dict()}
    text = _(
        "Packages applied: {applied}; records sent: {sent}; rejected: {rejected}.",
        applied=len(result.imported.applied),
        sent=result.pushed.sent,
        rejected=len(result.pushed.rejected),
    )
    lines = [text, *(f"  {row['id']}: {row['reason']}" for row in result.pushed.rejected)]
    emit(as_json, data, "\n".join(lines))
    if result.pushed.rejected:
        sys.exit(EXIT_ITEMS_FAILED)


def _parse_items(items: tuple[str, ...], as_json: bool) -> list[dict[str, str]]:
    lines = []
    for item in items:
        code, _sep, quantity = item.rpartition(":")
        if not _sep:
            code, quantity = item, "1"
        if not code:
            fail(_("Give each article as CODE:QUANTITY, for example VR1:2."), as_json=as_json)
        lines.append({"article": code, "quantity": quantity})
    return lines


@click.command("sell")
@click.argument("items", nargs=-1, required=True)
@click.option("--payment", help="Payment method code (default: cash).")
@click.option("--user", help="The seller's code.")
@click.option("--customer", help="The customer's code.")
@json_option
@click.pass_obj
def pos_sell(
    state: CliState,
    items: tuple[str, ...],
    payment: str | None,
    user: str | None,
    customer: str | None,
    as_json: bool,
) -> None:
    """Record a ticket: ARTICLE_CODE:QTY ... (it goes to the office through the outbox)."""
    from webapp.pos import register, selling, trail_keys

    services = _services(state, as_json, vault=True)  # each ticket is signed with the vault's key
    request: dict[str, Any] = {
        "lines": _parse_items(items, as_json),
        "user": user,
        "customer": customer,
    }
    if payment:
        request["payments"] = [{"method": payment}]
    try:
        signer = selling.signer_for(services.store, services.vault)
        recorded = selling.record_ticket(services.store, request, signer)
    except (selling.TicketError, register.RegisterError, trail_keys.TrailKeyError) as exc:
        fail(exc.translated(), as_json=as_json)
    data = {"ok": True, "id": recorded.id, "number": recorded.number, "total": recorded.total}
    emit(as_json, data, _("Ticket {number}: {total}", number=recorded.number, total=recorded.total))


@click.command("tickets")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@json_option
@click.pass_obj
def pos_tickets(state: CliState, limit: int, as_json: bool) -> None:
    """The tickets sold here, newest first, with their outbox state (queued, sent, rejected)."""
    from webapp.pos import register, register_lists

    services = _services(state, as_json, vault=False)
    try:
        rows = register_lists.list_tickets(services.store, limit)
    except register.RegisterError as exc:
        fail(exc.translated(), as_json=as_json)
    text = "\n".join(
        f"{row['number']:<14} {row['total']:>10} {row['state']:<9} {row['id']}"
        + (f"  {row['reason']}" if row["reason"] else "")
        for row in rows
    )
    emit(as_json, rows, text)


@click.command("users")
@json_option
@click.pass_obj
def pos_users(state: CliState, as_json: bool) -> None:
    """The users present on this register."""
    from webapp.pos import register_lists

    rows = register_lists.list_users(_services(state, as_json, vault=False).store)
    emit(as_json, rows, "\n".join(f"{row['code']:<12} {row['name']}" for row in rows))


@click.command("outbox")
@json_option
@click.pass_obj
def pos_outbox(state: CliState, as_json: bool) -> None:
    """State of the outbox: queued records, rejected ones with their reasons, last contact."""
    from webapp.pos import register_status

    status = register_status.status(_services(state, as_json, vault=False).store)
    text = "\n".join(
        [
            _("Queued records: {count}", count=status["queued"]),
            _("Last contact with the office: {when}", when=status["last_contact"] or "-"),
            *(f"  {row['id']} {row['kind']}: {row['reason']}" for row in status["rejected"]),
        ]
    )
    emit(as_json, status, text)


@click.command("confirm")
@click.argument("number", type=int)
@json_option
@click.pass_obj
def pos_update_confirm(state: CliState, number: int, as_json: bool) -> None:
    """Apply the pending update package NUMBER (register)."""
    from webapp.pos import updates_register

    services = _services(state, as_json, vault=False)
    try:
        row = updates_register.confirm(services.store, number)
    except updates_register.UpdateError as exc:
        fail(exc.translated(), as_json=as_json)
    emit(as_json, {"ok": row["state"] == "applied", **row}, f"{number}: {row['state']}")
    if row["state"] != "applied":
        sys.exit(EXIT_ITEMS_FAILED)


@click.command("mode")
@click.argument("mode", type=click.Choice(["always", "once", "never"]))
@json_option
@click.pass_obj
def pos_update_mode(state: CliState, mode: str, as_json: bool) -> None:
    """How update packages are confirmed here: always, once (the first one), never (silent)."""
    from webapp.pos import updates_register

    updates_register.set_mode(_services(state, as_json, vault=False).store, mode)
    emit(as_json, {"ok": True, "mode": mode}, _("Update confirmation mode: {mode}", mode=mode))


@click.command("received")
@json_option
@click.pass_obj
def pos_update_received(state: CliState, as_json: bool) -> None:
    """The update packages received here, with their state (pending, applied, refused)."""
    from webapp.pos import updates_register

    rows = updates_register.received(_services(state, as_json, vault=False).store)
    text = "\n".join(
        f"{row['number']:>5} {row['kind']:<10} {row['state']:<8} {row['reason'] or ''}"
        for row in rows
    )
    emit(as_json, rows, text)


COMMANDS = (pos_join, pos_sync, pos_sell, pos_tickets, pos_users, pos_outbox)
UPDATE_COMMANDS = (pos_update_confirm, pos_update_mode, pos_update_received)
