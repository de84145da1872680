"""Checking an import's rows: the header mapped to the kind's columns, each value parsed, a key
given twice in one file found. What is wrong is a RowError (line, column, msgid); the writing of
the good rows is the importer's (webapp/backoffice/importer.py).

The e-connecteur reads its files with the same rules (map_header, parse_values).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webapp.backoffice.column_values import value_parser
from webapp.backoffice.columns import Column, Kind
from webapp.csvio import CsvReader, ValueProblem
from webapp.i18n import N_, UserError, gettext


class ImportProblem(UserError):
    """The import cannot start: unknown kind, missing or doubled columns."""

    def __init__(self, message: str, *, line: int | None = None, **params: Any) -> None:
        if line is not None:
            params["line"] = line
        super().__init__(message, **params)
        self.line = line


@dataclass
class RowError:
    line: int
    column: str | None
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def translated(self) -> str:
        text = gettext(self.message, **self.params)
        if self.column:
            return gettext(
                "line {line}, column {column}: {problem}",
                line=self.line,
                column=self.column,
                problem=text,
            )
        return gettext("line {line}: {problem}", line=self.line, problem=text)

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.translated()}


@dataclass(frozen=True)
class Field:
    name: str
    index: int
    column: Column
    parse: Callable[[str], Any]


def _no_extra(_header: str) -> Column | None:
    return None


def map_header(
    kind: Kind, reader: CsvReader, extra: Callable[[str], Column | None] = _no_extra
) -> list[Field]:
    """The columns of `reader` that `kind` knows (or `extra` adds), with their parsers;
    ImportProblem if one is doubled or a required one missing."""
    by_alias: dict[str, Column] = {}
    for defined in kind.columns:
        for name in (defined.name, *defined.aliases):
            by_alias.setdefault(name, defined)
    fields: list[Field] = []
    seen: dict[str, int] = {}
    for index, header in enumerate(reader.header):
        column = by_alias.get(header) or extra(header)
        if column is None:
            continue
        if column.name in seen:
            raise ImportProblem(
                "The columns {first} and {second} both give {column}: keep only one.",
                line=reader.header_line,
                first=reader.raw_header[seen[column.name]],
                second=reader.raw_header[index],
                column=column.name,
            )
        seen[column.name] = index
        fields.append(Field(column.name, index, column, value_parser(column, reader.format)))
    missing = [
        column.name for column in kind.columns if column.required and column.name not in seen
    ]
    if missing:
        raise ImportProblem(
            "Required columns are missing from the header (line {line}): {columns}. The header"
            " names: {found}.",
            line=reader.header_line,
            columns=", ".join(missing),
            found=", ".join(name for name in reader.raw_header if name) or "-",
        )
    return fields


def ignored_columns(reader: CsvReader, fields: list[Field]) -> list[str]:
    used = {item.index for item in fields}
    return [name for index, name in enumerate(reader.raw_header) if index not in used and name]


@dataclass
class Row:
    line: int
    values: dict[str, Any]
    problems: list[RowError]


def check_width(line: int, values: list[str], width: int) -> list[RowError]:
    if len(values) > width and any(value.strip() for value in values[width:]):
        return [
            RowError(
                line,
                None,
                N_(
                    "{count} values where the header has {width} columns (a separator inside"
                    " a value must be put between quotes)"
                ),
                {"count": len(values), "width": width},
            )
        ]
    if len(values) < width:
        return [
            RowError(
                line,
                None,
                N_("{count} values where the header has {width} columns"),
                {"count": len(values), "width": width},
            )
        ]
    return []


def parse_values(
    line: int, raw_values: list[str], fields: list[Field], values: dict[str, Any]
) -> list[RowError]:
    problems: list[RowError] = []
    for item in fields:
        raw = raw_values[item.index]
        if not raw or raw.isspace():
            if item.column.not_empty:
                problems.append(RowError(line, item.name, N_("is empty"), {}))
            values[item.name] = None
            continue
        try:
            values[item.name] = item.parse(raw)
        except ValueProblem as problem:
            problems.append(RowError(line, item.name, problem.message, problem.params))
    return problems


MEMO_LIMIT = 4096  # distinct texts remembered per column: units, rates, families, small numbers


@dataclass(frozen=True)
class _Refusal:
    message: str
    params: dict[str, Any]
    empty: bool


_UNSEEN = object()
_NO_MEMO: dict[str, Any] = {}  # the memo of a column parsed directly: never written


class _Careful(Exception):
    """The fast pass met a text it has not seen, an empty value or a refusal."""


class ValueParser:
    """parse_values for a whole file, each column's distinct texts parsed once.

    Most columns repeat a few values (units, VAT rates, families, stock counts); their value is
    looked up instead of parsed again. A column whose distinct texts fill its memo (codes,
    labels, prices) is parsed directly from then on. A row is first read in one pass that stops
    at anything unusual (a text not seen yet, an empty value, a refusal); only such a row takes
    the careful pass, which applies the rules of parse_values and names every problem.
    """

    def __init__(self, fields: list[Field]) -> None:
        self.fields: list[tuple[int, str, bool, Callable[[str], Any], dict[str, Any]]] = [
            (item.index, item.name, item.column.not_empty, item.parse, {})
            for item in fields
            if item.column.type != "numbers"  # a list: each row gets its own
        ]
        self.plain = [item for item in fields if item.column.type == "numbers"]
        self.memoized = [(index, name, memo) for index, name, _, _, memo in self.fields]
        self.direct: list[tuple[int, str, Callable[[str], Any]]] = [
            (item.index, item.name, _direct(item.parse, item.column.not_empty))
            for item in self.plain
        ]

    def __call__(self, line: int, raw_values: list[str], values: dict[str, Any]) -> list[RowError]:
        try:
            for index, name, memo in self.memoized:
                values[name] = memo[raw_values[index]]
            for index, name, parse in self.direct:
                values[name] = parse(raw_values[index])
        except (KeyError, ValueProblem, _Careful):
            return self._careful(line, raw_values, values)
        return []

    def _careful(self, line: int, raw_values: list[str], values: dict[str, Any]) -> list[RowError]:
        problems: list[RowError] = []
        for field_index, (index, name, not_empty, parse, memo) in enumerate(self.fields):
            raw = raw_values[index]
            found = memo.get(raw, _UNSEEN)
            if found is _UNSEEN:
                found = _outcome(raw, not_empty, parse)
                if type(found) is not _Refusal and memo is not _NO_MEMO:
                    memo[raw] = found
                    if len(memo) >= MEMO_LIMIT:
                        self._parse_directly(field_index)
            if type(found) is _Refusal:
                if found.empty:
                    values[name] = None
                if found.message:
                    problems.append(RowError(line, name, found.message, dict(found.params)))
            else:
                values[name] = found
        if self.plain:
            problems += parse_values(line, raw_values, self.plain, values)
        return problems

    def _parse_directly(self, field_index: int) -> None:
        """A column of many distinct texts: parsed each time, no longer looked up."""
        index, name, not_empty, parse, _memo = self.fields[field_index]
        self.fields[field_index] = (index, name, not_empty, parse, _NO_MEMO)
        self.memoized = [entry for entry in self.memoized if entry[1] != name]
        self.direct.append((index, name, _direct(parse, not_empty)))


def _direct(parse: Callable[[str], Any], not_empty: bool) -> Callable[[str], Any]:
    """The fast pass's parser of a column: an empty value is None, or a reason to be careful."""

    def direct(raw: str) -> Any:
        if raw and not raw.isspace():
            return parse(raw)
        if not_empty:
            raise _Careful()
        return None

    return direct


