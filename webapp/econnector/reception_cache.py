"""An analysis's checked documents, kept for the integration that follows it (issue 14).

The analysis reads, resolves and checks each document of a file outside the write lock; the
integration would do it all again. So the analysis spills each chunk's prepared documents to a
file beside the database, and the integration reads them back instead, while nothing they were
checked against changed: the file (its size, time and SHA-256), the connector's settings, the
language of the reasons, the correspondences and small reference tables (hashed) and the articles
(the change log's sequence). Anything else (another file, a correspondence added,
no spill, an analysis that did not reach the file's end) and the integration reads and checks the
file as before. Under the write lock nothing is taken from the spill that the database decides:
integrated before, duplicates, customers and numbers are asked there, chunk by chunk.

The spill is pickled (refusals too: UserError rebuilds itself from its fields): a file this
program wrote in its own data folder, for itself; it is renamed into place only when complete, and
removed by the integration of its file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
from collections.abc import Iterator
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from webapp.backoffice.document_payments import CheckedPayment
from webapp.backoffice.document_types import DocumentError
from webapp.econnector.batch_checks import CheckedReceived, Outcome
from webapp.econnector.batch_plan import Prepared
from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import SourceDocument, SourceLine
from webapp.i18n import current_language
from webapp.store import Store

log = logging.getLogger(__name__)

FOLDER = "reception-cache"
VERSION = 5  # of the spill's layout: a spill of another layout is not read


# What the checks read besides the file, the connector's correspondences and the small tables,
# hashed whole; articles are many, and their change-log sequence tells instead (every article
# written moves it, also in a bulk import: migrations 0009 and 0018).
REFERENCES = (
    "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'",
    "SELECT external_code, variant_code, article_id FROM connector_articles"
    " WHERE connector_id = :connector ORDER BY external_code, variant_code",
    "SELECT kind, external, internal FROM connector_codes WHERE connector_id = :connector"
    " ORDER BY kind, external",
    "SELECT * FROM countries ORDER BY code",
    "SELECT * FROM units ORDER BY id",
    "SELECT * FROM vat_rates ORDER BY id",
    "SELECT * FROM payment_methods ORDER BY id",
)


def _stamp(store: Store, connector: Connector) -> str:
    """The reference data the checks read, as one digest."""
    digest = hashlib.sha256()
    with store.read() as db:
        for sql in REFERENCES:
            rows = db.execute(sql, {"connector": connector.id}).fetchall()
            digest.update(repr([tuple(row) for row in rows]).encode())
    return digest.hexdigest()


def _file_key(path: Path) -> list[Any]:
    status = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return [path.name, status.st_size, status.st_mtime_ns, digest.hexdigest()]


def _key(store: Store, connector: Connector, path: Path) -> str:
    settings = json.dumps(asdict(connector), sort_keys=True, default=str)
    parts = [VERSION, settings, current_language(), _stamp(store, connector), _file_key(path)]
    return json.dumps(parts, default=str)


def _spill_path(store: Store, connector: Connector, path: Path) -> Path:
    name = hashlib.sha256(f"{connector.id}/{path.name}".encode()).hexdigest()[:24]
    return store.path.parent / FOLDER / f"{name}.pickle"


class Spill:
    """The analysis's side: each chunk's prepared documents, then `keep` once the file is done."""

    def __init__(self, store: Store, connector: Connector, path: Path) -> None:
        self.store, self.connector, self.path = store, connector, path
        self.target = _spill_path(store, connector, path)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.key = _key(store, connector, path)
        self.temporary = self.target.with_suffix(f".{os.getpid()}.part")
        self.handle: IO[bytes] = self.temporary.open("wb")
        pickle.dump(self.key, self.handle)

    def add(self, prepared: list[Prepared]) -> None:
        """A chunk more; a spill that cannot be written (a full disk) is dropped, and the
        analysis goes on without it: the integration will read the file."""
        if self.handle.closed:
            return
        try:
            chunk = [_pickled(item) for item in prepared]
            self.handle.write(pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
        except (OSError, pickle.PicklingError) as exc:
            log.warning(
                "connector %s: the spill of %s dropped: %s",
                self.connector.code,
                self.path.name,
                exc,
            )
            self.drop()

    def keep(self) -> None:
        """The file was read to its end: the spill is kept when nothing changed meanwhile."""
        if self.handle.closed:
            return
        try:
            self.handle.close()
            if _key(self.store, self.connector, self.path) == self.key:
                os.replace(self.temporary, self.target)
                return
        except OSError as exc:
            log.warning(
                "connector %s: the spill of %s not kept: %s",
                self.connector.code,
                self.path.name,
                exc,
            )
        self.drop()

    def drop(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()
            self.temporary.unlink()


def start(store: Store, connector: Connector, path: Path) -> Spill | None:
    """A spill for the analysis of `path`; None when it cannot be written (then nothing is kept)."""
    try:
        return Spill(store, connector, path)
    except OSError as exc:
        log.warning("connector %s: no spill for %s: %s", connector.code, path.name, exc)
        return None


def checked(store: Store, connector: Connector, path: Path) -> Iterator[Prepared] | None:
    """The analysis's prepared documents of `path`, in file order, when they still hold; None
    when the integration must read and check the file itself."""
    target = _spill_path(store, connector, path)
    try:
        handle = target.open("rb")
    except OSError:
        return None
    try:
        if pickle.load(handle) != _key(store, connector, path):
            handle.close()
            return None
    except Exception:  # a spill of an older program, or damaged: read the file again
        log.warning("connector %s: the spill of %s is not read", connector.code, path.name)
        handle.close()
        return None
    return _items(handle)


class _Numbers(dict[str, Decimal]):
    """Each distinct amount's text → its Decimal, made once (a dict that fills itself: no
    function call per amount read)."""

    def __missing__(self, text: str) -> Decimal:
        value = self[text] = Decimal(text)
        return value


def _items(handle: IO[bytes]) -> Iterator[Prepared]:
    numbers = _Numbers()
    with handle:
        while True:
            try:
                chunk: list[bytes] = pickle.load(handle)
            except EOFError:
                return
            if len(numbers) > NUMBERS_KEPT:
                numbers.clear()
            for document in chunk:
                yield _decoded(pickle.loads(document), numbers)


# -- a prepared document as plain values -------------------------------------------------------
# Pickling dataclasses and Decimals line by line costs as much as reading and checking the file
# again: each document is kept as tuples of text and numbers instead, its Decimals as their text
# (read back exactly, exponent included). What the integration does not use is left out: the
# resolved lines (the checks' input; their result is the outcome).

NUMBERS_KEPT = 65_536


def _pickled(item: Prepared) -> bytes:
    """One document alone: a chunk read back is then a list of bytes, which the collector does
    not walk, and each document is decoded only when the integration takes it. (Decoded a chunk
    at a time, the documents waiting for the next chunk were tens of thousands of containers
    that every young collection between chunks walked: a tenth of an integration.)"""
    return pickle.dumps(_encoded(item), pickle.HIGHEST_PROTOCOL)


def _encoded(item: Prepared) -> tuple[Any, ...]:
    document = item.document
    lines = [
        (
            line.line,
            line.line_no,
            line.article_ref,
            line.variant_ref,
            line.label,
            str(line.quantity),
            line.unit,
            str(line.unit_price_incl_vat),
            line.vat_code,
        )
        for line in document.lines
    ]
    position = {id(line): index for index, line in enumerate(document.lines)}
    unmapped = [position[id(line)] for line in item.articles]
    head = (document.doc_ref, document.file, document.first_line, document.header)
    outcome = None if item.outcome is None else (item.outcome.before, _after(item.outcome.after))
    return (
        head,
        document.problems,
        (pickle.dumps(lines, pickle.HIGHEST_PROTOCOL), len(lines)),  # read when asked for
        item.reasons,
        item.country,
        unmapped,
        item.codes,
        outcome,
        item.already,
    )


def _after(after: CheckedReceived | DocumentError | None) -> Any:
    if not isinstance(after, CheckedReceived):
        return after
    payments = [(p.method_id, str(p.amount), p.paid_on) for p in after.payments]
    return (
        after.doc_date,
        after.lines,
        payments,
        str(after.total_excl_vat),
        str(after.total_incl_vat),
    )


class SpilledDocument(SourceDocument):
    """A document read back from a spill, its lines made only when they are read. The batch
    path counts them (line_count) and writes the checked lines; only a replay, or a document
    with unmapped articles, reads them. (Made and freed for every document, they were a tenth of
    an integration.)"""

    def __init__(
        self,
        head: tuple[Any, ...],
        problems: list[str],
        lines: tuple[bytes, int],
        numbers: _Numbers,
    ) -> None:
        # SourceDocument's own __init__ only sets its fields; its `lines` would be made here.
        self.doc_ref, self.file, self.first_line, self.header = head
        self.problems = problems
        self._spilled, self._count = lines
        self._numbers = numbers
        self._made: list[SourceLine] | None = None

    @property
    def lines(self) -> list[SourceLine]:
        if self._made is None:
            self._made = [
                SourceLine(at, no, article, variant, label, self._numbers[quantity], unit,
                           self._numbers[price], vat)
                for at, no, article, variant, label, quantity, unit, price, vat
                in pickle.loads(self._spilled)
            ]  # fmt: skip
        return self._made

    @lines.setter
    def lines(self, lines: list[SourceLine]) -> None:
        self._made = lines

    @property
    def line_count(self) -> int:
        return self._count if self._made is None else len(self._made)


def _decoded(encoded: tuple[Any, ...], numbers: _Numbers) -> Prepared:
    head, problems, lines, reasons, country, unmapped, codes, outcome, already = encoded
    document = SpilledDocument(head, problems, lines, numbers)
    prepared = Prepared(document, [], reasons, country, already=already)
    if unmapped:  # reported with their lines
        prepared.articles = [document.lines[index] for index in unmapped]
    prepared.codes = codes
    if outcome is not None:
        before, after = outcome
        if isinstance(after, tuple):
            doc_date, checked_lines, payments, excl, incl = after
            paid = [CheckedPayment(m, Decimal(amount), on) for m, amount, on in payments]
            after = CheckedReceived(doc_date, checked_lines, paid, Decimal(excl), Decimal(incl))
        prepared.outcome = Outcome(before, after)
    return prepared


def forget(store: Store, connector: Connector, path: Path) -> None:
    """The file was integrated (or read again): its spill, if any, is of no more use."""
    with contextlib.suppress(OSError):
        _spill_path(store, connector, path).unlink()
