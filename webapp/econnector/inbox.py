"""The import folder (ECN-5, ECN-6): which files are ready, their documents read line by line,
and what the sync screen says of a connector (files waiting, their volume, errors to resolve)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

from webapp import history_queries
from webapp.backoffice.importer import RowError, map_header
from webapp.csvio import CsvError, CsvReader
from webapp.csvvalues import ValueProblem
from webapp.econnector.columns import DOCUMENTS
from webapp.econnector.connectors import Connector
from webapp.econnector.inbox_lines import KnownLines, line_values
from webapp.files import replace_file
from webapp.i18n import N_, UserError, gettext
from webapp.store import Store

SETTLE_SECONDS = 2.0

CUSTOMER_FIELDS = (
    "customer_ref",
    "last_name",
    "first_name",
    "company",
    "email",
    "address",
    "postcode",
    "city",
    "country",
)

DOCUMENT_FIELDS = ("doc_date", "payment_method", "total_incl_vat", *CUSTOMER_FIELDS)

TIERS = ((100, N_("100 documents")), (500, N_("500 documents")), (999, N_("< 1000 documents")))

TIER_ABOVE = N_("> 1000 documents")

COUNT_LIMIT = 1001  # enough to say "> 1000": a huge file is not read to its end


@dataclass(slots=True)
class SourceLine:
    line: int
    line_no: int
    article_ref: str
    variant_ref: str
    label: str
    quantity: Decimal
    unit: str
    unit_price_incl_vat: Decimal
    vat_code: str


@dataclass
class SourceDocument:
    doc_ref: str
    file: str
    first_line: int
    header: dict[str, Any]
    lines: list[SourceLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        """How many lines: what a chunk's size is counted in (a spilled document's lines are
        made only when read, reception_cache.SpilledDocument)."""
        return len(self.lines)

    @cached_property
    def customer_name(self) -> str:
        names = [self.header.get("first_name") or "", self.header.get("last_name") or ""]
        return " ".join(part for part in names if part) or str(self.header.get("company") or "")


# -- reading -----------------------------------------------------------------------------------


def ready_files(folder: Path, settle: float = SETTLE_SECONDS) -> tuple[list[Path], list[Path]]:
    """(files to read, files still being written) among the folder's *.csv, oldest first."""
    ready, waiting = [], []
    now = time.time()
    for path in sorted(folder.glob("*.csv"), key=lambda item: (item.stat().st_mtime, item.name)):
        first = path.stat()
        if now - first.st_mtime < settle:
            waiting.append(path)
            continue
        ready.append(path)
    return ready, waiting


def read_documents(path: Path, connector: Connector) -> Iterator[SourceDocument]:
    """The file's documents, each from its consecutive lines, streamed."""
    with CsvReader(
        path,
        connector.csv_options(),
        decimal_columns=DOCUMENTS.decimal_columns,
        date_columns=DOCUMENTS.date_columns,
    ) as reader:
        fields = map_header(DOCUMENTS, reader)
        width = len(reader.header)
        # The document's own columns repeat on each of its lines: parsed on its first line, then
        # only compared as text (a third of the reading time on a 10-line document).
        header_fields = [item for item in fields if item.name in (*DOCUMENT_FIELDS, "doc_ref")]
        line_fields = [item for item in fields if item not in header_fields]
        ref_index = next(item.index for item in fields if item.name == "doc_ref")
        memo = _Memo(fields)
        all_pairs, line_pairs = memo.pairs(fields), memo.pairs(line_fields)
        current: SourceDocument | None = None
        current_ref, first_cells = "", list[str]()  # the document's reference and first line
        header_raw: tuple[str, ...] = ()
        pick_header = _picker([item.index for item in header_fields])
        seen: set[str] = set()
        known = KnownLines.of(line_fields, SourceLine)
        for record in reader:
            cells = record.values
            raw_ref = cells[ref_index].strip() if ref_index < len(cells) else ""
            same = current is not None and raw_ref == current_ref and raw_ref
            # The document's columns as on its first line, every cell known valid: the line at
            # once (inbox_lines); else cell by cell below, which teaches it.
            if same and known and len(cells) == width and pick_header(cells) == header_raw:
                assert current is not None
                try:
                    current.lines.append(known.line(record.line, cells))
                    continue
                except KeyError:
                    pass
            values: dict[str, Any] = {}
            if same:
                assert current is not None
                problems = _row_problems(
                    record.line, record.values, width, line_pairs, values, memo
                )
                # Unchanged raw text is unchanged trimmed text: the field by field check only
                # when something differs.
                if len(record.values) < width or pick_header(record.values) != header_raw:
                    first = [_raw(first_cells, item.index) for item in header_fields]
                    problems += _header_changes(record.line, record.values, header_fields, first)
            else:
                problems = _row_problems(record.line, record.values, width, all_pairs, values, memo)
                if current is not None:
                    yield current
                doc_ref = str(values.get("doc_ref") or "")
                current = SourceDocument(
                    doc_ref, path.name, record.line, {k: values.get(k) for k in DOCUMENT_FIELDS}
                )
                current_ref, first_cells = raw_ref, record.values
                header_raw = pick_header(record.values) if len(record.values) >= width else ()
                if doc_ref in seen:
                    current.problems.append(
                        gettext(
                            "the lines of document {ref} are not together in the file", ref=doc_ref
                        )
                    )
                seen.add(doc_ref)
            current.problems.extend(problems)
            if not problems:
                _add_line(current, record.line, values)
                if known and len(record.values) == width:
                    known.learn(record.values, values)
        if current is not None:
            yield current


