"""`relais scrada redeliver`: write again the delivered files that left their folders (added to
the `scrada` group by webapp/cli/root.py)."""

from __future__ import annotations

import sys

import click

from webapp.cli.common import EXIT_BAD_INPUT, EXIT_ITEMS_FAILED, CliState, emit, fail, json_option
from webapp.i18n import _
from webapp.scrada.redeliver import BOOK_KINDS


@click.command("redeliver")
@click.option(
    "--from", "date_from", required=True, help="First document date (YYYY-MM-DD or DD/MM/YYYY)."
)
@click.option(
    "--to", "date_to", required=True, help="Last document date (YYYY-MM-DD or DD/MM/YYYY)."
)
@click.option("--company", "company_id", help="Only this company (its Scrada id).")
@click.option("--book", "book_kind", type=click.Choice(BOOK_KINDS), help="Only this kind of book.")
@json_option
@click.pass_obj
def scrada_redeliver(
    state: CliState,
    date_from: str,
    date_to: str,
    company_id: str | None,
    book_kind: str | None,
    as_json: bool,
) -> None:
    """Write again, from the archive, the delivered files missing from their folders (exit 1
    when some could not be, 2 for bad dates); a file still there is never copied twice."""
    from webapp.scrada import redeliver

    services = state.services()  # sets the language of the messages
    try:
        start, end = redeliver.parse_day(date_from), redeliver.parse_day(date_to)
        redeliver.check_dates(start, end)
        root = redeliver.configured_root(services.store, services.data_dir)
        report = redeliver.redeliver(
            services.store,
            services.data_dir,
            root,
            date_from=start,
            date_to=end,
            company_id=company_id,
            book_kind=book_kind,
        )
    except redeliver.BadRequest as exc:
        fail(exc.translated(), EXIT_BAD_INPUT, as_json=as_json)
    written, error = _("written again"), _("error")
    lines = [f"{written}: {path}" for path in report.rewritten]
    lines += [f"{error}: {item['path']}: {item['problem']}" for item in report.problems]
    lines.append(
        _(
            "{rewritten} written again, {present} already in their folder,"
            " {problems} could not be written again.",
            rewritten=len(report.rewritten),
            present=len(report.present),
            problems=len(report.problems),
        )
    )
    emit(as_json, report.as_dict(), "\n".join(lines))
    if not report.ok:
        sys.exit(EXIT_ITEMS_FAILED)
