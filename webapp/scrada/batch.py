"""Deliveries in batches (the pull, a book at a time) or one by one (`deliver`: webhooks, pushed
sources): the steps of delivery.py, at the pull's pace.

Each document is validated and written to a temporary file as it comes. At the end of a batch:
the archive copies, then every temporary file fsynced and renamed to its name, the folders fsynced
once, and every row of the batch (delivery, cursor, statements, log, history) committed in one
transaction. So a row is never committed before its file is durable (a kill -9 or a power cut
before the commit leaves whole files or none, and no rows: the next pull downloads them again,
finds the same bytes at the same paths and only records them). Why this order is fast: the file
system commits its journal once for all the files written before the first fsync, so the other
fsyncs find little left to do; a book of 30 documents costs about one journal commit, one folder
fsync and one database commit instead of thirty of each.

The caller tells a source what became of a document (Peppol: confirm) only after `flush`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sqlite_utils import Database

from webapp.files import fsync_dir, replace_file
from webapp.i18n import N_
from webapp.scrada import archive, continuity, formats, records
from webapp.scrada.delivery import (
    Incoming,
    Outcome,
    named_for,
    quarantine_document,
    same_bytes,
    temporary_folder,
    trace,
    validate,
)
from webapp.scrada.paths import PathValues, target_path
from webapp.store import Store

BATCH_SIZE = 50


@dataclass(frozen=True)
class _Pending:
    """A document's bytes in a temporary file, not yet fsynced nor renamed."""

    handle: BinaryIO
    temporary: Path
    target: Path


@dataclass(frozen=True)
class _Staged:
    incoming: Incoming
    outcome: Outcome
    digest: str = ""
    day: date | None = None
    statements: list[continuity.StatementFacts] = field(default_factory=list)


def deliver(
    store: Store,
    root: Path,
    template: str,
    incoming: Incoming,
    run_id: int | None,
    book: records.Book | None = None,
) -> Outcome:
    """Write `incoming` under root/template once and record it; `book` (partner feed) gets its
    cursor advanced in the same transaction as the delivery row. A batch of one."""
    with store.read() as reader:
        batch = BookBatch(store, root, template, run_id, reader, book=book, size=1)
        return batch.add(incoming)  # a batch of one is recorded before `add` returns


