"""Reception (ECN-6): documents from the connector's import folder into the back office.

Two steps, one code path: the analysis is the integration run inside one transaction that is
rolled back, so what it announces is what the integration does. The integration gives each
document its own transaction; a document (connector + doc_ref) is integrated once, ever, also after
a kill -9 in the middle of a file. A file whose documents are all integrated becomes `.bak`; a file
still being written (modified in the last seconds) is left for the next scan.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from webapp import history
from webapp.backoffice import documents
from webapp.backoffice.importer import RowError, map_header, parse_values
from webapp.clock import now_iso
from webapp.csvio import CsvError, CsvReader
from webapp.econnector import records
from webapp.econnector.columns import DOCUMENTS
from webapp.econnector.connectors import Connector
from webapp.econnector.mappings import Resolver
from webapp.econnector.receive_parties import (
    PartyRefused,
    SourceParty,
    integrate_party,
    read_parties,
)
from webapp.i18n import N_, UserError, gettext
from webapp.store import Store

log = logging.getLogger(__name__)

JOB_NAME = "connector_receive"
SETTLE_SECONDS = 2.0
BATCH = 200  # documents per commit; each one under its own savepoint
MAX_DETAIL = 2000
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


class _Rollback(Exception):
    pass


@dataclass
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
    def customer_name(self) -> str:
        names = [self.header.get("first_name") or "", self.header.get("last_name") or ""]
        return " ".join(part for part in names if part) or str(self.header.get("company") or "")


@dataclass
class DocumentResult:
    doc_ref: str
    file: str
    status: str  # 'integrated', 'will_integrate', 'not_integrated', 'already'
    customer: str
    customer_status: str  # 'mapped', 'new', 'homonym', 'linked'
    total: str
    reasons: list[str] = field(default_factory=list)
    number: str | None = None
    candidates: list[str] = field(default_factory=list)
    data_kind: str = "document"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ReceiveReport:
    connector: str
    analyse_only: bool
    files: list[dict[str, Any]] = field(default_factory=list)
    documents: list[DocumentResult] = field(default_factory=list)
    correspondences_to_give: list[dict[str, str]] = field(default_factory=list)
    articles_without_correspondence: list[dict[str, str]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # files still being written
    run_id: int | None = None
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("integrated", "will_integrate", "not_integrated", "already"), 0
        )
    )
    total: int = 0
    _resolver: Resolver | None = None

    def add(self, result: DocumentResult) -> None:
        """Counted always; kept in detail up to MAX_DETAIL, so memory stays flat in the file size."""
        self.total += 1
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        if len(self.documents) < MAX_DETAIL or (
            result.status == "not_integrated" and len(self.documents) < 2 * MAX_DETAIL
        ):
            self.documents.append(result)

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    def resolver(self, db: Database, connector: Connector) -> Resolver:
        """One resolver for the whole reception, pointed at the current transaction."""
        if self._resolver is None:
            self._resolver = Resolver(db, connector)
        self._resolver.db = db
        return self._resolver

    def as_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "analyse_only": self.analyse_only,
            "files": self.files,
            "documents": [result.as_dict() for result in self.documents],
            "correspondences_to_give": self.correspondences_to_give,
            "articles_without_correspondence": self.articles_without_correspondence,
            "waiting": self.waiting,
            "integrated": self.count("integrated"),
            "will_integrate": self.count("will_integrate"),
            "not_integrated": self.count("not_integrated"),
            "already": self.count("already"),
            "run_id": self.run_id,
        }

    def _note_code(self, kind: str, external: str) -> None:
        entry = {"kind": kind, "external": external}
        if entry not in self.correspondences_to_give:
            self.correspondences_to_give.append(entry)

    def _note_article(self, line: SourceLine) -> None:
        entry = {
            "article_ref": line.article_ref,
            "variant_ref": line.variant_ref,
            "label": line.label,
        }
        known = {
            (item["article_ref"], item["variant_ref"])
            for item in self.articles_without_correspondence
        }
        if (line.article_ref, line.variant_ref) not in known:
            self.articles_without_correspondence.append(entry)


@dataclass(frozen=True)
class Choices:
    """What the user decided for homonyms: link all (CLI --link-homonyms), or per customer ref."""

    link_homonyms: bool = False
    links: dict[str, str] = field(default_factory=dict)  # customer_ref → party code, or "new"


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
        current: SourceDocument | None = None
        current_raw: list[str] = []
        seen: set[str] = set()
        for record in reader:
            values: dict[str, Any] = {}
            raw_ref = record.values[ref_index].strip() if ref_index < len(record.values) else ""
            same = current is not None and raw_ref == current_raw[0] and raw_ref
            if same:
                assert current is not None
                problems = _row_problems(record.line, record.values, width, line_fields, values)
                problems += _header_changes(record.line, record.values, header_fields, current_raw)
                values.update(current.header)
                values["doc_ref"] = current.doc_ref
            else:
                problems = _row_problems(record.line, record.values, width, fields, values)
                if current is not None:
                    yield current
                doc_ref = str(values.get("doc_ref") or "")
                current = SourceDocument(
                    doc_ref, path.name, record.line, {k: values.get(k) for k in DOCUMENT_FIELDS}
                )
                current_raw = [
                    raw_ref,
                    *(_raw(record.values, item.index) for item in header_fields),
                ]
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
        if current is not None:
            yield current


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
        for item, expected in zip(header_fields, first[1:], strict=True)
        if _raw(raw, item.index) != expected
    ]


def _row_problems(
    line: int, raw: list[str], width: int, fields: list[Any], values: dict[str, Any]
) -> list[str]:
    if len(raw) != width and not (len(raw) > width and not any(v.strip() for v in raw[width:])):
        return [
            gettext(
                "line {line}: {count} values where the header has {width} columns",
                line=line,
                count=len(raw),
                width=width,
            )
        ]
    errors: list[RowError] = parse_values(line, raw, fields, values)
    return [error.translated() for error in errors]


def _add_line(document: SourceDocument, line: int, values: dict[str, Any]) -> None:
    document.lines.append(
        SourceLine(
            line=line,
            line_no=int(values["line_no"]),
            article_ref=str(values["article_ref"]),
            variant_ref=str(values.get("variant_ref") or ""),
            label=str(values.get("label") or ""),
            quantity=values["quantity"],
            unit=str(values.get("unit") or ""),
            unit_price_incl_vat=values["unit_price_incl_vat"],
            vat_code=str(values.get("vat_code") or ""),
        )
    )


# -- integrating one document ----------------------------------------------------------------


class NotIntegrated(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def integrate(
    db: Database,
    connector: Connector,
    document: SourceDocument,
    choices: Choices,
    report: ReceiveReport,
    run_id: int | None,
) -> DocumentResult:
    """Integrate one document in `db`'s transaction; raises NotIntegrated with its reasons."""
    resolver = report.resolver(db, connector)
    result = DocumentResult(
        document.doc_ref,
        document.file,
        "integrated",
        document.customer_name,
        "mapped",
        str(document.header.get("total_incl_vat") or ""),
    )
    known = db.execute(
        "SELECT d.number FROM connector_documents c JOIN documents d ON d.id = c.document_id"
        " WHERE c.connector_id = ? AND c.doc_ref = ?",
        [connector.id, document.doc_ref],
    ).fetchone()
    if known is not None:
        result.status, result.number = "already", str(known[0])
        return result
    reasons = list(document.problems)
    lines = _lines(resolver, document, report, reasons)
    country = resolver.country(str(document.header.get("country") or ""))
    if country is None:
        reasons.append(
            gettext(
                "the country {value} needs a correspondence", value=document.header.get("country")
            )
        )
        report._note_code("country", str(document.header.get("country")))
    if reasons:
        raise NotIntegrated(reasons)
    party_id = _customer(db, connector, resolver, document, country or "", choices, result)
    if result.customer_status in ("new", "homonym"):
        # The history's "Client" row: a customer created by this reception.
        _event(
            db,
            connector,
            "received",
            "customer",
            document,
            run_id,
            party_id=party_id,
            message=N_("{ref}: {name}"),
        )
    data = documents.DocumentInput(
        kind=connector.doc_type,
        doc_date=document.header["doc_date"],
        lines=lines,
        party_id=party_id,
        company_id=connector.company_id,
        site_id=connector.site_id,
        carrier_id=connector.carrier_id,
        prices_include_vat=True,
        payments=_payments(connector, document),
        source=f"connector:{connector.code}",
        external_ref=document.doc_ref,
        expected_total_incl_vat=document.header["total_incl_vat"],
    )
    try:
        created = documents.create_document(db, data)
    except documents.DocumentError as exc:
        raise NotIntegrated([exc.translated()]) from exc
    result.number = created.number
    now = now_iso()
    db.execute(
        "INSERT INTO connector_documents (connector_id, doc_ref, document_id, file, integrated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [connector.id, document.doc_ref, created.id, document.file, now],
    )
    _event(
        db,
        connector,
        "received",
        "document",
        document,
        run_id,
        number=created.number,
        party_id=party_id,
        message=N_("{ref} integrated as {number}"),
    )
    return result