def _picker(indexes: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """The raw texts at `indexes`, as one tuple to compare."""
    if len(indexes) > 1:  # itemgetter of several indexes gives a tuple
        return cast("Callable[[list[str]], tuple[str, ...]]", itemgetter(*indexes))
    return lambda values: tuple(values[index] for index in indexes)


class _Problem:
    """A field's refusal, kept for the same raw text met again."""

    __slots__ = ("message", "params")

    def __init__(self, message: str, params: dict[str, Any]) -> None:
        self.message = message
        self.params = params


_EMPTY = object()

# A field read from a line: (its index, its name, the field, its memo of raw text → parse).
Pair = tuple[int, str, Any, dict[str, Any]]


class _Memo:
    """Each field's parse of a raw text, asked once per distinct text (a file repeats its VAT
    codes, quantities, prices and customers); bounded, so memory stays flat in the file size.
    Field.parse is a function of the raw text alone, so the answer is the same as asking again."""

    LIMIT = 8192

    def __init__(self, fields: list[Any]) -> None:
        self.known: dict[int, dict[str, Any]] = {item.index: {} for item in fields}

    def pairs(self, fields: list[Any]) -> list[Pair]:
        return [(item.index, item.name, item, self.known[item.index]) for item in fields]

    def add(self, item: Any, known: dict[str, Any], raw: str) -> Any:
        found = self._parse(item, raw)
        if item.name == "doc_ref":  # one per document: never met again
            return found
        if len(known) >= self.LIMIT:
            known.clear()
        known[raw] = found
        return found

    @staticmethod
    def _parse(item: Any, raw: str) -> Any:
        if not raw or raw.isspace():
            return _Problem(N_("is empty"), {}) if item.column.not_empty else None
        try:
            return item.parse(raw)
        except ValueProblem as problem:
            return _Problem(problem.message, problem.params)


def _raw(values: list[str], index: int) -> str:
    return values[index].strip() if index < len(values) else ""


def _header_changes(
    line: int, raw: list[str], header_fields: list[Any], first: list[str]
) -> list[str]:
    """The document's columns that differ, as text, from its first line."""
    return [
        gettext(
            "line {line}: {column} differs from the document's first line",
            line=line,
            column=item.name,
        )
        for item, expected in zip(header_fields, first, strict=True)
        if _raw(raw, item.index) != expected
    ]


def _row_problems(
    line: int,
    raw: list[str],
    width: int,
    fields: list[Pair],
    values: dict[str, Any],
    memo: _Memo,
) -> list[str]:
    """parse_values' checks, each distinct raw text parsed once (see _Memo)."""
    if len(raw) != width and not (len(raw) > width and not any(v.strip() for v in raw[width:])):
        return [
            gettext(
                "line {line}: {count} values where the header has {width} columns",
                line=line,
                count=len(raw),
                width=width,
            )
        ]
    problems: list[str] = []
    for index, name, item, known in fields:
        text = raw[index]
        found = known.get(text, _EMPTY)
        if found is _EMPTY:
            found = memo.add(item, known, text)
        if type(found) is _Problem:
            problems.append(RowError(line, name, found.message, found.params).translated())
            if found.message == N_("is empty"):
                values[name] = None
        else:
            values[name] = found
    return problems


def _add_line(document: SourceDocument, line: int, values: dict[str, Any]) -> None:
    document.lines.append(SourceLine(line, *line_values(values)))


def file_kind(path: Path, connector: Connector) -> str:
    """'documents' or 'parties', from the header; CsvError for anything else."""
    with CsvReader(path, connector.csv_options()) as reader:
        header = set(reader.header)
    if "doc_ref" in header:
        return "documents"
    if "customer_ref" in header and header & {"kind", "type"}:
        return "parties"
    raise CsvError(
        N_(
            "The file {file} is neither documents (a doc_ref column) nor customers and"
            " suppliers (customer_ref and kind columns)."
        ),
        line=1,
        file=path.name,
    )


def to_bak(path: Path) -> None:
    target = path.with_suffix(".bak")
    number = 1
    while target.exists():
        target = path.with_name(f"{path.stem}.{number}.bak")
        number += 1
    replace_file(path, target)  # retried while the shop's program still holds the file (Windows)


# -- the sync screen ---------------------------------------------------------------------------


def count_documents(path: Path, connector: Connector, limit: int = COUNT_LIMIT) -> int:
    """Documents in one waiting file (up to `limit`); a file that cannot be read counts lines."""
    counted = 0
    try:
        for _document in read_documents(path, connector):
            counted += 1
            if counted >= limit:
                break
        return counted
    except (CsvError, UserError, OSError, ValueError):
        counted = 0
        with contextlib.suppress(OSError), path.open("rb") as handle:
            for _line in handle:
                counted += 1
                if counted > limit:
                    break
        return min(max(counted - 1, 0), limit)


def tier(documents: int) -> str:
    for limit, label in TIERS:
        if documents <= limit:
            return label
    return TIER_ABOVE


@dataclass
class SyncState:
    connector: Connector
    folder_ok: bool
    files: list[str]
    writing: list[str]
    documents: int
    tier: str
    errors: int
    last_reception: str | None
    last_send: str | None


def sync_state(store: Store, connector: Connector) -> SyncState:
    folder = Path(connector.import_dir)
    # A shop connector's orders come from its shop: a folder left from CSV days is not read.
    folder_ok = connector.mode != "webservice" and bool(connector.import_dir) and folder.is_dir()
    ready, writing = ready_files(folder) if folder_ok else ([], [])
    documents = 0
    for path in ready:
        if documents >= COUNT_LIMIT:
            break
        documents += count_documents(path, connector, COUNT_LIMIT - documents)
    errors = history_queries.count_unresolved_for(store, connector.code)
    last = {
        "reception": history_queries.last_item_at(store, connector.code, "received"),
        "send": history_queries.last_item_at(store, connector.code, "sent"),
    }
    return SyncState(
        connector,
        folder_ok,
        [path.name for path in ready],
        [path.name for path in writing],
        documents,
        tier(documents),
        int(errors),
        last.get("reception"),
        last.get("send"),
    )


def startup_waiting(store: Store) -> list[dict[str, Any]]:
    """Connectors received "at start-up" that have files waiting: the dashboard's banner."""
    with store.read() as db:
        rows = db.execute(
            "SELECT code, import_dir FROM connectors WHERE reception_update = 'startup'"
            " AND mode != 'webservice' ORDER BY code"
        ).fetchall()
    waiting = []
    for code, folder in rows:
        path = Path(folder)
        if folder and path.is_dir():
            ready, _writing = ready_files(path)
            if ready:
                waiting.append({"code": code, "files": len(ready)})
    return waiting
