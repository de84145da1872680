"""Integrating one received document (ECN-6): its lines mapped, its customer found, linked or
created, the document created in the back office and recorded in the connector's history; or its
reasons for not being integrated, everything it did undone."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from webapp.backoffice import documents
from webapp.clock import now_iso
from webapp.econnector import records
from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import SourceDocument, SourceLine
from webapp.econnector.mappings import Resolver
from webapp.econnector.records import RECEIVE_JOB
from webapp.econnector.report import Choices, DocumentResult, ReceiveReport, document_result
from webapp.i18n import N_, gettext


class NotIntegrated(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def integrate_one(
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
        result = refusal_result(document, refused.reasons, db)
        if not report.analyse_only:
            record_refusal(db, connector, document, refused.reasons, report.run_id)
    db.execute("RELEASE document")
    return result


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
    result = document_result(document)
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
        record_document(
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
    record_document(
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


def record_document(
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
        RECEIVE_JOB,
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


def record_refusal(
    db: Database,
    connector: Connector,
    document: SourceDocument,
    reasons: list[str],
    run_id: int | None,
) -> None:
    message = N_("{ref} not integrated: {reasons}")
    params = {"reasons": "; ".join(reasons)}
    record_document(
        db, connector, "error", "document", document, run_id, message=message, params=params
    )


def refusal_result(document: SourceDocument, reasons: list[str], db: Database) -> DocumentResult:
    result = document_result(document, "not_integrated", "new")
    result.reasons = reasons
    result.candidates = homonyms(db, document.header)
    if result.candidates:
        result.customer_status = "homonym"
    return result
