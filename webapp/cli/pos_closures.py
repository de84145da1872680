"""`relais pos close day|month|year`: the register's closures from the command line (issue 17).

Added to the `pos` group by webapp/cli/pos.py; the work is webapp/pos/closures.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import click

from webapp.cli.common import EXIT_BAD_INPUT, CliState, emit, fail, json_option, unlocked_services
from webapp.i18n import _


def _day(value: str | None, as_json: bool) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(_("Give the date as YYYY-MM-DD: {value}", value=value), as_json=as_json)


def closure_text(closure: Any) -> str:
    """A closure's totals as the Z report gives them, one per line."""
    from webapp.formatting import money
    from webapp.pos import closures

    values = closure.values
    lines = [
        _(
            "{title} — tickets: {count}, total {total}.",
            title=closures.closure_title(closure),
            count=values["tickets"],
            total=money(Decimal(values["total_incl_vat"])),
        )
    ]
    for rate, total, base, vat in closures.totals_lines(values):
        lines.append(
            "  "
            + _(
                "VAT {rate} %: {total} (excl. VAT {base}, VAT {vat})",
                rate=rate,
                total=money(Decimal(total)),
                base=money(Decimal(base)),
                vat=money(Decimal(vat)),
            )
        )
    for method, amount in values["payments"].items():
        lines.append(f"  {method}: {money(Decimal(amount))}")
    grand = values["grand_totals"]
    lines.append(
        "  "
        + _(
            "Grand totals: sales {sales}, refunds {refunds}, absolute {absolute}.",
            sales=money(Decimal(grand["sales"])),
            refunds=money(Decimal(grand["refunds"])),
            absolute=money(Decimal(grand["absolute"])),
        )
    )
    return "\n".join(lines)


@click.command("close")
@click.argument("period", type=click.Choice(["day", "month", "year"]))
@click.option("--date", "when", metavar="YYYY-MM-DD", help="A day of the period (default: today).")
@json_option
@click.pass_obj
def pos_close(state: CliState, period: str, when: str | None, as_json: bool) -> None:
    """Close the day, month or year on this register: its totals signed on the closure chain
    (the days a month needs, and the months a year needs, are closed first)."""
    from webapp.pos import closures, register_config, trail_keys

    day = _day(when, as_json)
    services = unlocked_services(state, as_json)
    try:
        written = closures.close_here(services.store, services.vault, period, day)
    except (
        closures.ClosureError,
        trail_keys.TrailKeyError,
        register_config.RegisterError,
    ) as exc:
        fail(exc.translated(), EXIT_BAD_INPUT, as_json=as_json)
    data = {
        "ok": True,
        "closure": written[-1].as_dict(),
        "closed_first": [closure.as_dict() for closure in written[:-1]],
    }
    emit(as_json, data, "\n".join(closure_text(closure) for closure in written))
