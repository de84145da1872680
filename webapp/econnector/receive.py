"""Reception (ECN-6): documents from the connector's import folder into the back office.

Two steps, one code path: the analysis is the integration with each chunk's transaction rolled
back (what a chunk did is carried to the next ones), so what it announces is what the integration
does, and the write lock is free between chunks. Documents go by chunks (webapp/econnector/batch.py),
each chunk committed at once; a document (connector + doc_ref) is integrated once, ever, also after
a kill -9 in the middle of a file. A file whose documents are all integrated becomes `.bak`; a file
still being written (modified in the last seconds) is left for the next scan.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from webapp.backoffice import documents
from webapp.csvio import CsvError
from webapp.econnector import reception_cache, records
from webapp.econnector.connectors import Connector, check_references
from webapp.econnector.inbox import SETTLE_SECONDS, file_kind, read_documents, ready_files, to_bak
from webapp.econnector.prestashop.receive import receive_orders
from webapp.econnector.receive_documents import receive_checked, receive_documents
from webapp.econnector.receive_parties import integrate_one_party, read_parties
from webapp.econnector.report import Choices, ReceiveReport
from webapp.i18n import UserError, current_language, translations
from webapp.secrets import Vault
from webapp.store import Store

__all__ = ["JOB_NAME", "Choices", "ReceiveReport", "integrated_documents", "receive"]

log = logging.getLogger(__name__)

JOB_NAME = records.RECEIVE_JOB

BATCH = 200  # parties per commit; each one under its own savepoint


class _Rollback(Exception):
    pass


def receive(
    store: Store,
    connector: Connector,
    *,
    analyse_only: bool = False,
    choices: Choices | None = None,
    progress: Callable[[int], None] | None = None,
    settle: float = SETTLE_SECONDS,
    origin: str = "command",
    run_id: int | None = None,
    vault: Vault | None = None,
) -> ReceiveReport:
    """Analyse (everything rolled back) or integrate the files waiting in the import folder, or a
    web shop's new orders for a webservice connector (its key read from `vault`).

    An integration records into `run_id` when given (a task's run, ended by the task runner), or
    into a run of its own, about the connector, ended here.
    """
    if connector.mode == "webservice":  # the shop's orders; such a connector has no folder
        return receive_orders(
            store,
            connector,
            vault=vault,
            analyse_only=analyse_only,
            choices=choices,
            progress=progress,
            origin=origin,
            run_id=run_id,
        )
    # The rows the connector points to may have gone since it was saved: refused as the wizard would.
    check_references(store, connector)
    choices = choices or Choices()
    report = ReceiveReport(connector.code, analyse_only)
    folder = Path(connector.import_dir)
    ready, waiting = ready_files(folder, settle) if folder.is_dir() else ([], [])
    report.waiting = [path.name for path in waiting]
    own_run = not analyse_only and run_id is None
    if own_run:
        run_id = records.start_reception(store, connector.code, origin)
    report.run_id = None if analyse_only else run_id
    translations(current_language())  # its first reading takes ~0.2 s: not under the write lock
    try:
        with documents.remembered_lookups():
            for path in ready:
                _file(store, connector, path, choices, report, progress)
    finally:
        if own_run:
            records.finish_reception(store, report)
    return report


def _file(
    store: Store,
    connector: Connector,
    path: Path,
    choices: Choices,
    report: ReceiveReport,
    progress: Callable[[int], None] | None,
) -> None:
    entry: dict[str, Any] = {"name": path.name, "documents": 0, "state": "kept"}
    report.files.append(entry)
    counted = report.total
    left_before = report.counts["not_integrated"]
    try:
        if file_kind(path, connector) == "parties":
            _parties_file(store, connector, path, choices, report)
            entry["documents"] = report.total - counted
            if not report.analyse_only and report.counts["not_integrated"] == left_before:
                entry["state"] = "bak"
                to_bak(path)
            return
        _documents_file(store, connector, path, choices, report, progress)
    except (CsvError, UserError) as exc:
        entry["error"] = exc.translated()
        _file_error(store, connector, path, exc, report.run_id)
        return
    except Exception as exc:  # a bug met by one file must not keep the next files from being read
        log.exception("connector %s: reading %s failed", connector.code, path.name)
        error = UserError("The import stopped on an unexpected error: {detail}", detail=str(exc))
        entry["error"] = error.translated()
        _file_error(store, connector, path, error, report.run_id)
        return
    entry["documents"] = report.total - counted
    refused = report.counts["not_integrated"] - left_before
    if not report.analyse_only and entry["documents"] and not refused:
        entry["state"] = "bak"
        to_bak(path)


def _documents_file(
    store: Store,
    connector: Connector,
    path: Path,
    choices: Choices,
    report: ReceiveReport,
    progress: Callable[[int], None] | None,
) -> None:
    if report.analyse_only:
        spill = reception_cache.start(store, connector, path)
        try:
            documents = read_documents(path, connector)
            receive_documents(store, connector, documents, choices, report, progress, spill)
        except BaseException:
            if spill is not None:
                spill.drop()
            raise
        if spill is not None:
            spill.keep()
        return
    checked = reception_cache.checked(store, connector, path)
    try:
        if checked is not None:  # its analysis read and checked it: nothing changed since
            receive_checked(store, connector, checked, choices, report, progress)
        else:
            documents = read_documents(path, connector)
            receive_documents(store, connector, documents, choices, report, progress)
    finally:
        reception_cache.forget(store, connector, path)


def _parties_file(
    store: Store, connector: Connector, path: Path, choices: Choices, report: ReceiveReport
) -> None:
    rows = read_parties(path, connector)
    if report.analyse_only:
        with contextlib.suppress(_Rollback), store.write() as db:
            for party in rows:
                report.add(integrate_one_party(db, connector, party, choices, report))
            raise _Rollback()
    while group := list(islice(rows, BATCH)):
        with store.write() as db:
            for party in group:
                report.add(integrate_one_party(db, connector, party, choices, report))


def _file_error(
    store: Store, connector: Connector, path: Path, error: UserError, run_id: int | None
) -> None:
    log.warning("connector %s: %s refused: %s", connector.code, path.name, error.translated())
    records.record_source_error(store, connector, path.name, error, run_id)


def integrated_documents(store: Store, connector: Connector) -> list[dict[str, Any]]:
    """`relais connector documents`: what came through the connector."""
    with store.read() as db:
        rows = db.execute(
            "SELECT c.doc_ref, d.number, p.code AS customer, d.total_incl_vat,"
            " (SELECT count(*) FROM document_lines l WHERE l.document_id = d.id) AS lines,"
            " d.doc_date, c.file, c.integrated_at FROM connector_documents c"
            " JOIN documents d ON d.id = c.document_id LEFT JOIN parties p ON p.id = d.party_id"
            " WHERE c.connector_id = ? ORDER BY c.integrated_at, c.doc_ref",
            [connector.id],
        ).fetchall()
    return [
        {
            **dict(row),
            "total_incl_vat": str(Decimal(str(row["total_incl_vat"])).quantize(Decimal("0.01"))),
        }
        for row in rows
    ]
