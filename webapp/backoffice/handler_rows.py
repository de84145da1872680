"""What every import handler shares: the refusal of a row, the batch size, the upsert.

The small kinds are written row by row inside the importer's transaction; the big ones are staged,
then written a chunk at a time by one upsert per chunk (webapp/backoffice/import_apply.py). An
upsert touches a row only when one of its values changed, so re-importing a file leaves unchanged
rows (and their change marks) alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webapp.csvio import ValueProblem

BATCH = 1000


class RowProblem(Exception):
    def __init__(self, column: str | None, message: str, **params: Any) -> None:
        super().__init__(message)
        self.column = column
        self.message = message
        self.params = params

    @classmethod
    def from_value(cls, column: str, problem: ValueProblem) -> RowProblem:
        return cls(column, problem.message, **problem.params)


def upsert_sql(
    table: str,
    conflict: Sequence[str],
    columns: Sequence[str],
    keep: Sequence[str] = (),
    source: str | None = None,
    expressions: Sequence[str] = (),
) -> str:
    """INSERT … ON CONFLICT DO UPDATE of the non-key columns, only where a value differs.

    With `source` (a staging table with the same column names) the rows come from one
    INSERT … SELECT: one statement per batch lets FTS5 index the batch at once, about six times
    faster than a trigger firing statement by statement. `expressions`, one per column, select
    from `source` what is not a column of the same name (a family id found by its code).
    """
    names = ", ".join(columns)
    selected = ", ".join(expressions) if expressions else names
    values = (
        f"SELECT {selected} FROM {source} WHERE true"
        if source
        else ("VALUES (" + ", ".join("?" for _ in columns) + ")")
    )
    changing = [name for name in columns if name not in conflict and name not in keep]
    updates = [name for name in changing if name != "updated_at"]
    sets = ", ".join(f"{name} = excluded.{name}" for name in changing)
    differs = " OR ".join(f"{table}.{name} IS NOT excluded.{name}" for name in updates) or "0"
    return (
        f"INSERT INTO {table} ({names}) {values} "
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets} WHERE {differs}"
    )


def flag(values: dict[str, Any], name: str, default: bool = True) -> int:
    value = values.get(name)
    return int(default if value is None else value)
