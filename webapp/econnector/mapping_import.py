"""Importing a correspondence file (issue 14): set-based, all-or-nothing by default.

The checked lines (`mapping_files`) go into a temporary table of a read connection a chunk at a
time; the internal codes are resolved by one join per kind over the whole file (not one query per
line), without holding the write lock. The write is then one transaction of upserts of the
resolved rows: the foreign keys refuse an article or customer deleted since, a VAT rate, unit or
country is checked again, and either refusal rolls the whole file back. The analysis is the same
reading and resolving, without the write: what it finds is what the import would do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from webapp.backoffice.row_checks import ImportProblem, RowError
from webapp.csvio import CsvOptions
from webapp.econnector.connectors import Connector
from webapp.econnector.mapping_files import (
    CODE_KINDS,
    MappingFile,
    read_mapping_file,
)
from webapp.econnector.mappings import KINDS
from webapp.i18n import N_
from webapp.store import Store

CHUNK = 2_000

# Per kind: the table the internal code is looked up in, the join's condition, what it gives.
TARGETS = {
    "article": ("articles", "t.code = s.internal", "t.id"),
    "customer": ("parties", "t.kind = 'customer' AND t.code = s.internal", "t.id"),
    "vat": ("vat_rates", "t.code = s.internal", "t.code"),
    "unit": ("units", "t.code = s.internal", "t.code"),
    "country": ("countries", "t.code = s.internal", "t.code"),
}
UNKNOWN = {
    "article": N_("No article has the code {code}."),
    "customer": N_("No customer has the code {code}."),
    "vat": N_("{code} is not a known internal code."),
    "unit": N_("{code} is not a known internal code."),
    "country": N_("{code} is not a known internal code."),
}
# Per kind: the correspondences it is compared with (for the analysis's counts).
CURRENT = {
    "article": (
        "connector_articles m ON m.connector_id = ? AND m.external_code = s.external"
        " AND m.variant_code = s.variant",
        "m.article_id",
    ),
    "customer": (
        "connector_customers m ON m.connector_id = ? AND m.external_ref = s.external",
        "m.party_id",
    ),
    "code": (
        "connector_codes m ON m.connector_id = ? AND m.kind = s.kind AND m.external = s.external",
        "m.internal",
    ),
}
# Per kind: the upsert of one resolved row (a correspondence that is already right is not touched)
# and the count of the connector's correspondences of that kind.
UPSERTS = {
    "article": "INSERT INTO connector_articles (connector_id, external_code, variant_code,"
    " article_id) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET article_id = excluded.article_id"
    " WHERE article_id != excluded.article_id",
    "customer": "INSERT INTO connector_customers (connector_id, external_ref, party_id)"
    " VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET party_id = excluded.party_id"
    " WHERE party_id != excluded.party_id",
    "code": "INSERT INTO connector_codes (connector_id, external, internal, kind)"
    " VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET internal = excluded.internal"
    " WHERE internal != excluded.internal",
}
COUNTS = {
    "article": "SELECT count(*) FROM connector_articles WHERE connector_id = ?",
    "customer": "SELECT count(*) FROM connector_customers WHERE connector_id = ?",
    "code": "SELECT count(*) FROM connector_codes WHERE connector_id = ? AND kind = ?",
}
RESOLVED = {
    "article": "SELECT s.external, s.variant, t.id FROM {join} WHERE s.kind = 'article'",
    "customer": "SELECT s.external, t.id FROM {join} WHERE s.kind = 'customer'",
    "code": "SELECT s.external, t.code FROM {join} WHERE s.kind = '{kind}'",
}
Resolved = dict[str, list[tuple[Any, ...]]]
T = TypeVar("T")


@dataclass
class MappingReport:
    """What an import (or its analysis) found and did."""

    connector: str
    file: str
    dry_run: bool
    skip_bad: bool = False
    read: MappingFile = field(default_factory=MappingFile)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    committed: bool = False

    @property
    def errors(self) -> list[RowError]:
        return self.read.errors

    @property
    def errors_total(self) -> int:
        return self.read.errors_total

    def total(self, what: str) -> int:
        return sum(count[what] for count in self.counts.values())

    @property
    def imported(self) -> int:
        return self.total("new") + self.total("changed")

    @property
    def can_import(self) -> bool:
        return bool(self.read.lines) and (self.skip_bad or not self.errors_total)

    def as_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "file": self.file,
            "dry_run": self.dry_run,
            "skip_bad": self.skip_bad,
            "committed": self.committed,
            "rows": self.read.rows,
            "format": self.read.format,
            "ignored_columns": self.read.ignored_columns,
            "counts": self.counts,
            "new": self.total("new"),
            "changed": self.total("changed"),
            "unchanged": self.total("unchanged"),
            "rejected": self.errors_total,
            "errors": [error.as_dict() for error in self.errors],
        }


def import_mapping_file(
    store: Store,
    connector: Connector,
    path: Path,
    options: CsvOptions | None = None,
    *,
    default_kind: str | None = None,
    dry_run: bool = False,
    skip_bad: bool = False,
) -> MappingReport:
    """Read, check, resolve and (unless `dry_run` or a bad line without `skip_bad`) write the
    file's correspondences in one transaction. CsvError / ImportProblem: the file is unreadable,
    or what it names changed between the resolving and the writing (nothing written)."""
    report = MappingReport(connector.code, Path(path).name, dry_run, skip_bad)
    report.read = read_mapping_file(Path(path), options, default_kind)
    with store.read() as db:
        # This connection is the import's own: its temporary table in memory, its rows tuples,
        # one transaction (one snapshot, and not one per staged row).
        db.execute("PRAGMA temp_store = MEMORY")
        db.conn.row_factory = None
        db.execute("BEGIN")
        resolved = _resolve(db, connector, report)
        db.execute("COMMIT")
    if dry_run or not report.can_import:
        return report
    try:
        with store.write() as db:
            report.counts = _write(db, connector, resolved)
    except sqlite3.IntegrityError as exc:  # a foreign key: the article or customer was deleted
        raise ImportProblem(CHANGED) from exc
    report.committed = True
    return report


CHANGED = N_(
    "Articles, customers or codes changed during the import: nothing was written. Analyse the"
    " file again."
)


def _chunks(lines: list[T]) -> Iterator[list[T]]:
    iterator = iter(lines)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def _resolve(db: Database, connector: Connector, report: MappingReport) -> Resolved:
    """Stage the good lines and refuse those whose internal code is unknown; then count what
    would change (an analysis, or a refused import) or return the resolved rows to write."""
    db.execute("DROP TABLE IF EXISTS temp.mapping_lines")
    db.execute(
        "CREATE TEMP TABLE mapping_lines (line INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
        " external TEXT NOT NULL, variant TEXT NOT NULL, internal TEXT NOT NULL)"
    )
    for chunk in _chunks(report.read.lines):
        db.conn.executemany(
            "INSERT INTO temp.mapping_lines VALUES (?, ?, ?, ?, ?)",
            [(x.line, x.kind, x.external, x.variant, x.internal) for x in chunk],
        )
    unknown = []
    for kind, (table, condition, _key) in TARGETS.items():
        rows = db.execute(
            f"SELECT s.line, s.internal FROM temp.mapping_lines s WHERE s.kind = ?"
            f" AND NOT EXISTS (SELECT 1 FROM {table} t WHERE {condition})",
            [kind],
        ).fetchall()
        unknown += [
            RowError(line, "internal", UNKNOWN[kind], {"code": code}) for line, code in rows
        ]
    for error in sorted(unknown, key=lambda item: item.line):
        report.read.add_error(error)
    if unknown:
        report.read.errors.sort(key=lambda item: item.line)
        bad = {error.line for error in unknown}
        report.read.lines = [line for line in report.read.lines if line.line not in bad]
        db.conn.executemany(
            "DELETE FROM temp.mapping_lines WHERE line = ?", [(line,) for line in bad]
        )
    kinds = [kind for kind in KINDS if kind in {line.kind for line in report.read.lines}]
    resolved: Resolved = {}
    if report.dry_run or not report.can_import:  # what the import would do, or would have done
        report.counts = {kind: _count(db, connector, kind) for kind in kinds}
    else:  # the rows to write; the write counts what it does
        resolved = {
            kind: db.execute(
                RESOLVED[_table_kind(kind)].format(join=_join(kind), kind=kind)
            ).fetchall()
            for kind in kinds
        }
    db.execute("DROP TABLE temp.mapping_lines")
    return resolved


def _join(kind: str) -> str:
    table, condition, _key = TARGETS[kind]
    return f"temp.mapping_lines s JOIN {table} t ON {condition}"


def _count(db: Database, connector: Connector, kind: str) -> dict[str, int]:
    current, value = CURRENT[_table_kind(kind)]
    target = TARGETS[kind][2]
    row = db.execute(
        f"SELECT count(*), count({value}), sum({value} = {target}) FROM {_join(kind)}"
        f" LEFT JOIN {current} WHERE s.kind = ?",
        [connector.id, kind],
    ).fetchone()
    total, existing, same = int(row[0]), int(row[1]), int(row[2] or 0)
    return {"new": total - existing, "changed": existing - same, "unchanged": same}


def _table_kind(kind: str) -> str:
    return "code" if kind in CODE_KINDS else kind


def _write(db: Database, connector: Connector, resolved: Resolved) -> dict[str, dict[str, int]]:
    """Upsert the resolved rows; counted from the table itself, in the transaction."""
    counts = {}
    for kind, rows in resolved.items():
        table_kind = _table_kind(kind)
        extra = [kind] if table_kind == "code" else []
        if table_kind == "code":
            _check_codes(db, kind, {row[1] for row in rows})
        before = _existing(db, table_kind, connector, extra)
        changes = db.conn.total_changes
        for chunk in _chunks(rows):
            db.conn.executemany(
                UPSERTS[table_kind], [(connector.id, *row, *extra) for row in chunk]
            )
        touched = db.conn.total_changes - changes
        new = _existing(db, table_kind, connector, extra) - before
        counts[kind] = {"new": new, "changed": touched - new, "unchanged": len(rows) - touched}
    return counts


def _existing(db: Database, table_kind: str, connector: Connector, extra: list[str]) -> int:
    return int(db.execute(COUNTS[table_kind], [connector.id, *extra]).fetchone()[0])


def _check_codes(db: Database, kind: str, codes: set[str]) -> None:
    """A VAT rate, unit or country deleted since the resolving: no foreign key says it."""
    table = TARGETS[kind][0]
    marks = ", ".join("?" * len(codes))
    found = db.execute(f"SELECT count(*) FROM {table} WHERE code IN ({marks})", list(codes))
    if int(found.fetchone()[0]) != len(codes):
        raise ImportProblem(CHANGED)
