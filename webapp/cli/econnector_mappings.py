"""`relais connector mappings CODE --import FILE | --export FILE | --identical`: the connector's
correspondences as a CSV file (webapp/econnector/mapping_files.py, mapping_import.py) and mapped by
identical code (mapping_identical.py). The command and its options are in webapp/cli/econnector.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from webapp.cli.common import EXIT_BAD_INPUT, EXIT_ITEMS_FAILED, CliState, emit, fail
from webapp.i18n import _


def map_identical(state: CliState, item: Any, codes_file: Path | None, as_json: bool) -> None:
    from webapp.econnector.mapping_identical import map_identical, parse_code_list, waiting_codes

    codes = waiting_codes(item)
    if codes_file is not None:
        try:
            codes += parse_code_list(codes_file.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeError) as exc:
            fail(
                _("Cannot read the file {file}: {detail}", file=str(codes_file), detail=str(exc)),
                as_json=as_json,
            )
    report = map_identical(state.services().store, item, codes)
    text = _(
        "Mapped by identical code: {mapped}; already mapped: {already}; without an article of"
        " that code or barcode: {unmatched}.",
        **report.as_dict(),
    )
    emit(as_json, report.as_dict(), "\n".join([text, *report.unmatched_codes]))


def _csv_options(options: dict[str, Any]) -> Any:
    from webapp.csvio import CsvOptions

    return CsvOptions(encoding=options["encoding"], delimiter=options["delimiter"])


def import_mappings(
    state: CliState,
    item: Any,
    file: Path,
    as_json: bool,
    *,
    dry_run: bool,
    skip_bad: bool,
    kind: str | None,
    **options: Any,
) -> None:
    from webapp.backoffice.row_checks import ImportProblem
    from webapp.csvio import CsvError
    from webapp.econnector.mapping_import import import_mapping_file

    try:
        report = import_mapping_file(
            state.services().store,
            item,
            file,
            _csv_options(options),
            default_kind=kind,
            dry_run=dry_run,
            skip_bad=skip_bad,
        )
    except (CsvError, ImportProblem) as exc:
        fail(f"{file}: {exc.translated()}", as_json=as_json)
    counts = {"new": report.total("new"), "changed": report.total("changed")}
    counts |= {"unchanged": report.total("unchanged"), "rejected": report.errors_total}
    if report.dry_run:
        head = _(
            "Dry run, nothing written: {new} new, {changed} changed, {unchanged} unchanged,"
            " {rejected} bad lines.",
            **counts,
        )
    elif report.committed:
        head = _(
            "Imported: {new} new, {changed} changed, {unchanged} unchanged, {rejected} bad lines.",
            **counts,
        )
    else:
        head = _("Nothing was imported: the file has bad lines.")
    emit(as_json, report.as_dict(), "\n".join([head, *(e.translated() for e in report.errors)]))
    if report.errors_total:
        sys.exit(
            EXIT_ITEMS_FAILED if report.committed or (dry_run and skip_bad) else EXIT_BAD_INPUT
        )


def export_mappings(
    state: CliState, item: Any, file: Path, as_json: bool, options: dict[str, Any]
) -> None:
    from webapp.csvformat import CsvError
    from webapp.csvio import WriteFormat
    from webapp.econnector.mapping_files import export_mapping_file
    from webapp.econnector.mappings import KINDS

    kinds = [options["kind"]] if options["kind"] else list(KINDS)
    try:
        fmt = WriteFormat.from_options(_csv_options(options))
        rows = export_mapping_file(state.services().store, item, file, kinds, fmt)
    except CsvError as exc:
        fail(exc.translated(), as_json=as_json)
    except OSError as exc:
        fail(
            _("Cannot write {file}: {detail}", file=str(file), detail=exc.strerror or str(exc)),
            as_json=as_json,
        )
    emit(
        as_json, {"ok": True, "file": str(file), "rows": rows}, _("Written: {file}", file=str(file))
    )