def _lines(
    resolver: Resolver, document: SourceDocument, report: ReceiveReport, reasons: list[str]
) -> list[documents.LineInput]:
    lines = []
    for line in document.lines:
        article = resolver.article(line.article_ref, line.variant_ref)
        if article is None:
            report._note_article(line)
            reasons.append(
                gettext("the article {ref} has no correspondence", ref=_article_label(line))
            )
        rate = resolver.vat_rate(line.vat_code)
        if rate is None:
            report._note_code("vat", line.vat_code)
            reasons.append(
                gettext("the VAT code {value} needs a correspondence", value=line.vat_code)
            )
        unit = resolver.unit(line.unit) if line.unit else None
        if line.unit and unit is None:
            report._note_code("unit", line.unit)
            reasons.append(gettext("the unit {value} needs a correspondence", value=line.unit))
        if article is not None and rate is not None:
            lines.append(
                documents.LineInput(
                    label=line.label,
                    quantity=line.quantity,
                    unit_price=line.unit_price_incl_vat,
                    vat_rate=rate,
                    article_id=article,
                    unit_code=unit,
                )
            )
    return lines


def _article_label(line: SourceLine) -> str:
    return f"{line.article_ref}/{line.variant_ref}" if line.variant_ref else line.article_ref


def _payments(connector: Connector, document: SourceDocument) -> list[documents.PaymentInput]:
    if not connector.generate_payment:
        return []
    method = str(document.header.get("payment_method") or "CASH")
    return [documents.PaymentInput(method=method, amount=document.header["total_incl_vat"])]


