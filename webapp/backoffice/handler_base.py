"""The base of the import handlers: how a kind of row is checked and written, and counted."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from webapp.backoffice.columns import Column
from webapp.backoffice.handler_lookups import Lookups
from webapp.backoffice.import_stage import StagedRows
from webapp.csvio import CsvFormat


@dataclass
class Applied:
    """What one applied chunk did: how many of its rows were new, which families it created."""

    created: int
    families: list[str] = field(default_factory=list)


def new_families(
    conn: sqlite3.Connection, chunk: str, table: str, kind: str | None = None
) -> list[str]:
    """Create the families a chunk names that do not exist yet, once each; their references."""
    where = "f.code = c.family" + ("" if kind is None else " AND f.kind = ?")
    params = () if kind is None else (kind,)
    missing = [
        str(row[0])
        for row in conn.execute(
            f"SELECT DISTINCT c.family FROM {chunk} c WHERE c.family IS NOT NULL"
            f" AND NOT EXISTS (SELECT 1 FROM {table} f WHERE {where})",
            params,
        )
    ]
    columns, values = ("code, label", "?, ?") if kind is None else ("kind, code, label", "?, ?, ?")
    conn.executemany(
        f"INSERT INTO {table} ({columns}) VALUES ({values})",
        [(code, code) if kind is None else (kind, code, code) for code in missing],
    )
    return [f"{table}:{code}" for code in missing]


class Handler:
    """Checks rows and writes them. A `bulk` handler only maps rows into its `staged` table on a
    connection of its own; `apply` then writes them chunk by chunk on the writer."""

    table = ""
    bulk = False
    count_where = ""
    count_params: tuple[Any, ...] = ()

    def __init__(self, conn: sqlite3.Connection, fmt: CsvFormat) -> None:
        self.conn = conn
        self.format = fmt
        self.lookups = Lookups(conn)
        self.present: set[str] = set()
        self._before = 0

    def close(self) -> None:
        if self.bulk:
            self.staged.drop()

    @property
    def created_references(self) -> list[str]:
        return self.lookups.created

    def extra_column(self, header: str) -> Column | None:
        return None

    def start(self, present: set[str]) -> None:
        self.present = present
        self._before = self._count()

    def _count(self) -> int:
        where = f" WHERE {self.count_where}" if self.count_where else ""
        row = self.conn.execute(
            f"SELECT count(*) FROM {self.table}{where}", self.count_params
        ).fetchone()
        return int(row[0])

    def row(self, values: dict[str, Any]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Write what is still batched."""

    staged: StagedRows

    def stage_rows(self, columns: Sequence[str]) -> StagedRows:
        """Where a bulk handler keeps its mapped rows until they are applied."""
        self.staged = StagedRows(columns)
        return self.staged

    def apply(self, conn: sqlite3.Connection, chunk: str) -> Applied:
        """Write one chunk of `staged` rows, copied into the table `chunk` of the writer `conn`."""
        raise NotImplementedError

    def counts(self, valid_rows: int) -> tuple[int, int]:
        created = self._count() - self._before
        return created, max(valid_rows - created, 0)
