"""`relais pos journal`: the register's JET (technical events) from the command line (issue 17).

Added to the `pos` group by webapp/cli/pos.py; the work is webapp/pos/journal.py.
"""

from __future__ import annotations

import json
from typing import Any

import click

from webapp.cli.common import EXIT_BAD_INPUT, CliState, emit, json_option
from webapp.i18n import _, gettext


def event_line(event: dict[str, Any]) -> str:
    details = json.dumps(event["details"], ensure_ascii=False) if event["details"] else ""
    label = event["label"]  # an msgid of webapp/pos/journal.py, not a text to extract here
    parts = [
        f"{event['seq']:>5}",
        event["at"],
        f"{event['code']:>3}",
        gettext(label),
        event["user"] or "",
        details,
    ]
    return "  ".join(part for part in parts if part)


@click.command("journal")
@click.option(
    "--limit",
    type=click.IntRange(1, 10000),
    default=50,
    show_default=True,
    help="How many events, newest first.",
)
@click.option("--before", type=click.IntRange(1), help="Only the events numbered below this one.")
@json_option
@click.pass_obj
def pos_journal(state: CliState, limit: int, before: int | None, as_json: bool) -> None:
    """The register's technical events (JET), newest first, and whether their chain holds
    (exit 2 when it does not)."""
    from webapp.pos import journal

    services = state.services()
    try:
        with services.store.read() as db:
            events = journal.list_events(db, before, limit)
            breaks = journal.chain_breaks(db)
    finally:
        services.close()
    data = {
        "ok": not breaks,
        "holds": not breaks,
        "breaks": [found.as_dict() for found in breaks],
        "events": events,
    }
    lines = [event_line(event) for event in events] or [_("No technical event recorded.")]
    lines.append(
        _("The chain of events holds.")
        if not breaks
        else _("The chain of events is broken: {problem}", problem=breaks[0].translated())
    )
    emit(as_json, data, "\n".join(lines))
    if breaks:
        raise SystemExit(EXIT_BAD_INPUT)