def homonyms(db: Database, header: dict[str, Any]) -> list[str]:
    """Customers who may be the same person: same e-mail, or same names and postcode (both
    lookups by index: 100,000 customers must not mean a scan per document)."""
    email = str(header.get("email") or "").strip()
    found: list[str] = []
    if email:
        found += [
            str(row[0])
            for row in db.execute(
                "SELECT code FROM parties INDEXED BY parties_customer_email"
                " WHERE kind = 'customer' AND email != ''"
                " AND lower(email) = lower(?) ORDER BY code LIMIT 5",
                [email],
            )
        ]
    last = str(header.get("last_name") or "").strip()
    if last:
        found += [
            str(row[0])
            for row in db.execute(
                "SELECT code FROM parties INDEXED BY parties_kind_name"
                " WHERE kind = 'customer' AND last_name = ? COLLATE NOCASE"
                " AND first_name = ? COLLATE NOCASE AND postcode = ? ORDER BY code LIMIT 5",
                [last, str(header.get("first_name") or ""), str(header.get("postcode") or "")],
            )
        ]
    return list(dict.fromkeys(found))[:5]


def _customer(
    db: Database,
    connector: Connector,
    resolver: Resolver,
    document: SourceDocument,
    country: str,
    choices: Choices,
    result: DocumentResult,
) -> int:
    ref = str(document.header.get("customer_ref") or "")
    if ref:
        mapped = resolver.customer(ref)
        if mapped is not None:
            return mapped
    candidates = homonyms(db, document.header)
    choice = choices.links.get(ref) if ref else None
    if candidates and (choice not in (None, "new") or (choice is None and choices.link_homonyms)):
        code = choice if choice not in (None, "new") else candidates[0]
        row = db.execute(
            "SELECT id FROM parties WHERE kind = 'customer' AND code = ?", [code]
        ).fetchone()
        if row is None:
            raise NotIntegrated([gettext("no customer has the code {code}", code=code)])
        party_id = int(row[0])
        result.customer_status = "linked"
    else:
        party_id = _new_customer(db, connector, document, country)
        result.customer_status = "homonym" if candidates else "new"
    result.candidates = candidates
    if ref:
        db.execute(
            "INSERT OR REPLACE INTO connector_customers (connector_id, external_ref, party_id)"
            " VALUES (?, ?, ?)",
            [connector.id, ref, party_id],
        )
    return party_id


