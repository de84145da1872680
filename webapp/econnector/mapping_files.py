"""Correspondences in a CSV file (issue 14): one format for every kind, read and written with the
habits of every import (detected encoding, separator and BOM; French defaults on writing).

Columns: `kind;external;variant;internal;label`. `kind` may be left out when the caller says which
kind the file holds (the articles page: articles); `label` is written for the reader's eyes and
ignored on reading. This module reads and checks the lines (RowError: line and column); resolving
the internal codes and writing them is `mapping_import`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from webapp import i18n
from webapp.backoffice.columns import Column, Kind
from webapp.backoffice.row_checks import (
    ImportProblem,
    RowError,
    check_width,
    ignored_columns,
    map_header,
    parse_values,
)
from webapp.csvio import CsvOptions, CsvReader, CsvWriter, WriteFormat, normalise_header
from webapp.econnector.connectors import Connector
from webapp.econnector.mappings import KINDS
from webapp.i18n import N_
from webapp.store import Store

CODE_KINDS = ("vat", "unit", "country")
MAX_ERRORS_KEPT = 500
KIND_NAMES = {
    "article": "article",
    "articles": "article",
    "customer": "customer",
    "customers": "customer",
    "client": "customer",
    "clients": "customer",
    "vat": "vat",
    "tva": "vat",
    "unit": "unit",
    "units": "unit",
    "unite": "unit",
    "unites": "unit",
    "country": "country",
    "countries": "country",
    "pays": "country",
}

COLUMNS = Kind(
    "correspondences",
    N_("Correspondences of a connector, one row per outside code"),
    ("kind", "external", "variant"),
    (
        Column(
            "kind",
            "code",
            N_("article, customer, vat, unit or country; may be left out on a page of one kind"),
            aliases=("type", "nature", "genre"),
            max_length=20,
            example="article",
        ),
        Column(
            "external",
            "code",
            N_("The code in the other program"),
            required=True,
            not_empty=True,
            aliases=("outside_code", "external_code", "code_externe", "code_exterieur"),
            max_length=100,
            example="P-VR1",
        ),
        Column(
            "variant",
            "code",
            N_("The variant code in the other program (articles only)"),
            aliases=("variant_code", "variante", "code_variante"),
            max_length=100,
            example="75CL",
        ),
        Column(
            "internal",
            "code",
            N_("The code in Relais: article, customer, VAT rate, unit or country code"),
            required=True,
            not_empty=True,
            aliases=(
                "internal_code",
                "code_relais",
                "code_interne",
                "code",
                "code_article",
                "article_code",
                "code_client",
                "customer_code",
            ),
            max_length=100,
            example="VR1",
        ),
        Column(
            "label",
            "text",
            N_("What the code in Relais names (written on export, ignored on import)"),
            aliases=("libelle", "designation", "name", "nom"),
            example="Bourgogne rouge",
        ),
    ),
)
HEADER = [column.name for column in COLUMNS.columns]


@dataclass(frozen=True)
class MappingLine:
    """One checked line of a correspondence file."""

    line: int
    kind: str
    external: str
    variant: str
    internal: str


@dataclass
class MappingFile:
    """What reading a file gave: its good lines, its bad ones, how it was read."""

    lines: list[MappingLine] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    rows: int = 0
    format: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)

    def add_error(self, error: RowError) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(error)


@lru_cache(maxsize=64)  # a file says the same few kinds on every line
def parse_kind(raw: str) -> str | None:
    return KIND_NAMES.get(normalise_header(raw))


def read_mapping_file(
    path: Path, options: CsvOptions | None = None, default_kind: str | None = None
) -> MappingFile:
    """The file's lines, checked one by one and against each other (an outside code given twice).

    Raises CsvError (unreadable file) or ImportProblem (header): then nothing can be said per line.
    """
    if default_kind is not None and default_kind not in KINDS:
        raise ImportProblem(N_("Unknown kind of correspondence {kind}."), kind=default_kind)
    result = MappingFile()
    with CsvReader(path, options) as reader:
        fields = map_header(COLUMNS, reader)
        names = {item.name for item in fields}
        if "kind" not in names and default_kind is None:
            raise ImportProblem(
                N_(
                    "The header (line {line}) has no kind column: say on each line whether it is"
                    " an article, customer, vat, unit or country."
                ),
                line=reader.header_line,
            )
        result.format = reader.format.describe()
        result.ignored_columns = ignored_columns(reader, fields)
        fields = [item for item in fields if item.name != "label"]  # for the reader's eyes only
        seen: dict[tuple[str, str, str], int] = {}
        width = len(reader.header)
        for record in reader:
            result.rows += 1
            problems = check_width(record.line, record.values, width)
            values: dict[str, Any] = {}
            if not problems:
                problems = parse_values(record.line, record.values, fields, values)
            line = None if problems else _line(record.line, values, default_kind, problems)
            if line is not None:
                _check_duplicate(line, seen, problems)
            for problem in problems:
                result.add_error(problem)
            if line is not None and not problems:
                result.lines.append(line)
    return result


def _line(
    number: int, values: dict[str, Any], default_kind: str | None, problems: list[RowError]
) -> MappingLine | None:
    raw_kind = values.get("kind") or ""
    kind = parse_kind(raw_kind) if raw_kind else default_kind
    if kind is None:
        message = N_(
            "{value} is not a kind of correspondence (article, customer, vat, unit or country)"
        )
        if not raw_kind:
            message = N_("is empty")
        problems.append(RowError(number, "kind", message, {"value": raw_kind}))
        return None
    variant = values.get("variant") or ""
    if variant and kind != "article":
        problems.append(RowError(number, "variant", N_("only an article has a variant"), {}))
        return None
    return MappingLine(number, kind, values["external"], variant, values["internal"])


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _check_duplicate(
    line: MappingLine, seen: dict[tuple[str, str, str], int], problems: list[RowError]
) -> None:
    """An outside code twice in one file: articles and customers match it exactly, VAT codes,
    units and countries without regard to (ASCII) case, as the database does."""
    external = line.external.translate(_ASCII_LOWER) if line.kind in CODE_KINDS else line.external
    key = (line.kind, external, line.variant)
    first = seen.setdefault(key, line.line)
    if first != line.line:
        shown = f"{line.external} / {line.variant}" if line.variant else line.external
        problems.append(
            RowError(
                line.line,
                "external",
                N_("{value} is already on line {first} of this file"),
                {"value": shown, "first": first},
            )
        )


# -- export ----------------------------------------------------------------------------------------


def export_rows(store: Store, connector: Connector, kinds: Iterable[str]) -> Iterator[list[str]]:
    """The connector's correspondences of `kinds`, as the file's rows (HEADER's order)."""
    wanted = set(kinds)
    name = "name_fr" if i18n.current_language() == "fr" else "name_en"
    queries = [
        (
            "article",
            "SELECT 'article', m.external_code, m.variant_code, a.code, a.label"
            " FROM connector_articles m JOIN articles a ON a.id = m.article_id"
            " WHERE m.connector_id = ? ORDER BY m.external_code, m.variant_code",
        ),
        (
            "customer",
            "SELECT 'customer', m.external_ref, '', p.code, trim(CASE WHEN p.company != ''"
            " THEN p.company ELSE p.last_name || ' ' || p.first_name END)"
            " FROM connector_customers m JOIN parties p ON p.id = m.party_id"
            " WHERE m.connector_id = ? ORDER BY m.external_ref",
        ),
        (
            "codes",
            "SELECT m.kind, m.external, '', m.internal, coalesce(v.label, u.label, c."
            + name
            + ", '') FROM connector_codes m"
            " LEFT JOIN vat_rates v ON m.kind = 'vat' AND v.code = m.internal"
            " LEFT JOIN units u ON m.kind = 'unit' AND u.code = m.internal"
            " LEFT JOIN countries c ON m.kind = 'country' AND c.code = m.internal"
            " WHERE m.connector_id = ? ORDER BY m.kind, m.external",
        ),
    ]
    with store.read() as db:
        for kind, sql in queries:
            if kind in wanted or (kind == "codes" and wanted & set(CODE_KINDS)):
                for row in db.execute(sql, [connector.id]):
                    if row[0] in wanted:
                        yield [str(value) for value in row]


def export_mapping_file(
    store: Store,
    connector: Connector,
    path: Path,
    kinds: Iterable[str] = KINDS,
    fmt: WriteFormat | None = None,
) -> int:
    """Write the correspondences of `kinds` to `path` (atomically); returns the rows written."""
    with CsvWriter(path, fmt) as writer:
        writer.header(HEADER)
        for row in export_rows(store, connector, kinds):
            writer.row(row)
    return writer.rows
