"""Delivery (SCR-4): validate a document, write it once, atomically, and remember it.

The order matters for kill -9: the file is written (temp name, fsync, rename) before its row is
committed. A crash between the two leaves a complete file and no row; the next pull downloads the
document again, finds the same bytes at the same deterministic path, and only records it. A
document whose row exists is never written again.

The steps of a delivery are here (validate, name, quarantine, trace); `deliver` runs them as a
batch of one (batch.py), which the pull uses with many documents per transaction.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlite_utils import Database

from webapp import history
from webapp.files import atomic_write_bytes, remove_stale_temporary_files
from webapp.i18n import N_
from webapp.scrada import continuity, formats, records
from webapp.scrada.paths import PathValues, file_name, fit, safe_name
from webapp.store import Store

log = logging.getLogger(__name__)

QUARANTINE = "_quarantine"
REASON_SUFFIX = ".reason.txt"
TEMPORARY = ".relais-tmp"
# Written by the pull itself, which clears their temporary files when it starts: the partner feed,
# the Peppol inbox, the mailbox and the drop folder (pushed.py).
PULLED_SOURCES = frozenset({"partner", "api", "mailbox", "folder"})
JOB_NAME = "scrada_pull"
ITEM_KINDS = {
    "daily-receipts": "receipt",
    "cash-book": "cash_book",
    "peppol-inbound": "peppol",
    "purchase-invoices": "purchase_invoice",
}
ITEM_STATUS = {"delivered": "received", "skipped": "skipped", "quarantined": "error"}


@dataclass(frozen=True)
class Incoming:
    company: records.Company
    book_kind: str
    book_id: str
    book_name: str
    document_id: str
    data: bytes
    source: str  # 'partner', 'api' or 'webhook'
    sequence: int | None = None

    @property
    def key(self) -> records.DeliveryKey:
        return records.DeliveryKey(self.company.id, self.book_kind, self.book_id, self.document_id)


@dataclass(frozen=True)
class Outcome:
    state: str  # 'delivered', 'skipped', 'quarantined'
    path: str
    problem: formats.InvalidDocument | None = None

    @property
    def reason(self) -> str | None:
        return self.problem.translated() if self.problem else None


def validate(kind: str, data: bytes) -> tuple[date, list[continuity.StatementFacts]]:
    """The document's date and, for a CODA file, its statements; or InvalidDocument."""
    if kind == "cash-book":
        info = formats.check_coda(data)
        day = info.statements[-1].date if info.statements else info.creation_date
        # Read now, not in the transaction: a statement continuity cannot place (its number is
        # not a number) is quarantined with that reason instead of failing the write.
        return day, continuity.statements_of(data)
    if kind == "purchase-invoices" and _is_pdf(data):
        return date.today(), []  # a PDF (purchaseInvoice/new) has no date we can read: its arrival
    return formats.check_ubl(data).issue_date, []


def _is_pdf(data: bytes) -> bool:
    return data.lstrip()[:5] == b"%PDF-"


def named_for(name: str, data: bytes) -> str:
    """A PDF keeps a .pdf name whatever its book's usual extension."""
    return name.rsplit(".", 1)[0] + ".pdf" if _is_pdf(data) else name


def quarantine(
    store: Store,
    root: Path,
    incoming: Incoming,
    run_id: int | None,
    problem: formats.InvalidDocument,
) -> Outcome:
    """A document refused before it is read (webhooks: it names no company), kept with the reason."""
    return quarantine_document(store, root, incoming, run_id, None, problem)


def quarantine_document(
    store: Store,
    root: Path,
    incoming: Incoming,
    run_id: int | None,
    book: records.Book | None,
    problem: formats.InvalidDocument,
) -> Outcome:
    values = PathValues(
        company_number=incoming.company.company_number,
        company_name=incoming.company.name,
        company_id=incoming.company.id,
        book=incoming.book_name,
        book_kind=incoming.book_kind,
        day=date.today(),
    )
    owner = safe_name(incoming.company.company_number or incoming.company.id)
    name = named_for(f"{owner}_{file_name(values, incoming.document_id)}", incoming.data)
    base = root.resolve()
    # The folder keeps its name; the file's is shortened if need be, with room for the reason's.
    folder = base / QUARANTINE
    target = folder.joinpath(*fit(str(folder), [], name, reserve=len(REASON_SUFFIX)))
    temporary = temporary_folder(root, incoming.source)
    atomic_write_bytes(target, incoming.data, tmp_dir=temporary)
    atomic_write_bytes(
        target.with_name(target.name + REASON_SUFFIX),
        (problem.translated() + "\n").encode("utf-8"),
        tmp_dir=temporary,
    )
    log.warning("scrada document %s quarantined: %s", incoming.document_id, problem.translated())
    relative = target.relative_to(root.resolve()).as_posix()
    with store.write() as db:
        records.record_delivery(
            db,
            incoming.key,
            state="quarantined",
            path=relative,
            sha256=hashlib.sha256(incoming.data).hexdigest(),
            size=len(incoming.data),
            document_date=None,
            source=incoming.source,
            run_id=run_id,
            reason=problem.message,
            params=problem.params,
        )
        if book is not None and incoming.sequence is not None:
            records.advance_cursor(db, book, incoming.sequence)
        trace(db, incoming, run_id, "quarantined", relative, problem)
    return Outcome("quarantined", relative, problem)


def trace(
    db: Database,
    incoming: Incoming,
    run_id: int | None,
    state: str,
    path: str,
    problem: formats.InvalidDocument | None = None,
) -> None:
    """The log line and the history item, in the delivery's own transaction."""
    if run_id is None:
        return
    error = problem.translated() if problem else None
    records.bump_log(
        db,
        run_id,
        incoming.company,
        incoming.book_kind,
        incoming.book_id,
        incoming.book_name,
        state,
        error,
    )
    if problem is not None:
        message, params = N_("{company}, {book}: quarantined ({reason})"), {"reason": error}
    elif state == "skipped":
        message, params = N_("{company}, {book}: already delivered"), {}
    else:
        message, params = N_("{company}, {book}: delivered"), {}
    params.update(company=incoming.company.name or incoming.company.id, book=incoming.book_name)
    history.insert_item(
        db,
        run_id,
        JOB_NAME,
        kind=ITEM_KINDS.get(incoming.book_kind, "file"),
        status=ITEM_STATUS[state],
        reference=path,
        message=message,
        params=params,
    )


def temporary_folder(root: Path, source: str = "partner") -> Path:
    """Where files are written before their rename: inside the root (same file system), hidden.
    Only the pull's own sources write in the folder itself, which the pull clears of every orphan
    when it starts. Any other (webhooks) may write while a pull starts, in another process too,
    so each has its own subfolder, cleared of old files only."""
    folder = root.resolve() / TEMPORARY
    return folder if source in PULLED_SOURCES else folder / safe_name(source)


def remove_orphans(root: Path) -> None:
    """At the start of a pull, which holds its process's claim: no other pull is writing, so every
    temporary file of the pull's folder is an orphan of a killed one; the other writers' folders
    only lose files older than an hour."""
    folder = temporary_folder(root)
    remove_stale_temporary_files(folder, older_than_seconds=0)
    if folder.is_dir():
        for other in folder.iterdir():
            if other.is_dir():
                remove_stale_temporary_files(other)


def same_bytes(path: Path, digest: str) -> bool:
    """The file holds exactly the bytes of `digest` (sha256, hex)."""
    found = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            found.update(chunk)
    return found.hexdigest() == digest
