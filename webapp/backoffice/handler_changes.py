"""The full-text rows and change-log rows of a bulk-imported chunk, written set-based.

Per row, the triggers of migrations 0006 and 0009 would write each article's FTS row one
statement at a time (a delete and an insert for an update) and TWO change_log rows per new
article (the article, then its price). During a chunk they are inactive: import_apply.py adds the
row of `bulk_writes` (migration 0018) inside the chunk's transaction and removes it before the
commit, so no other writer ever sees them off. The handler instead notes, before its upsert,
each chunk row's id, found by its key once, or the id its insert will take, and which stored
rows it will update, with the values their FTS entry holds (`ChunkChanges.note`); every later
statement meets the chunk by id; afterwards `ChunkChanges.index` removes the old FTS entries, inserts
the new ones and logs ONE change_log row per item touched. After the commit the FTS index and
the change log's keys are what the triggers would have left.

Every join is a CROSS JOIN, which SQLite keeps in the written order: the chunk's few rows
outside, the big table searched by its index. Left to choose, it scanned the whole articles table
once per chunk for the change log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

BULK_ON = "INSERT INTO bulk_writes (active) VALUES (1)"
BULK_OFF = "DELETE FROM bulk_writes"
TEMP_TABLES = ("import_old", "import_touched")


@dataclass(frozen=True)
class ChunkChanges:
    """How the chunk table `c` meets the stored table `t`, and what indexes and logs the latter."""

    table: str  # articles, parties
    fts: str  # its external-content FTS5 table
    fts_columns: Sequence[str]
    match: str  # the join of a chunk row c with its stored row t
    entity: str | None  # its change_log entity; None: not sent to the registers

    def note(self, conn: sqlite3.Connection, chunk: str, differs: str) -> int:
        """Before the upsert: each chunk row's id (`identify`), then the rows the upsert will
        update (`differs`, a condition on c and t) with their indexed values. Returns how many
        rows it creates."""
        created = self.identify(conn, chunk)
        old = ", ".join(f"t.{name} AS {name}" for name in self.fts_columns)
        conn.execute(
            f"CREATE TEMP TABLE import_old AS SELECT t.id AS id, {old} FROM {chunk} c"
            f" CROSS JOIN {self.table} t ON t.id = c.id WHERE c.new_id IS NULL AND ({differs})"
        )
        conn.execute("CREATE TEMP TABLE import_touched (id INTEGER PRIMARY KEY)")
        return created

    def identify(self, conn: sqlite3.Connection, chunk: str) -> int:
        """Each chunk row's stored id in c.id, found by its key once; a new row gets the id its
        insert takes (the next after the largest, in file order, as SQLite would give) in both
        c.id and c.new_id. Every later statement meets the chunk by id, not by key. Returns how
        many rows are new."""
        conn.execute(
            f"UPDATE {chunk} AS c SET id = (SELECT t.id FROM {self.table} t WHERE {self.match})"
        )
        largest = conn.execute(f"SELECT coalesce(max(id), 0) FROM {self.table}").fetchone()[0]
        new, rows = conn.execute(f"SELECT count(*) - count(id), count(*) FROM {chunk}").fetchone()
        if new == rows:  # rowids 1..n in file order: the ids follow (a first import's chunks)
            conn.execute(f"UPDATE {chunk} SET id = ? + rowid, new_id = ? + rowid", (largest,) * 2)
        elif new:
            conn.execute(
                f"UPDATE {chunk} AS c SET id = n.id, new_id = n.id FROM (SELECT rowid AS line,"
                f" ? + row_number() OVER (ORDER BY rowid) AS id FROM {chunk} WHERE id IS NULL) n"
                " WHERE c.rowid = n.line",
                (largest,),
            )
        return int(new)

    def touch(self, conn: sqlite3.Connection, select_ids: str, params: Sequence[object]) -> None:
        """Items changed by a write to another table (an article's price): logged once too."""
        conn.execute(f"INSERT OR IGNORE INTO temp.import_touched (id) {select_ids}", params)

    def index(self, conn: sqlite3.Connection, chunk: str) -> None:
        """After the writes: the FTS entries of updated and created rows, then the change log."""
        names = ", ".join(self.fts_columns)
        stored = ", ".join(f"t.{name}" for name in self.fts_columns)
        written = f"SELECT id FROM temp.import_old UNION ALL SELECT new_id FROM {chunk}"
        written += " WHERE new_id IS NOT NULL"
        conn.execute(
            f"INSERT INTO {self.fts} ({self.fts}, rowid, {names})"
            f" SELECT 'delete', id, {names} FROM temp.import_old"
        )
        conn.execute(
            f"INSERT INTO {self.fts} (rowid, {names}) SELECT t.id, {stored}"
            f" FROM ({written}) w CROSS JOIN {self.table} t ON t.id = w.id"
        )
        if self.entity is not None:
            conn.execute(f"INSERT OR IGNORE INTO temp.import_touched (id) {written}")
            conn.execute(
                "INSERT INTO change_log (entity, key, op) SELECT ?, t.code, 'upsert'"
                f" FROM temp.import_touched d CROSS JOIN {self.table} t ON t.id = d.id ORDER BY d.id",
                (self.entity,),
            )
        for name in TEMP_TABLES:
            conn.execute(f"DROP TABLE temp.{name}")


def differs(columns: Sequence[str], expressions: Sequence[str], unchanged: Sequence[str]) -> str:
    """The upsert's condition to update (handler_rows.upsert_sql) as a condition on the stored
    row t and the chunk row: a column differs from the value the upsert would write."""
    values = expressions or [f"c.{name}" for name in columns]
    tests = [
        f"t.{name} IS NOT {value}"
        for name, value in zip(columns, values, strict=True)
        if name not in unchanged
    ]
    return " OR ".join(tests) or "0"