def _new_customer(
    db: Database, connector: Connector, document: SourceDocument, country: str
) -> int:
    header = document.header
    ref = str(header.get("customer_ref") or "")
    taken = db.execute(
        "SELECT 1 FROM parties WHERE kind = 'customer' AND code = ?", [ref]
    ).fetchone()
    code = ref if ref and not taken and len(ref) <= 50 else _next_code(db)
    now = now_iso()
    cursor = db.execute(
        "INSERT INTO parties (kind, code, family_id, last_name, first_name, company, email,"
        " address, postcode, city, country, created_at, updated_at)"
        " VALUES ('customer', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            code,
            connector.customer_family_id,
            header.get("last_name") or "",
            header.get("first_name") or "",
            header.get("company") or "",
            header.get("email") or "",
            header.get("address") or "",
            header.get("postcode") or "",
            header.get("city") or "",
            country or None,
            now,
            now,
        ],
    )
    return int(cursor.lastrowid or 0)


def _next_code(db: Database) -> str:
    row = db.execute(
        "SELECT max(CAST(substr(code, 2) AS INTEGER)) FROM parties WHERE kind = 'customer'"
        " AND code GLOB 'W[0-9]*'"
    ).fetchone()
    return f"W{(row[0] or 0) + 1:06d}"


def _event(
    db: Database,
    connector: Connector,
    status: str,
    data_kind: str,
    document: SourceDocument,
    run_id: int | None,
    *,
    message: str,
    number: str | None = None,
    party_id: int | None = None,
    params: dict[str, Any] | None = None,
) -> None:
    """What the connector's history shows of a document (or of the customer it created)."""
    if run_id is None:
        return
    party = None
    if party_id is not None:
        row = db.execute("SELECT code FROM parties WHERE id = ?", [party_id]).fetchone()
        party = str(row[0]) if row else None
    doc_date = document.header.get("doc_date")
    records.record(
        db,
        run_id,
        JOB_NAME,
        connector.code,
        kind=data_kind,
        status=status,
        key=document.doc_ref,
        message=message,
        params={
            "ref": document.doc_ref,
            "file": document.file,
            "doc_ref": document.doc_ref,
            "doc_date": str(doc_date) if doc_date else None,
            "number": number,
            "party_code": party,
            "external_party": document.header.get("customer_ref"),
            "name": document.customer_name,
            "amount": str(document.header.get("total_incl_vat") or ""),
            **(params or {}),
        },
    )


# -- the whole reception ---------------------------------------------------------------------


def receive(
    store: Store,
    connector: Connector,
    *,
    analyse_only: bool = False,
    choices: Choices | None = None,
    progress: Callable[[int], None] | None = None,
    settle: float = SETTLE_SECONDS,
    origin: str = "command",
    run_id: int | None = None,
) -> ReceiveReport:
    """Analyse (everything rolled back) or integrate the files waiting in the import folder.

    An integration records into `run_id` when given (a task's run, ended by the task runner), or
    into a run of its own, about the connector, ended here.
    """
    choices = choices or Choices()
    report = ReceiveReport(connector.code, analyse_only)
    folder = Path(connector.import_dir)
    ready, waiting = ready_files(folder, settle) if folder.is_dir() else ([], [])
    report.waiting = [path.name for path in waiting]
    own_run = not analyse_only and run_id is None
    if own_run:
        run_id = history.start_run(store, JOB_NAME, origin)
        with store.write() as db:
            db.execute("UPDATE runs SET subject = ? WHERE id = ?", [connector.code, run_id])
    report.run_id = None if analyse_only else run_id
    try:
        with documents.remembered_lookups():
            for path in ready:
                _file(store, connector, path, choices, report, progress)
    finally:
        if own_run:
            _finish(store, report)
    return report


