"""The documents of a reception through the analysis or the integration (ECN-6), chunk by chunk.

One loop for every source of documents: the CSV import folder (webapp/econnector/receive.py) and a
PrestaShop shop's orders (webapp/econnector/prestashop/receive.py). Each chunk is read and resolved
outside the write lock, then written in one short transaction, committed, or rolled back for an
analysis (what it did is carried to the next chunks, so the analysis announces what the
integration does). `progress` is called once a chunk is done, i.e. committed for an integration.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable

from webapp import collection
from webapp.econnector import batch
from webapp.econnector.batch_checks import ReferenceAnswers
from webapp.econnector.batch_customers import Pending
from webapp.econnector.batch_plan import Prepared
from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import SourceDocument
from webapp.econnector.reception_cache import Spill
from webapp.econnector.report import Choices, ReceiveReport
from webapp.store import Store

__all__ = ["receive_checked", "receive_documents"]


class _Rollback(Exception):
    pass


def receive_documents(
    store: Store,
    connector: Connector,
    documents: Iterable[SourceDocument],
    choices: Choices,
    report: ReceiveReport,
    progress: Callable[[int], None] | None,
    spill: Spill | None = None,
) -> None:
    """Chunk by chunk: read and resolved outside the write lock, then one short transaction each,
    committed, or rolled back for an analysis (what it did is carried to the next chunks). An
    analysis may `spill` each chunk's prepared documents for the integration (reception_cache)."""
    pending = Pending()
    answers = ReferenceAnswers()
    sizer = batch.ChunkSizer()
    # One reader for the reception (opening one costs ~10 ms, and chunks are many): it holds no
    # read transaction between its statements, so the chunks' commits and checkpoints go on.
    with store.read() as reader, collection.paused():
        resolver = report.resolver(reader, connector)
        for chunk in batch.chunks(documents, sizer):
            prepared = batch.prepare(reader, resolver, answers, connector, chunk)
            if spill is not None:
                spill.add(prepared)
            held = _chunk(store, connector, prepared, choices, report, pending)
            sizer.took(held, batch.written_lines(prepared))
            del chunk, prepared  # freed now, before the young collection
            collection.between_chunks()
            if progress:
                progress(report.total)


def receive_checked(
    store: Store,
    connector: Connector,
    checked: Iterable[Prepared],
    choices: Choices,
    report: ReceiveReport,
    progress: Callable[[int], None] | None,
) -> None:
    """The integration of documents its analysis read and checked (reception_cache), chunked
    again to this integration's own pace: only the transactions are left to do."""
    pending = Pending()
    sizer = batch.ChunkSizer()
    with collection.paused():
        for prepared in batch.chunks(checked, sizer):
            held = _chunk(store, connector, prepared, choices, report, pending)
            sizer.took(held, batch.written_lines(prepared))
            del prepared
            collection.between_chunks()
            if progress:
                progress(report.total)


def _chunk(
    store: Store,
    connector: Connector,
    prepared: list[Prepared],
    choices: Choices,
    report: ReceiveReport,
    pending: Pending,
) -> float:
    """The chunk's transaction, committed, or rolled back for an analysis (what it did is
    carried to the next chunks); returns how long it held the write lock (seconds)."""
    started = time.perf_counter()
    # No collection inside the transaction (a full one would hold the write lock as long).
    with collection.paused(), contextlib.suppress(_Rollback), store.write() as db:
        started = time.perf_counter()  # the lock is held from here
        if report.analyse_only:
            # The chunk refers to customers earlier chunks created then rolled back.
            db.execute("PRAGMA defer_foreign_keys = ON")
        layer = batch.integrate_chunk(db, connector, prepared, choices, report, pending)
        if report.analyse_only:
            pending.absorb(layer)
            raise _Rollback()
    return time.perf_counter() - started