def _outcome(raw: str, not_empty: bool, parse: Callable[[str], Any]) -> Any:
    if not raw or raw.isspace():  # an empty optional value is None, remembered as any value
        return _Refusal(N_("is empty"), {}, True) if not_empty else None
    try:
        return parse(raw)
    except ValueProblem as problem:
        return _Refusal(problem.message, problem.params, False)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class KeyTracker:
    """Finds a key given twice in one file, without holding every key in Python's memory.

    Keys go to a temporary table a batch at a time; only a batch that collides with an earlier
    one is checked row by row to name the lines. Case is ignored as SQLite's NOCASE does (ASCII).
    """

    def __init__(self, conn: sqlite3.Connection, kind: Kind) -> None:
        self.conn = conn
        self.key = kind.key
        conn.execute("DROP TABLE IF EXISTS temp.import_keys")
        conn.execute(  # WITHOUT ROWID: one b-tree to insert into, not a table and its index
            "CREATE TEMP TABLE import_keys (key TEXT PRIMARY KEY COLLATE NOCASE, line INTEGER)"
            " WITHOUT ROWID"
        )

    def _key(self, row: Row) -> str | None:
        if len(self.key) == 1:
            value = row.values.get(self.key[0])
            return None if value is None else str(value)
        parts = [row.values.get(name) for name in self.key]
        if any(part is None for part in parts):
            return None
        return "\x1f".join(str(part) for part in parts)

    def check(self, rows: list[Row]) -> None:
        batch: dict[str, Row] = {}
        keys: dict[str, str] = {}
        for row in rows:
            key = self._key(row)
            if key is None:
                continue
            folded = key.translate(_ASCII_LOWER)
            if folded in batch:
                self._duplicate(row, key, batch[folded].line)
            else:
                batch[folded] = row
                keys[folded] = key
        entries = [(keys[folded], row.line) for folded, row in batch.items()]
        self.conn.execute("SAVEPOINT import_keys")
        try:
            self.conn.executemany("INSERT INTO temp.import_keys VALUES (?, ?)", entries)
        except sqlite3.IntegrityError:
            self.conn.execute("ROLLBACK TO import_keys")
            self._one_by_one(list(batch.values()))
        self.conn.execute("RELEASE import_keys")

    def _one_by_one(self, rows: list[Row]) -> None:
        for row in rows:
            key = self._key(row)
            try:
                self.conn.execute("INSERT INTO temp.import_keys VALUES (?, ?)", (key, row.line))
            except sqlite3.IntegrityError:
                first = self.conn.execute(
                    "SELECT line FROM temp.import_keys WHERE key = ?", (key,)
                ).fetchone()
                self._duplicate(row, str(key), int(first[0]))

    def _duplicate(self, row: Row, key: str, first: int) -> None:
        value = key.replace("\x1f", " / ")
        row.problems.append(
            RowError(
                row.line,
                self.key[0],
                N_("{value} is already on line {first} of this file"),
                {"value": value, "first": first},
            )
        )

    def close(self) -> None:
        self.conn.execute("DROP TABLE IF EXISTS temp.import_keys")