def _file(
    store: Store,
    connector: Connector,
    path: Path,
    choices: Choices,
    report: ReceiveReport,
    progress: Callable[[int], None] | None,
) -> None:
    entry: dict[str, Any] = {"name": path.name, "documents": 0, "state": "kept"}
    report.files.append(entry)
    counted = report.total
    left_before = report.counts["not_integrated"]
    try:
        if file_kind(path, connector) == "parties":
            _parties_file(store, connector, path, choices, report)
            entry["documents"] = report.total - counted
            if not report.analyse_only and report.counts["not_integrated"] == left_before:
                entry["state"] = "bak"
                _to_bak(path)
            return
        documents_in_file = read_documents(path, connector)
        if report.analyse_only:
            with contextlib.suppress(_Rollback), store.write() as db:
                for document in documents_in_file:
                    report.add(_one(db, connector, document, choices, report))
                raise _Rollback()
        else:
            while batch := list(islice(documents_in_file, BATCH)):
                with store.write() as db:
                    for document in batch:
                        report.add(_one(db, connector, document, choices, report))
                if progress:
                    progress(report.total)
    except (CsvError, UserError) as exc:
        entry["error"] = exc.translated()
        _file_error(store, connector, path, exc, report.run_id)
        return
    except Exception as exc:  # a bug met by one file must not keep the next files from being read
        log.exception("connector %s: reading %s failed", connector.code, path.name)
        error = UserError("The import stopped on an unexpected error: {detail}", detail=str(exc))
        entry["error"] = error.translated()
        _file_error(store, connector, path, error, report.run_id)
        return
    entry["documents"] = report.total - counted
    refused = report.counts["not_integrated"] - left_before
    if not report.analyse_only and entry["documents"] and not refused:
        entry["state"] = "bak"
        _to_bak(path)


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


def _parties_file(
    store: Store, connector: Connector, path: Path, choices: Choices, report: ReceiveReport
) -> None:
    rows = read_parties(path, connector)
    if report.analyse_only:
        with contextlib.suppress(_Rollback), store.write() as db:
            for party in rows:
                report.add(_one_party(db, connector, party, choices, report))
            raise _Rollback()
    while batch := list(islice(rows, BATCH)):
        with store.write() as db:
            for party in batch:
                report.add(_one_party(db, connector, party, choices, report))


def _one_party(
    db: Database, connector: Connector, party: SourceParty, choices: Choices, report: ReceiveReport
) -> DocumentResult:
    kind = str(party.values.get("kind") or "customer")
    result = DocumentResult(
        party.ref, party.file, "integrated", party.name, "mapped", "", data_kind=kind
    )
    link = choices.links.get(party.ref) or ("*" if choices.link_homonyms else None)
    db.execute("SAVEPOINT party")
    try:
        party_id, status = integrate_party(
            db, connector, party, None if link == "new" else link, now_iso()
        )
        result.customer_status = status
        if report.analyse_only:
            result.status = "will_integrate"
        else:
            _party_event(db, connector, party, kind, party_id, report.run_id)
    except PartyRefused as refused:
        db.execute("ROLLBACK TO party")
        result.status, result.reasons = "not_integrated", refused.reasons
        if not report.analyse_only:
            _party_event(db, connector, party, kind, None, report.run_id, refused.reasons)
    db.execute("RELEASE party")
    return result


def _party_event(
    db: Database,
    connector: Connector,
    party: SourceParty,
    kind: str,
    party_id: int | None,
    run_id: int | None,
    reasons: list[str] | None = None,
) -> None:
    if run_id is None:
        return
    code = None
    if party_id is not None:
        row = db.execute("SELECT code FROM parties WHERE id = ?", [party_id]).fetchone()
        code = str(row[0]) if row else None
    records.record(
        db,
        run_id,
        JOB_NAME,
        connector.code,
        kind=kind,
        status="error" if reasons else "received",
        key=party.ref,
        message=N_("{ref} not integrated: {reasons}") if reasons else N_("{ref}: {name}"),
        params={
            "ref": party.ref,
            "reasons": "; ".join(reasons or []),
            "name": party.name,
            "file": party.file,
            "party_code": code,
            "external_party": party.ref,
        },
    )