class BookBatch:
    """Documents of one book (and one run), committed `size` at a time; see the module doc."""

    def __init__(
        self,
        store: Store,
        root: Path,
        template: str,
        run_id: int | None,
        reader: Database,
        *,
        book: records.Book | None = None,
        size: int = BATCH_SIZE,
    ) -> None:
        self.store = store
        self.root = root
        self.base = root.resolve()
        self.template = template
        self.run_id = run_id
        self.reader = reader  # the pull's one read connection
        self.book = book  # the partner feed's book: its cursor moves with the rows
        self.size = size
        self._staged: list[_Staged] = []
        self._folders: set[Path] = set()
        self._paths: dict[object, str] = {}  # key or (company, kind, sha256) -> staged path
        self._done: list[tuple[Incoming, Outcome]] = []  # recorded, not yet taken
        self._files: list[_Pending] = []

    @property
    def pending(self) -> int:
        return len(self._staged)

    def add(self, incoming: Incoming) -> Outcome:
        """Stage one document; its outcome is final, but recorded only at the next flush."""
        digest = hashlib.sha256(incoming.data).hexdigest()
        known = self._known(incoming, digest)
        if known is not None:
            return self._stage(_Staged(incoming, Outcome("skipped", known)))
        try:
            day, statements = validate(incoming.book_kind, incoming.data)
        except formats.InvalidDocument as problem:
            return self._quarantine(incoming, problem)
        target = self._target(incoming, day)
        if target.exists() and not same_bytes(target, digest):
            clash = formats.InvalidDocument(
                N_("Another file with the same name is already in the folder: {file}"),
                file=str(target),
            )
            return self._quarantine(incoming, clash)
        if not target.exists():
            folder = temporary_folder(self.root, incoming.source)
            self._files.append(write_temporary(target, incoming.data, folder))
        # Also a file found already there: a killed pull may have renamed it without the fsync.
        self._folders.add(target.parent)
        relative = target.relative_to(self.base).as_posix()
        staged = _Staged(incoming, Outcome("delivered", relative), digest, day, statements)
        return self._stage(staged)

    def flush(self) -> None:
        """Make the staged files durable, then record them in one transaction."""
        if not self._staged:
            return
        self._stage_archive_copies()
        files, self._files = self._files, []
        settle(files)
        for folder in sorted(self._folders):
            fsync_dir(folder)
        with self.store.write() as db:
            for staged in self._staged:
                self._record(db, staged)
        self._done += [(staged.incoming, staged.outcome) for staged in self._staged]
        self._staged, self._folders, self._paths = [], set(), {}

    def _stage_archive_copies(self) -> None:
        """archive: a copy of each delivered document for `scrada redeliver`, made durable with
        the documents (same fsync pass), so before their rows."""
        copies: dict[Path, bytes] = {}
        for staged in self._staged:
            if staged.outcome.state != "delivered":
                continue
            copy = archive.packed_copy(self.store, staged.incoming.data)
            if copy is not None:
                copies.setdefault(*copy)
        tmp_dir = archive.temporary_folder(self.store)
        for target, packed in copies.items():
            self._files.append(write_temporary(target, packed, tmp_dir))
            self._folders.add(target.parent)

    def take_done(self) -> list[tuple[Incoming, Outcome]]:
        """The documents recorded since the last call (for the source's follow-up)."""
        done, self._done = self._done, []
        return done

    def _stage(self, staged: _Staged) -> Outcome:
        incoming = staged.incoming
        self._staged.append(staged)
        self._paths[incoming.key] = staged.outcome.path
        if staged.digest:
            self._paths[(incoming.company.id, incoming.book_kind, staged.digest)] = (
                staged.outcome.path
            )
        if len(self._staged) >= self.size:
            self.flush()
        return staged.outcome

    def _known(self, incoming: Incoming, digest: str) -> str | None:
        """The path of the same document already delivered, or staged in this batch."""
        content = (incoming.company.id, incoming.book_kind, digest)
        staged = self._paths.get(incoming.key) or self._paths.get(content)
        if staged is not None:
            return staged
        row = records.delivery(self.reader, incoming.key) or records.same_content(
            self.reader, incoming.company.id, incoming.book_kind, digest
        )
        return None if row is None else str(row["path"])

    def _target(self, incoming: Incoming, day: date) -> Path:
        values = PathValues(
            company_number=incoming.company.company_number,
            company_name=incoming.company.name,
            company_id=incoming.company.id,
            book=incoming.book_name,
            book_kind=incoming.book_kind,
            day=day,
        )
        target = target_path(self.root, self.template, values, incoming.document_id)
        return target.with_name(named_for(target.name, incoming.data))

    def _quarantine(self, incoming: Incoming, problem: formats.InvalidDocument) -> Outcome:
        """Rare: recorded at once, after the batch so far (the rows keep their order)."""
        self.flush()
        outcome = quarantine_document(
            self.store, self.root, incoming, self.run_id, self.book, problem
        )
        self._done.append((incoming, outcome))
        return outcome

    def _record(self, db: Database, staged: _Staged) -> None:
        incoming, outcome = staged.incoming, staged.outcome
        if outcome.state == "delivered" and staged.day is not None:
            records.record_delivery(
                db,
                incoming.key,
                state="delivered",
                path=outcome.path,
                sha256=staged.digest,
                size=len(incoming.data),
                document_date=staged.day.isoformat(),
                source=incoming.source,
                run_id=self.run_id,
            )
            # Continuity sees exactly the statements delivered: same transaction as their row.
            for facts in staged.statements:
                continuity.record_statement(db, facts, incoming.company.id)
        if self.book is not None and incoming.sequence is not None:
            records.advance_cursor(db, self.book, incoming.sequence)
        trace(db, incoming, self.run_id, outcome.state, outcome.path)


def write_temporary(target: Path, data: bytes, tmp_dir: Path) -> _Pending:
    """The bytes in a temporary file of `tmp_dir` (same file system as `target`), still open:
    `settle` fsyncs and renames it with the others of its batch."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".tmp", dir=tmp_dir)
    handle = os.fdopen(fd, "wb")
    try:
        handle.write(data)
        handle.flush()
    except BaseException:
        handle.close()
        Path(name).unlink(missing_ok=True)
        raise
    return _Pending(handle, Path(name), target)


def settle(files: list[_Pending]) -> None:
    """Every file fsynced, then each renamed to its name (files.atomic_write_bytes, for many):
    a name never points at bytes that are not on disk."""
    try:
        for pending in files:
            os.fsync(pending.handle.fileno())
            pending.handle.close()
        for pending in files:
            replace_file(pending.temporary, pending.target)
    except BaseException:
        for pending in files:
            pending.handle.close()
            with contextlib.suppress(FileNotFoundError):
                pending.temporary.unlink()
        raise
