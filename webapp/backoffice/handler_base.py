"""The base of the import handlers: how a kind of row is checked and written, and counted."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from webapp.backoffice.columns import Column
from webapp.backoffice.handler_lookups import Lookups
from webapp.backoffice.handler_rows import Stage
from webapp.csvio import CsvFormat


class Handler:
    table = ""
    count_where = ""
    count_params: tuple[Any, ...] = ()

    def __init__(self, conn: sqlite3.Connection, fmt: CsvFormat) -> None:
        self.conn = conn
        self.format = fmt
        self.lookups = Lookups(conn)
        self.present: set[str] = set()
        self._before = 0
        self.stages: list[Stage] = []

    def stage(self, name: str, columns: Sequence[str]) -> Stage:
        created = Stage(self.conn, name, columns)
        self.stages.append(created)
        return created

    def close(self) -> None:
        for stage in self.stages:
            stage.drop()

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

    def counts(self, valid_rows: int) -> tuple[int, int]:
        created = self._count() - self._before
        return created, max(valid_rows - created, 0)