def _one(
    db: Database,
    connector: Connector,
    document: SourceDocument,
    choices: Choices,
    report: ReceiveReport,
) -> DocumentResult:
    """One document under its own savepoint: a refusal undoes all of it (a customer it created
    included) and the documents after it go on."""
    db.execute("SAVEPOINT document")
    try:
        result = integrate(db, connector, document, choices, report, report.run_id)
        if report.analyse_only and result.status == "integrated":
            result.status = "will_integrate"
    except NotIntegrated as refused:
        db.execute("ROLLBACK TO document")
        result = _refused(document, refused.reasons, db)
        if not report.analyse_only:
            _record_refusal(db, connector, document, refused.reasons, report.run_id)
    db.execute("RELEASE document")
    return result


def _record_refusal(
    db: Database,
    connector: Connector,
    document: SourceDocument,
    reasons: list[str],
    run_id: int | None,
) -> None:
    message = N_("{ref} not integrated: {reasons}")
    params = {"reasons": "; ".join(reasons)}
    _event(db, connector, "error", "document", document, run_id, message=message, params=params)


def _refused(document: SourceDocument, reasons: list[str], db: Database) -> DocumentResult:
    result = DocumentResult(
        document.doc_ref,
        document.file,
        "not_integrated",
        document.customer_name,
        "new",
        str(document.header.get("total_incl_vat") or ""),
        reasons=reasons,
    )
    result.candidates = homonyms(db, document.header)
    if result.candidates:
        result.customer_status = "homonym"
    return result


def _file_error(
    store: Store, connector: Connector, path: Path, error: UserError, run_id: int | None
) -> None:
    log.warning("connector %s: %s refused: %s", connector.code, path.name, error.translated())
    if run_id is None:
        return
    with store.write() as db:
        records.record(
            db,
            run_id,
            JOB_NAME,
            connector.code,
            kind="file",
            status="error",
            key=path.name,
            message=error.message,
            params={**error.params, "file": path.name},
        )


def _to_bak(path: Path) -> None:
    target = path.with_suffix(".bak")
    number = 1
    while target.exists():
        target = path.with_name(f"{path.stem}.{number}.bak")
        number += 1
    path.rename(target)


def summary(report: ReceiveReport) -> tuple[str, dict[str, Any]]:
    """The run's closing message and its params."""
    return N_(
        "{connector}: {integrated} documents integrated, {refused} not integrated,"
        " {already} already there."
    ), {
        "connector": report.connector,
        "integrated": report.count("integrated"),
        "refused": report.count("not_integrated"),
        "already": report.count("already"),
    }


def _finish(store: Store, report: ReceiveReport) -> None:
    assert report.run_id is not None
    failed = report.count("not_integrated") or any("error" in entry for entry in report.files)
    message, params = summary(report)
    history.finish_run(store, report.run_id, "warning" if failed else "success", message, params)


def integrated_documents(store: Store, connector: Connector) -> list[dict[str, Any]]:
    """`relais connector documents`: what came through the connector."""
    with store.read() as db:
        rows = db.execute(
            "SELECT c.doc_ref, d.number, p.code AS customer, d.total_incl_vat,"
            " (SELECT count(*) FROM document_lines l WHERE l.document_id = d.id) AS lines,"
            " d.doc_date, c.file, c.integrated_at FROM connector_documents c"
            " JOIN documents d ON d.id = c.document_id LEFT JOIN parties p ON p.id = d.party_id"
            " WHERE c.connector_id = ? ORDER BY c.integrated_at, c.doc_ref",
            [connector.id],
        ).fetchall()
    return [
        {
            **dict(row),
            "total_incl_vat": str(Decimal(str(row["total_incl_vat"])).quantize(Decimal("0.01"))),
        }
        for row in rows
    ]
