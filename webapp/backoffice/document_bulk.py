"""Checked documents written set-based: one statement each for headers, lines and payments.

For a caller that checked every document first (:func:`~webapp.backoffice.documents.check_document`)
and numbered them, in its own transaction. The rows are the ones
:func:`~webapp.backoffice.documents.create_document` writes, in the same order (so the same ids).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from webapp.backoffice.document_checks import CheckedDocument, CheckedLine
from webapp.backoffice.document_payments import CheckedPayment
from webapp.backoffice.document_types import DocumentInput
from webapp.clock import now_iso
from webapp.store import rows

# The one shape of a document's rows: create_document (documents.py) writes them one document at a
# time, write_documents many at once.
HEADER_SQL = (
    "INSERT INTO documents (company_id, site_id, kind, number, doc_date, party_id,"
    " carrier_id, warehouse_id, total_excl_vat, total_vat, total_incl_vat, source,"
    " external_ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
LINE_SQL = (
    "INSERT INTO document_lines (document_id, line_no, article_id, label, quantity,"
    " unit_code, unit_price_excl_vat, vat_rate, total_excl_vat, total_incl_vat)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
PAYMENT_SQL = (
    "INSERT INTO document_payments (document_id, payment_method_id, amount, paid_on)"
    " VALUES (?, ?, ?, ?)"
)


@dataclass(frozen=True)
class CheckedInput:
    """A document as given, as checked, and its number."""

    data: DocumentInput
    checked: CheckedDocument
    number: str


def write_documents(db: Database, documents: Sequence[CheckedInput], source: str) -> list[int]:
    """Write the documents, all from ``source`` with their own external references; their ids."""
    if not documents:
        return []
    created_at = now_iso()  # the moment of the statement that writes them all
    db.conn.executemany(HEADER_SQL, [_header(one, source, created_at) for one in documents])
    refs = [one.checked.external_ref for one in documents]
    found = rows(
        db,
        "SELECT id, external_ref FROM documents WHERE source = ?"
        " AND external_ref IN (SELECT value FROM json_each(?))",
        [source, json.dumps(refs)],
    )
    by_ref = {row["external_ref"]: int(row["id"]) for row in found}
    ids = [by_ref[ref] for ref in refs]
    db.conn.executemany(
        LINE_SQL,
        [
            line_values(document_id, line)
            for document_id, one in zip(ids, documents, strict=True)
            for line in one.checked.lines
        ],
    )
    db.conn.executemany(
        PAYMENT_SQL,
        [
            payment_values(document_id, payment)
            for document_id, one in zip(ids, documents, strict=True)
            for payment in one.checked.payments
        ],
    )
    return ids


def _header(document: CheckedInput, source: str, created_at: str) -> tuple[object, ...]:
    data, checked = document.data, document.checked
    if checked.source != source or checked.external_ref is None:
        raise ValueError("a bulk document needs the batch's source and its own reference")
    return header_values(data, checked, document.number, created_at)


def header_values(
    data: DocumentInput, checked: CheckedDocument, number: str, created_at: str | None = None
) -> tuple[object, ...]:
    """A document's row for HEADER_SQL, as create_document and write_documents both write it;
    ``created_at`` is now unless given."""
    return (
        checked.company_id,
        data.site_id,
        data.kind,
        number,
        checked.doc_date.isoformat(),
        data.party_id,
        data.carrier_id,
        data.warehouse_id,
        float(checked.total_excl_vat),
        float(checked.total_vat),
        float(checked.total_incl_vat),
        checked.source,
        checked.external_ref,
        created_at or now_iso(),
    )


def line_values(document_id: int, line: CheckedLine) -> tuple[object, ...]:
    return (
        document_id,
        line.line_no,
        line.article_id,
        line.label,
        float(line.quantity),
        line.unit_code,
        float(line.totals.unit_price_excl_vat),
        float(line.vat_rate),
        float(line.totals.total_excl_vat),
        float(line.totals.total_incl_vat),
    )


def payment_values(document_id: int, payment: CheckedPayment) -> tuple[object, ...]:
    return (document_id, payment.method_id, float(payment.amount), payment.paid_on.isoformat())
