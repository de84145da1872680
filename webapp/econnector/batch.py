"""Reception by chunks (ECN-6): a chunk of received documents integrated in a few statements.

The documents are resolved (articles, VAT codes, units, countries) outside the write lock; then,
in one transaction per chunk, the chunk is asked what is already integrated and which customers
are mapped (one query each), each document is checked and its customer decided in Python with
the rules of the per-document path (:mod:`webapp.econnector.integration`), numbers are taken in
one statement, and the documents, lines, payments, customers, links and history items are
written by executemany. A chunk that meets an unexpected failure is undone and replayed document
by document, each under its own savepoint, through the per-document path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sqlite_utils import Database

from webapp.backoffice.document_numbers import reserve_numbers
from webapp.backoffice.document_types import DocumentError, DuplicateDocument
from webapp.clock import now_iso
from webapp.econnector import batch_write
from webapp.econnector.batch_checks import (
    ReferenceAnswers,
    check_received,
    connector_problem,
)
from webapp.econnector.batch_customers import (
    CustomerDesk,
    NoSuchCustomer,
    Pending,
    homonyms,
    mapped_customers,
)
from webapp.econnector.batch_plan import Accepted, Plan, Prepared
from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import SourceDocument
from webapp.econnector.integration import integrate_one, record_refusal, refusal_result
from webapp.econnector.mappings import Resolver
from webapp.econnector.report import Choices, DocumentResult, ReceiveReport, document_result
from webapp.i18n import N_, gettext

log = logging.getLogger(__name__)

Item = TypeVar("Item", SourceDocument, Prepared)

_UNKNOWN: Any = object()
OUTSIDE_CODES_KEPT = 100_000
CHUNK_DOCUMENTS = 1000
# A chunk's transaction holds the write lock about TARGET_SECONDS whatever the machine's speed:
# a UI save waits for one at most (the store's lock is fair). Its commit adds a little.
TARGET_SECONDS = 0.1
FIRST_LINES, MIN_LINES, MAX_LINES = 1_000, 100, 6_000


class ChunkSizer:
    """The lines of the next chunk, from how fast the last chunk wrote its lines (the rule of
    webapp/backoffice/import_apply.py's ChunkSizer). Documents integrated before cost nearly nothing
    under the lock: a chunk of those says nothing of the rate, and leaves the size as it is."""

    def __init__(self) -> None:
        self.lines = FIRST_LINES

    def took(self, seconds: float, written_lines: int) -> None:
        if written_lines < MIN_LINES:
            return
        wanted = int(written_lines * TARGET_SECONDS / max(seconds, 0.001))
        self.lines = max(MIN_LINES, min(MAX_LINES, wanted, self.lines * 2))


def chunks(documents: Iterable[Item], sizer: ChunkSizer) -> Iterator[list[Item]]:
    """The documents (read, or prepared by an analysis) in chunks of at most CHUNK_DOCUMENTS
    documents or about `sizer.lines` lines, asked as each chunk begins (a document is never
    split: it is one transaction)."""
    chunk: list[Item] = []
    lines = 0
    for item in documents:
        chunk.append(item)
        document = item.document if isinstance(item, Prepared) else item
        lines += document.line_count + 1
        if len(chunk) >= CHUNK_DOCUMENTS or lines >= sizer.lines:
            # Handed over without a local of ours keeping it while we wait: the caller frees
            # the chunk once written, before its collection between chunks (webapp/collection).
            handed, chunk, lines = [chunk], [], 0
            del item, document
            yield handed.pop()
    if chunk:
        yield chunk


def prepare(
    db: Database,
    resolver: Resolver,
    answers: ReferenceAnswers,
    connector: Connector,
    documents: list[SourceDocument],
) -> list[Prepared]:
    """integration._lines, the country and check_document's checks, for a chunk, outside the
    write lock: `db` and the resolver may be on a reader (they read only reference tables and
    correspondences, which a reception does not change). Each distinct outside code is asked of
    the resolver once for the reception. A document the reader shows integrated is not checked:
    the chunk's transaction finds it integrated too (connector_documents only grows)."""
    known = _already(db, connector, [document.doc_ref for document in documents])
    prepared = [
        Prepared(document, [], [], None, already=True)
        if document.doc_ref in known  # integrated before, and so forever: not checked again
        else _prepare(resolver, answers, document)
        for document in documents
    ]
    for item in prepared:
        if not item.reasons and not item.already:
            item.outcome = check_received(db, answers, connector, item.document, item.lines)
    return prepared


def written_lines(chunk: list[Prepared]) -> int:
    """The lines a chunk's transaction writes (or refuses), not those integrated before."""
    return sum(item.document.line_count + 1 for item in chunk if not item.already)


def _prepare(resolver: Resolver, answers: ReferenceAnswers, document: SourceDocument) -> Prepared:
    prepared = Prepared(document, [], list(document.problems), None)
    reasons = prepared.reasons
    articles, rates, units = answers.outside_articles, answers.outside_rates, answers.outside_units
    if len(articles) > OUTSIDE_CODES_KEPT:  # bounded: memory stays flat in the file size
        articles.clear()
    for line in document.lines:
        key = (line.article_ref, line.variant_ref)
        article = articles.get(key, _UNKNOWN)
        if article is _UNKNOWN:
            article = articles[key] = resolver.article(line.article_ref, line.variant_ref)
        rate = rates.get(line.vat_code, _UNKNOWN)
        if rate is _UNKNOWN:
            rate = rates[line.vat_code] = resolver.vat_rate(line.vat_code)
        unit = None
        if line.unit:
            unit = units.get(line.unit, _UNKNOWN)
            if unit is _UNKNOWN:
                unit = units[line.unit] = resolver.unit(line.unit)
        if article is None:
            prepared.articles.append(line)
            label = (
                f"{line.article_ref}/{line.variant_ref}" if line.variant_ref else line.article_ref
            )
            reasons.append(gettext("the article {ref} has no correspondence", ref=label))
        if rate is None:
            prepared.codes.append(("vat", line.vat_code))
            reasons.append(
                gettext("the VAT code {value} needs a correspondence", value=line.vat_code)
            )
        if line.unit and unit is None:
            prepared.codes.append(("unit", line.unit))
            reasons.append(gettext("the unit {value} needs a correspondence", value=line.unit))
        if article is not None and rate is not None:
            prepared.lines.append((line, article, rate, unit))
    country_code = str(document.header.get("country") or "")
    countries = answers.outside_countries
    if country_code not in countries:
        if len(countries) > OUTSIDE_CODES_KEPT:
            countries.clear()
        countries[country_code] = resolver.country(country_code)
    prepared.country = countries[country_code]
    if prepared.country is None:
        reasons.append(
            gettext(
                "the country {value} needs a correspondence", value=document.header.get("country")
            )
        )
        prepared.codes.append(("country", str(document.header.get("country"))))
    return prepared


def integrate_chunk(
    db: Database,
    connector: Connector,
    chunk: list[Prepared],
    choices: Choices,
    report: ReceiveReport,
    pending: Pending,
) -> Pending:
    """The chunk in `db`'s transaction; its results added to the report. Returns the layer of
    what it did (an analysis keeps it for the next chunks, rolled back as they are)."""
    layer = pending.layer()
    db.execute("SAVEPOINT chunk")
    try:
        results = _integrate(db, connector, chunk, choices, report, layer)
    except Exception:
        db.execute("ROLLBACK TO chunk")
        db.execute("RELEASE chunk")
        log.exception("connector %s: a chunk is replayed document by document", connector.code)
        replay(db, connector, chunk, choices, report)
        return pending.layer()
    db.execute("RELEASE chunk")
    for result in results:
        report.add(result)
    return layer


def _integrate(
    db: Database,
    connector: Connector,
    chunk: list[Prepared],
    choices: Choices,
    report: ReceiveReport,
    layer: Pending,
) -> list[DocumentResult]:
    refs = [item.document.doc_ref for item in chunk]
    already = _already(db, connector, refs)
    duplicates = _duplicates(db, connector, refs)
    customer_refs = [str(item.document.header.get("customer_ref") or "") for item in chunk]
    desk = CustomerDesk(
        db, connector, choices, layer, mapped_customers(db, int(connector.id or 0), customer_refs)
    )
    company_id, connector_error = connector_problem(db, connector)
    plan = Plan(company_id)
    results: list[DocumentResult] = []
    for item in chunk:
        document = item.document
        result = document_result(document)
        results.append(result)
        number = already.get(document.doc_ref) or layer.document(document.doc_ref)
        if number is not None:
            result.status, result.number = "already", number
            if number == "":  # accepted earlier in this chunk: numbered below
                plan.later_numbers.append((result, _index_of(plan, document.doc_ref)))
            continue
        _note(report, item)
        reasons = _refusal(item, desk, connector_error, duplicates, plan, result)
        if reasons is not None:
            _refuse(db, result, item, reasons, layer)
            plan.order.append(("refused", len(plan.refused)))
            plan.refused.append((item, reasons))
            continue
        accepted = plan.accepted[-1]
        result.customer_status = accepted.customer.status
        result.candidates = accepted.customer.candidates
        if report.analyse_only:
            result.status = "will_integrate"
        layer.documents[document.doc_ref] = ""
    numbers = reserve_numbers(
        db, company_id, connector.doc_type, len(plan.accepted), pending_numbers(layer)
    )
    layer.numbers = len(numbers)
    for accepted, number in zip(plan.accepted, numbers, strict=True):
        accepted.number = accepted.result.number = number
        layer.documents[accepted.prepared.document.doc_ref] = number
    for result, index in plan.later_numbers:
        result.number = plan.accepted[index].number
    batch_write.write(db, connector, plan, report.run_id, now_iso())
    return results


def pending_numbers(layer: Pending) -> int:
    """Numbers earlier chunks of an analysis took and rolled back (none in an integration)."""
    return layer.parent.taken_numbers() if layer.parent is not None else 0


def _index_of(plan: Plan, doc_ref: str) -> int:
    return next(
        index
        for index, accepted in enumerate(plan.accepted)
        if accepted.prepared.document.doc_ref == doc_ref
    )


def _refusal(
    item: Prepared,
    desk: CustomerDesk,
    connector_error: DocumentError | None,
    duplicates: dict[str, DocumentError],
    plan: Plan,
    result: DocumentResult,
) -> list[str] | None:
    """The document's reasons for not being integrated, in the per-document path's order; None
    when it is accepted (then it is the plan's last accepted document)."""
    if item.reasons:
        return item.reasons
    try:
        customer = desk.decide(item.document, item.country or "")
    except NoSuchCustomer as missing:
        return [gettext("no customer has the code {code}", code=missing.code)]
    if customer.status == "mapped" and not customer.code:
        error = DocumentError(N_("Customer {customer} does not exist."), customer=customer.party_id)
        return [error.translated()]
    if connector_error is not None:
        return [connector_error.translated()]
    assert item.outcome is not None
    checked = item.outcome.result(duplicates.get(item.document.doc_ref.strip()))
    if isinstance(checked, DocumentError):
        return [checked.translated()]
    desk.accept(customer)
    plan.order.append(("accepted", len(plan.accepted)))
    plan.accepted.append(Accepted(item, customer, checked, result))
    return None


def _refuse(
    db: Database, result: DocumentResult, item: Prepared, reasons: list[str], layer: Pending
) -> None:
    """refusal_result's fields: the reasons, and the homonyms the document would meet."""
    result.status, result.customer_status, result.reasons = "not_integrated", "new", reasons
    result.candidates = homonyms(db, item.document.header, layer)
    if result.candidates:
        result.customer_status = "homonym"


def _note(report: ReceiveReport, item: Prepared) -> None:
    for line in item.articles:
        report._note_article(line)
    for kind, external in item.codes:
        report._note_code(kind, external)


def _already(db: Database, connector: Connector, refs: list[str]) -> dict[str, str]:
    found = db.execute(
        "SELECT c.doc_ref, d.number FROM connector_documents c JOIN documents d"
        " ON d.id = c.document_id WHERE c.connector_id = ?"
        " AND c.doc_ref IN (SELECT value FROM json_each(?))",
        [connector.id, json.dumps(refs, ensure_ascii=False)],
    )
    return {str(row[0]): str(row[1]) for row in found}


def _duplicates(db: Database, connector: Connector, refs: list[str]) -> dict[str, DocumentError]:
    """Documents of this source under the same reference (check_document's DuplicateDocument)."""
    source = f"connector:{connector.code}".strip()
    found = db.execute(
        "SELECT external_ref, id, number FROM documents WHERE source = ?"
        " AND external_ref IN (SELECT value FROM json_each(?))",
        [source, json.dumps([ref.strip() for ref in refs], ensure_ascii=False)],
    )
    return {
        str(row[0]): DuplicateDocument(source, str(row[0]), int(row[1]), str(row[2]))
        for row in found
    }


def replay(
    db: Database,
    connector: Connector,
    chunk: list[Prepared],
    choices: Choices,
    report: ReceiveReport,
) -> None:
    """The per-document path, each document under its own savepoint: a document that fails
    unexpectedly is refused alone, with the error as its reason."""
    for item in chunk:
        document = item.document
        db.execute("SAVEPOINT replay")
        try:
            result = integrate_one(db, connector, document, choices, report)
        except Exception as exc:
            db.execute("ROLLBACK TO replay")
            log.exception("connector %s: %s failed", connector.code, document.doc_ref)
            reasons = [gettext("unexpected error: {detail}", detail=str(exc))]
            result = refusal_result(document, reasons, db)
            if not report.analyse_only:
                record_refusal(db, connector, document, reasons, report.run_id)
        db.execute("RELEASE replay")
        report.add(result)
