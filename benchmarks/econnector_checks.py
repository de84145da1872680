"""What a reception costs before it writes, for benchmarks/econnector.py: the file read and its
documents checked, as an analysis does them, without a transaction.

The documents go through the functions the analysis and the single receive call outside the write
lock (webapp/econnector/receive_documents.py): read_documents, then batch.prepare per chunk (the
outside codes resolved, check_document's rules), with the collector paused as there. Nothing is
written. With the store floor (econnector_floor.py), it gives the least a reception could take
while each step keeps its rules: a single receive reads, checks and writes once (checks + floor);
the analysis is a dry run of the integration's own path, so it writes and rolls back, and the
integration writes again (checks + 2 × floor), even one that would not read the file again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def step_checks(data: Path) -> dict[str, Any]:
    from econnector_data import shop_services

    from webapp import collection
    from webapp.econnector import batch, connectors
    from webapp.econnector.batch_checks import ReferenceAnswers
    from webapp.econnector.inbox import read_documents, ready_files
    from webapp.econnector.report import ReceiveReport

    services = shop_services(data)
    try:
        store = services.store
        connector = connectors.get(store, "WEB")
        paths, _waiting = ready_files(Path(connector.import_dir), 0)
        started, cpu = time.perf_counter(), time.process_time()
        documents = 0
        report = ReceiveReport(connector.code, True)
        answers, sizer = ReferenceAnswers(), batch.ChunkSizer()
        sizer.lines = batch.MAX_LINES  # the size the integration's chunks grow to
        with store.read() as reader, collection.paused():
            resolver = report.resolver(reader, connector)
            for path in paths:
                for chunk in batch.chunks(read_documents(path, connector), sizer):
                    prepared = batch.prepare(reader, resolver, answers, connector, chunk)
                    documents += len(prepared)
                    del chunk, prepared
                    collection.between_chunks()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        services.close()
    return {"seconds": seconds, "cpu": cpu, "documents": documents}
