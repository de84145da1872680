"""Mapping by identical code (issue 14): the outside article codes that equal an article's code (or
its barcode) in Relais are mapped in one action, a web shop of 5,000 products at once.

The outside codes come from a list the user gives or from the files waiting in the connector's
import folder (orders refused for want of a correspondence). With a variant, the variant code is
the one compared (a shop's combination reference is the article's own code); else the article
code. A code already mapped is left as it is; a barcode shared by two articles maps nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webapp.csvio import CsvError, CsvReader
from webapp.econnector.connectors import Connector
from webapp.store import Store

CHUNK = 2_000
MAX_LISTED = 50


@dataclass
class IdenticalReport:
    given: int = 0
    mapped: int = 0
    already: int = 0
    unmatched: int = 0
    unmatched_codes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def parse_code_list(text: str) -> list[tuple[str, str]]:
    """'P-VR1' or 'P-MI1;500G' per line (tab and comma too): the outside code and its variant."""
    codes: dict[tuple[str, str], None] = {}
    for raw in text.splitlines():
        for separator in (";", "\t", ","):
            if separator in raw:
                external, _sep, variant = raw.partition(separator)
                break
        else:
            external, variant = raw, ""
        if external.strip():
            codes[(external.strip(), variant.strip())] = None
    return list(codes)


def waiting_codes(connector: Connector) -> list[tuple[str, str]]:
    """The distinct (article_ref, variant_ref) of the files waiting in the import folder; a file
    that cannot be read is left to the reception, which reports it."""
    folder = Path(connector.import_dir)
    codes: dict[tuple[str, str], None] = {}
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        with contextlib.suppress(CsvError), CsvReader(path, connector.csv_options()) as reader:
            if "article_ref" not in reader.header:
                continue
            article = reader.header.index("article_ref")
            variant = reader.header.index("variant_ref") if "variant_ref" in reader.header else -1
            for record in reader:
                values = record.values
                external = values[article].strip() if article < len(values) else ""
                chosen = values[variant].strip() if 0 <= variant < len(values) else ""
                if external:
                    codes[(external, chosen)] = None
    return list(codes)


def map_identical(
    store: Store, connector: Connector, codes: Iterable[tuple[str, str]], *, dry_run: bool = False
) -> IdenticalReport:
    """Map every (outside code, variant) whose compared code is an article's code or barcode."""
    staged = list(dict.fromkeys((external.strip(), variant.strip()) for external, variant in codes))
    report = IdenticalReport(given=len(staged))
    with store.read() if dry_run else store.write() as db:
        if dry_run:  # one read transaction, not one per staged code
            db.execute("BEGIN")
        db.execute("DROP TABLE IF EXISTS temp.identical_codes")
        db.execute(
            "CREATE TEMP TABLE identical_codes (external TEXT NOT NULL, variant TEXT NOT NULL,"
            " article_id INTEGER, PRIMARY KEY (external, variant))"
        )
        for start in range(0, len(staged), CHUNK):
            db.conn.executemany(
                "INSERT INTO temp.identical_codes (external, variant, article_id) SELECT ?1, ?2,"
                " coalesce((SELECT id FROM articles WHERE code = ?3),"
                " (SELECT CASE WHEN count(*) = 1 THEN min(id) END FROM articles"
                " WHERE barcode = ?3))",
                [(e, v, v or e) for e, v in staged[start : start + CHUNK]],
            )
        db.execute(
            "DELETE FROM temp.identical_codes WHERE EXISTS (SELECT 1 FROM connector_articles m"
            " WHERE m.connector_id = ? AND m.external_code = identical_codes.external"
            " AND m.variant_code = identical_codes.variant)",
            [connector.id],
        )
        report.already = report.given - _count(db, "1")
        report.mapped = _count(db, "article_id IS NOT NULL")
        report.unmatched = report.given - report.already - report.mapped
        report.unmatched_codes = [
            f"{row[0]} / {row[1]}" if row[1] else str(row[0])
            for row in db.execute(
                "SELECT external, variant FROM temp.identical_codes WHERE article_id IS NULL"
                f" ORDER BY external, variant LIMIT {MAX_LISTED}"
            )
        ]
        if not dry_run:
            db.execute(
                "INSERT INTO connector_articles (connector_id, external_code, variant_code,"
                " article_id) SELECT ?, external, variant, article_id FROM temp.identical_codes"
                " WHERE article_id IS NOT NULL ON CONFLICT DO NOTHING",
                [connector.id],
            )
        db.execute("DROP TABLE temp.identical_codes")
        if dry_run:
            db.execute("COMMIT")
    return report


def _count(db: Any, condition: str) -> int:
    row = db.execute(f"SELECT count(*) FROM temp.identical_codes WHERE {condition}").fetchone()
    return int(row[0])
