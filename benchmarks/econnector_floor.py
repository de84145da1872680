"""The store's floor of a reception, for benchmarks/econnector.py: what SQLite costs on its own
for the rows an integration wrote, beside which a step's figure tells the program's own work.

The rows the integration added (its database after, against a copy taken just before it) are
inserted again by executemany into that copy: the same tables with their indexes, foreign keys
and triggers (the customers' full-text rows and change log are made by the triggers), the
documents with their lines, payments and links in as many transactions as the integration took. The rows are read and grouped before the clock starts: only the inserts
and the commits are timed. A few rows the integration updated rather than added (its run's
counters, the numbering sequence, the connector's last reception) are left out. Any other table
the integration wrote stops the measure: the floor would leave it out.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

# In the order their foreign keys need; the first three in the first transaction.
FIRST = ("runs", "parties", "connector_customers")
BY_DOCUMENT = ("documents", "document_lines", "document_payments", "connector_documents")
SPREAD = ("run_items",)
# Written by the triggers of the rows above, or rows updated in place (left out).
NOT_INSERTED = ("change_log", "document_sequences", "connectors")

Rows = list[tuple[Any, ...]]


def _added(conn: sqlite3.Connection, table: str) -> tuple[list[str], Rows]:
    columns = [row[1] for row in conn.execute(f"PRAGMA main.table_info({table})")]
    names = ", ".join(columns)
    sql = f"SELECT {names} FROM main.{table} EXCEPT SELECT {names} FROM before.{table}"
    return columns, conn.execute(sql).fetchall()


def _written_tables(conn: sqlite3.Connection) -> list[str]:
    """The ordinary tables whose rows differ (full-text tables and their shadows left out)."""
    tables = conn.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND sql NOT LIKE 'CREATE VIRTUAL%'"
        " AND name NOT IN (SELECT name || suffix FROM main.sqlite_master, (SELECT '_data' AS"
        " suffix UNION SELECT '_idx' UNION SELECT '_docsize' UNION SELECT '_config' UNION SELECT"
        " '_content') WHERE sql LIKE 'CREATE VIRTUAL%')"
    ).fetchall()
    return [name for (name,) in tables if _added(conn, name)[1]]


def _chunks(conn: sqlite3.Connection, count: int) -> list[list[tuple[str, list[str], Rows]]]:
    """The inserts of each of `count` transactions, in order."""
    written = _written_tables(conn)
    unknown = set(written) - {*FIRST, *BY_DOCUMENT, *SPREAD, *NOT_INSERTED}
    if unknown:
        raise RuntimeError(f"the integration wrote {sorted(unknown)}, which the floor leaves out")
    added = {table: _added(conn, table) for table in (*FIRST, *BY_DOCUMENT, *SPREAD)}
    document_ids = sorted(row[0] for row in added["documents"][1])
    count = max(min(count, len(document_ids)), 1)
    place = {doc: index * count // len(document_ids) for index, doc in enumerate(document_ids)}
    chunks: list[list[tuple[str, list[str], Rows]]] = [[] for _ in range(count)]
    for table in FIRST:
        chunks[0].append((table, *added[table]))
    for table in BY_DOCUMENT:
        columns, rows = added[table]
        key = columns.index("id" if table == "documents" else "document_id")
        grouped: defaultdict[int, Rows] = defaultdict(list)
        for row in sorted(rows):
            grouped[place[row[key]]].append(row)
        for index, chunk in enumerate(chunks):
            chunk.append((table, columns, grouped[index]))
    for table in SPREAD:
        columns, rows = added[table]
        for index, chunk in enumerate(chunks):
            part = rows[len(rows) * index // count : len(rows) * (index + 1) // count]
            chunk.append((table, columns, part))
    return chunks


def step_floor(after: Path, before: Path, transactions: int) -> dict[str, Any]:
    """Insert again into `before` (changed) what the integration added in `after`, in
    `transactions` transactions; timed."""
    reader = sqlite3.connect(after)
    reader.execute("ATTACH ? AS before", [str(before)])
    chunks = _chunks(reader, transactions)
    reader.close()
    conn = sqlite3.connect(before, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")  # as the store's connections
    rows = 0
    started, cpu = time.perf_counter(), time.process_time()
    for chunk in chunks:
        conn.execute("BEGIN IMMEDIATE")
        for table, columns, values in chunk:
            marks = ", ".join("?" for _ in columns)
            conn.executemany(
                f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({marks})", values
            )
            rows += len(values)
        conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return {"seconds": seconds, "cpu": cpu, "rows": rows, "transactions": len(chunks)}
