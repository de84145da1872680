"""`relais backoffice import|export|kinds|profiles`: the back office's CSV files from the command
line. `import --profile NAME` reads the file through a column mapping saved in the browser."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from webapp.backoffice.columns import KINDS
from webapp.cli.common import EXIT_BAD_INPUT, EXIT_ITEMS_FAILED, CliState, emit, fail, json_option
from webapp.csvio import CsvError, CsvOptions
from webapp.i18n import _, gettext, ngettext

TEXT_ERRORS_SHOWN = 50


def csv_options(func: Any) -> Any:
    """--encoding, --delimiter, --decimal, --date-format: override what is detected."""
    decorators = [
        click.option("--encoding", help="utf-8, windows-1252 or latin-1 (default: detected)."),
        click.option("--delimiter", help="; , tab or | (default: detected)."),
        click.option(
            "--decimal", type=click.Choice([",", "."]), help="Decimal mark (default: detected)."
        ),
        click.option(
            "--date-format",
            help="DD/MM/YYYY, YYYY-MM-DD or MM/DD/YYYY (default: detected, French first).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _options(
    encoding: str | None, delimiter: str | None, decimal: str | None, date_format: str | None
) -> CsvOptions:
    return CsvOptions(
        encoding=encoding, delimiter=delimiter, decimal=decimal, date_format=date_format
    )


@click.group()
def backoffice() -> None:
    """Back office data: import and export articles, customers, suppliers and the rest as CSV."""


@backoffice.command("kinds")
@json_option
def kinds(as_json: bool) -> None:
    """List what can be imported and exported, with the columns of each kind."""
    data: dict[str, list[dict[str, Any]]] = {
        name: [
            {
                "name": column.name,
                "required": column.required,
                "aliases": list(column.aliases),
                "description": gettext(column.description),
            }
            for column in kind.columns
        ]
        for name, kind in KINDS.items()
    }
    lines = [
        f"{name}: " + ", ".join(f"{c['name']}{'*' if c['required'] else ''}" for c in columns)
        for name, columns in data.items()
    ]
    emit(as_json, data, "\n".join(lines))


@backoffice.command("import")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows and report the bad ones.")
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--profile", help="Read the columns as the saved profile of that name says.")
@csv_options
@json_option
@click.pass_obj
def import_command(
    state: CliState,
    kind: str,
    file: Path,
    skip_bad: bool,
    dry_run: bool,
    profile: str | None,
    encoding: str | None,
    delimiter: str | None,
    decimal: str | None,
    date_format: str | None,
    as_json: bool,
) -> None:
    """Import FILE as KIND. Any bad row: nothing is written (exit 2), unless --skip-bad (exit 1)."""
    from webapp.backoffice import import_profiles
    from webapp.backoffice.importer import (
        ImportProblem,
        ImportStopped,
        import_csv,
        record_refusal,
    )

    services = state.services()
    options = _options(encoding, delimiter, decimal, date_format)
    mapping = None
    if profile is not None:
        try:
            mapping = import_profiles.named(services.store, kind, profile).columns
        except import_profiles.ProfileProblem as unknown:
            fail(unknown.translated(), as_json=as_json)
    try:
        report = import_csv(
            services.store,
            kind,
            file,
            options,
            skip_bad=skip_bad,
            dry_run=dry_run,
            mapping=mapping,
        )
    except (CsvError, ImportProblem) as exc:
        # A stop after the check already ended the import's own run; no second "cannot be read".
        if not dry_run and not isinstance(exc, ImportStopped):
            record_refusal(services.store, kind, file, exc, "command")
        where = (
            _("line {line}: ", line=exc.line) if exc.line and "{line}" not in exc.message else ""
        )
        fail(f"{file}: {where}{exc.translated()}", as_json=as_json)
    emit(as_json, report.as_dict(), _import_text(report))
    if report.errors_total:
        sys.exit(
            EXIT_ITEMS_FAILED if report.committed or (dry_run and skip_bad) else EXIT_BAD_INPUT
        )


def _import_text(report: Any) -> str:
    counts = {
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "rejected": report.rejected,
    }
    if report.dry_run:
        head = _(
            "Dry run, nothing written: {rows} rows, {created} would be created, {updated} updated,"
            " {rejected} rejected.",
            **counts,
        )
    elif report.committed:
        head = _(
            "Imported: {rows} rows, {created} created, {updated} updated, {rejected} rejected.",
            **counts,
        )
    else:
        head = _(
            "Nothing imported: {rejected} of {rows} rows are bad. Correct them, or use"
            " --skip-bad to import the good rows.",
            **counts,
        )
    lines = [head]
    lines += [f"  {error.translated()}" for error in report.errors[:TEXT_ERRORS_SHOWN]]
    if report.errors_total > TEXT_ERRORS_SHOWN:
        lines.append(_("  … and {count} more", count=report.errors_total - TEXT_ERRORS_SHOWN))
    if report.ignored_columns:
        lines.append(_("Columns ignored: {columns}", columns=", ".join(report.ignored_columns)))
    return "\n".join(lines)


@backoffice.command("profiles")
@click.option("--kind", type=click.Choice(sorted(KINDS)), help="Only the profiles of this kind.")
@json_option
@click.pass_obj
def profiles_command(state: CliState, kind: str | None, as_json: bool) -> None:
    """List the column profiles saved for the import (from the browser's mapping step)."""
    from webapp.backoffice import import_profiles

    found = import_profiles.profiles(state.services().store, kind)
    lines = [
        f"{profile.kind}: {profile.name} ("
        + ", ".join(f"{heading}={field or '-'}" for heading, field in profile.columns.items())
        + ")"
        for profile in found
    ]
    emit(
        as_json,
        [profile.as_dict() for profile in found],
        "\n".join(lines) or _("No profile saved."),
    )


@backoffice.command("export")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@csv_options
@json_option
@click.pass_obj
def export_command(
    state: CliState,
    kind: str,
    file: Path,
    encoding: str | None,
    delimiter: str | None,
    decimal: str | None,
    date_format: str | None,
    as_json: bool,
) -> None:
    """Export KIND to FILE (UTF-8 with BOM, ';' and decimal comma unless told otherwise)."""
    from webapp.backoffice.exporter import export_csv

    services = state.services()
    try:
        report = export_csv(
            services.store, kind, file, _options(encoding, delimiter, decimal, date_format)
        )
    except CsvError as exc:
        fail(exc.translated(), as_json=as_json)
    except OSError as exc:
        fail(_("Cannot write {file}: {detail}", file=str(file), detail=exc.strerror or str(exc)))
    emit(
        as_json,
        report.as_dict(),
        ngettext(
            "Exported {n} row to {file}.",
            "Exported {n} rows to {file}.",
            report.rows,
            file=str(file),
        ),
    )


__all__ = ["EXIT_BAD_INPUT", "backoffice"]
