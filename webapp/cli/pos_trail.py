"""`relais pos verify|reprint|refund|void`: the register's signed trail on the command line.

`verify` checks the register's own chains with its public key (docs/pos-trail.md "Checking a
chain"); `reprint` prints a ticket again as a counted, signed duplicate; `refund` gives money
back on a ticket as a signed refund ticket (docs/pos-trail.md "Refunds"); `void` cancels a whole
sale of the open day as a signed void ticket ("Voids"). Issue 17.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from webapp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_ITEMS_FAILED,
    CliState,
    emit,
    fail,
    json_option,
    unlocked_services,
)
from webapp.i18n import _


def register_keys(services: Any) -> dict[str, str]:
    """The public keys this register signed with: its vault's key (when open) and the one its
    settings keep, so checking needs no passphrase."""
    from webapp import settings
    from webapp.pos import trail_keys

    keys: dict[str, str] = {}
    stored = settings.read_value(services.store, trail_keys.PUBLIC_KEY_SETTING)
    if isinstance(stored, str) and stored:
        keys[trail_keys.key_id(stored)] = stored
    if services.vault.is_unlocked:
        text = services.vault.get(trail_keys.KEY_SECRET)
        if text:
            signer = trail_keys.signer_from_text(text)
            keys[signer.key_id] = signer.public_key
    return keys


def _what(db: Any, chain: str, seq: int, params: dict[str, Any]) -> str | None:
    """The ticket (or record) a break is about, for the message."""
    if params.get("number"):
        return str(params["number"])
    row = db.execute(
        "SELECT ref FROM pos_trail WHERE chain = ? AND seq = ?", [chain, seq]
    ).fetchone()
    return str(row[0]) if row else None


@click.command("verify")
@click.option(
    "--register", "register_number", type=int, help="At the office: only this register's chains."
)
@json_option
@click.pass_obj
def pos_verify(state: CliState, register_number: int | None, as_json: bool) -> None:
    """Check this register's chains and tickets (at the office: every register's chains
    received): exit 0 when every chain holds, 1 naming the first break."""
    from webapp.pos import register_config, trail_verify

    services = unlocked_services(state, as_json, required=False, interactive=False)
    if _is_office(services):
        _verify_office(services, register_number, as_json)
        return
    try:
        config = register_config.require_config(services.store)
    except register_config.RegisterError as exc:
        fail(exc.translated(), EXIT_BAD_INPUT, as_json=as_json)
    keys = register_keys(services)
    if not keys:
        fail(_("This register has no public key to check its chains with."), as_json=as_json)
    with services.store.read() as db:
        breaks = trail_verify.verify_register(db, config.number, keys)
        found = [
            {**item.as_dict(), "ref": _what(db, item.chain, item.seq, item.params)}
            for item in breaks
        ]
    data = {"ok": not breaks, "register": config.number, "breaks": found}
    if not breaks:
        emit(as_json, data, _("Every chain holds."))
        return
    first = breaks[0].translated()
    if found[0]["ref"]:
        first = _("{problem} (record {ref})", problem=first, ref=found[0]["ref"])
    emit(as_json, data, _("Chain broken: {problem}", problem=first))
    sys.exit(EXIT_ITEMS_FAILED)


def _is_office(services: Any) -> bool:
    """An office that has registers (a folder that never joined one keeps the register's
    answer: "not joined")."""
    from webapp.pos import register_config

    if register_config.role(services.store) != "office":
        return False
    with services.store.read() as db:
        return db.execute("SELECT 1 FROM pos_registers LIMIT 1").fetchone() is not None


def _verify_office(services: Any, register_number: int | None, as_json: bool) -> None:
    """Every register's received chains checked again from their first row
    (webapp/pos/trail_office.py)."""
    from webapp.pos import trail_office

    try:
        checks = trail_office.verify_office(services.store, register_number)
    except trail_office.TrailRefused as exc:
        fail(exc.translated(), EXIT_BAD_INPUT, as_json=as_json)
    broken = [check for check in checks if check.breaks]
    data = {"ok": not broken, "registers": [check.as_dict() for check in checks]}
    if not broken:
        emit(as_json, data, _("Every chain holds."))
        return
    first = trail_office.break_text(broken[0].number, broken[0].breaks[0])
    emit(as_json, data, _("Chain broken: {problem}", problem=first))
    sys.exit(EXIT_ITEMS_FAILED)


@click.command("reprint")
@click.argument("number")
@click.option("--user", help="The seller's code.")
@json_option
@click.pass_obj
def pos_reprint(state: CliState, number: str, user: str | None, as_json: bool) -> None:
    """Print ticket NUMBER again: recorded, signed and counted ("DUPLICATA n° k")."""
    from webapp.pos import register_config, reprints, selling, trail_keys

    services = unlocked_services(state, as_json)
    try:
        signer = selling.signer_for(services.store, services.vault)
        printed = reprints.print_ticket(services.store, signer, number, user)
    except (
        reprints.ReprintError,
        register_config.RegisterError,
        trail_keys.TrailKeyError,
    ) as exc:
        fail(exc.translated(), EXIT_BAD_INPUT, as_json=as_json)
    text = (
        _("Ticket {number}: DUPLICATE No. {count}", number=printed.number, count=printed.copy)
        if printed.is_duplicate
        else _("Ticket {number}: original printed", number=printed.number)
    )
    emit(as_json, printed.as_dict(), text)


METHOD_HELP = "The payment method's code the money is given back by (cash unless given)."


@click.command("refund")
@click.argument("number")
@click.argument("articles", nargs=-1, metavar="[ARTICLE:QTY]...")
@click.option("--all", "everything", is_flag=True, help="Refund all that is left of the ticket.")
@click.option("--user", help="The seller's code.")
@click.option("--method", help=METHOD_HELP)
@json_option
@click.pass_obj
def pos_refund(
    state: CliState,
    number: str,
    articles: tuple[str, ...],
    everything: bool,
    user: str | None,
    method: str | None,
    as_json: bool,
) -> None:
    """Give money back on ticket NUMBER: recorded as a signed refund ticket, sent to the office."""
    from webapp.pos import refunds

    if everything == bool(articles):
        fail(_("Give either --all or ARTICLE:QTY words."), EXIT_BAD_INPUT, as_json=as_json)

    def record(services: Any, signer: Any) -> Any:
        wanted = refunds.ALL if everything else refunds.parse_wanted(list(articles))
        return refunds.record_refund(services.store, number, wanted, signer, user, method=method)

    recorded = _give_back(state, as_json, record)
    answer = {"number": recorded.number, "refunds": number, "total_incl_vat": recorded.total}
    text = _(
        "Refund {refund} of ticket {number}: {total}",
        refund=recorded.number,
        number=number,
        total=recorded.total,
    )
    emit(as_json, answer, text)


@click.command("void")
@click.argument("number")
@click.option("--user", help="The seller's code.")
@click.option("--method", help=METHOD_HELP)
@json_option
@click.pass_obj
def pos_void(
    state: CliState, number: str, user: str | None, method: str | None, as_json: bool
) -> None:
    """Void sale NUMBER of a day not closed yet: the whole ticket cancelled by a signed void
    ticket, the money given back (in cash unless --method), sent to the office."""
    from webapp.pos import refunds

    recorded = _give_back(
        state,
        as_json,
        lambda services, signer: refunds.record_void(services.store, number, signer, user, method),
    )
    answer = {"number": recorded.number, "voids": number, "total_incl_vat": recorded.total}
    text = _(
        "Void {void} of ticket {number}: {total}",
        void=recorded.number,
        number=number,
        total=recorded.total,
    )
    emit(as_json, answer, text)


def _give_back(state: CliState, as_json: bool, record: Callable[[Any, Any], Any]) -> Any:
    """A refund or a void recorded with the vault's key; exit 2 with the reason when refused."""
    from webapp.pos import register_config, selling, trail_keys

    services = unlocked_services(state, as_json)
    try:
        signer = selling.signer_for(services.store, services.vault)
        return record(services, signer)
    except (
        selling.TicketError,
        register_config.RegisterError,
        trail_keys.TrailKeyError,
    ) as exc:
        fail(exc.translated(), EXIT_BAD_INPUT, as_json=as_json)


COMMANDS = (pos_verify, pos_reprint, pos_refund, pos_void)


def add_trail_commands(group: click.Group) -> None:
    """Put `verify`, `reprint`, `refund` and `void` into the `pos` group (webapp/cli/pos.py)."""
    for command in COMMANDS:
        group.add_command(command)
