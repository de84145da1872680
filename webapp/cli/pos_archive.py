"""`relais pos archive make|verify`: a register's monthly and yearly archives (issue 17).

`verify` needs no data folder: it checks a file alone, on any machine (docs/pos-trail.md).
"""

from __future__ import annotations

from pathlib import Path

import click

from webapp.cli.common import (
    EXIT_ITEMS_FAILED,
    CliState,
    emit,
    fail,
    json_option,
    unlocked_services,
)
from webapp.i18n import _


@click.group("archive")
def archive_group() -> None:
    """Monthly and yearly archives of the register's signed records."""


@archive_group.command("make")
@click.argument("kind", type=click.Choice(["month", "year"]))
@click.option("--period", help="2026-11 for a month, 2026 for a year (default: the last ended).")
@json_option
@click.pass_obj
def archive_make(state: CliState, kind: str, period: str | None, as_json: bool) -> None:
    """Write the archive of a month or a year now, under the data folder's archives/."""
    from webapp.i18n import UserError
    from webapp.pos import archives, register_config, trail_keys

    services = unlocked_services(state, as_json)
    try:
        span = archives.period(kind, period)
        config = register_config.require_config(services.store)
        signer = trail_keys.load_signer(services.vault)
        written = archives.write_archive(services.store, signer, config.number, span)
    except UserError as exc:
        fail(exc.translated(), as_json=as_json)
    emit(
        as_json,
        {"ok": True, "period": span.text, **written.as_dict()},
        _(
            "Archive of {period} written: {file} ({rows} records, {tickets} tickets).",
            period=span.text,
            file=str(written.path),
            rows=written.counts["rows"],
            tickets=written.counts["tickets"],
        ),
    )


@archive_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "public_key", help="The register's public key, as the office shows it.")
@json_option
def archive_verify(file: Path, public_key: str | None, as_json: bool) -> None:
    """Check an archive FILE alone: exit 0 when intact, 1 naming the first problem."""
    from webapp.pos import archive_check, archives, trail_keys

    trusted = None
    if public_key:
        try:
            trusted = {trail_keys.key_id(public_key.strip()): public_key.strip()}
        except ValueError:
            fail(_("--key is not a public key."), as_json=as_json)
    try:
        checked = archive_check.verify_archive(file, trusted)
    except archives.ArchiveError as exc:
        problem = exc.translated()
        if as_json:
            emit(True, {"ok": False, "file": str(file), "problem": problem}, "")
        else:
            click.echo(_("Archive NOT intact: {problem}", problem=problem), err=True)
        raise SystemExit(EXIT_ITEMS_FAILED) from None
    manifest = checked.manifest
    emit(
        as_json,
        {"file": str(file), **checked.as_dict()},
        _(
            "Archive intact: register {register}, {period}, {rows} records, {tickets} tickets"
            " (key {key}).",
            register=manifest.get("register"),
            period=manifest.get("period"),
            rows=manifest["counts"].get("rows"),
            tickets=manifest["counts"].get("tickets"),
            key=manifest.get("key_id"),
        ),
    )
