"""Orders and deliveries: the one place where a document is checked, numbered, totalled and written.

The e-connector (orders from a web shop) and the register sync (tickets) call
:func:`create_document` inside their own ``store.write()`` transaction. Everything is checked
before anything is written (:mod:`~webapp.backoffice.document_checks`), and the writes run in a
savepoint, so a refused document leaves no trace even when the caller catches the error and
commits what else it did.

Rules:

- Numbers come from ``document_sequences`` (:mod:`~webapp.backoffice.document_numbers`) and
  advance in the same transaction as the document: a rolled-back document leaves no gap.
- ``source`` + ``external_ref`` identify a document that came from elsewhere: the same pair is
  never integrated twice (:class:`DuplicateDocument`, or :func:`get_or_create_document`).
- Money is :class:`~decimal.Decimal` with ``ROUND_HALF_UP``; how lines and documents are totalled
  is said in :mod:`~webapp.backoffice.document_totals`.
- Unit prices are stored excluding VAT with 4 decimals, quantities with 3, totals with 2. The
  database holds them as REAL; they are read back through ``Decimal(str(value))``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlite_utils import Database

from webapp.backoffice.document_bulk import (
    HEADER_SQL,
    LINE_SQL,
    PAYMENT_SQL,
    header_values,
    line_values,
    payment_values,
)
from webapp.backoffice.document_checks import (
    CheckedDocument,
    check_document,
    check_origin,
)
from webapp.backoffice.document_lookups import remembered_lookups
from webapp.backoffice.document_numbers import (
    give_back_latest_number,
    latest_number,
    next_number,
)
from webapp.backoffice.document_payments import delete_payments, payments_of
from webapp.backoffice.document_totals import to_decimal
from webapp.backoffice.document_types import (
    DOCUMENT_AMOUNTS,
    KINDS,
    LINE_AMOUNTS,
    CreatedDocument,
    Document,
    DocumentError,
    DocumentInput,
    DocumentLine,
    DocumentPayment,
    DuplicateDocument,
    LineInput,
    PaymentInput,
    TotalMismatch,
)
from webapp.i18n import N_
from webapp.store import one, rows

# The API callers use as ``documents.X``: the input, output and error types, the checks alone.
__all__ = [
    "KINDS",
    "CreatedDocument",
    "Document",
    "DocumentError",
    "DocumentInput",
    "DocumentLine",
    "DocumentPayment",
    "DuplicateDocument",
    "LineInput",
    "PaymentInput",
    "TotalMismatch",
    "check_document",
    "create_document",
    "delete_document",
    "find_document",
    "get_document",
    "get_or_create_document",
    "remembered_lookups",
]


# --- Writing ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _savepoint(db: Database, name: str) -> Iterator[None]:
    db.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        db.execute(f"ROLLBACK TO {name}")
        db.execute(f"RELEASE {name}")
        raise
    db.execute(f"RELEASE {name}")


def _insert_header(db: Database, data: DocumentInput, checked: CheckedDocument, number: str) -> int:
    row = one(db, f"{HEADER_SQL} RETURNING id", header_values(data, checked, number))
    assert row is not None  # RETURNING always yields the inserted row
    return int(row["id"])


def _insert_rows(db: Database, document_id: int, checked: CheckedDocument) -> None:
    db.conn.executemany(LINE_SQL, [line_values(document_id, line) for line in checked.lines])
    db.conn.executemany(
        PAYMENT_SQL, [payment_values(document_id, payment) for payment in checked.payments]
    )


def create_document(db: Database, data: DocumentInput) -> CreatedDocument:
    """Check, number and write one document in the caller's transaction.

    Raises :class:`DocumentError` (or its :class:`DuplicateDocument` and :class:`TotalMismatch`)
    with nothing written.
    """
    checked = check_document(db, data)
    with _savepoint(db, "create_document"):
        number = data.number or next_number(db, checked.company_id, data.kind)
        document_id = _insert_header(db, data, checked, number)
        _insert_rows(db, document_id, checked)
    return CreatedDocument(
        id=document_id,
        number=number,
        kind=data.kind,
        company_id=checked.company_id,
        total_excl_vat=checked.total_excl_vat,
        total_vat=checked.total_vat,
        total_incl_vat=checked.total_incl_vat,
    )


def get_or_create_document(db: Database, data: DocumentInput) -> CreatedDocument:
    """Like :func:`create_document`, but a source + reference already integrated returns the
    existing document (``created`` is False) instead of raising."""
    source, external_ref = check_origin(data)
    if source is not None and external_ref is not None:
        existing = find_document(db, source, external_ref)
        if existing is not None:
            return CreatedDocument(
                id=existing.id,
                number=existing.number,
                kind=existing.kind,
                company_id=existing.company_id,
                total_excl_vat=existing.total_excl_vat,
                total_vat=existing.total_vat,
                total_incl_vat=existing.total_incl_vat,
                created=False,
            )
    return create_document(db, data)


# --- Reading and deleting --------------------------------------------------------------------

_HEADER_SQL = (
    "SELECT id, company_id, kind, number, doc_date, party_id, site_id, warehouse_id, carrier_id,"
    " status, total_excl_vat, total_vat, total_incl_vat, source, external_ref, created_at"
    " FROM documents"
)


def _lines_of(db: Database, document_id: int) -> tuple[DocumentLine, ...]:
    found = rows(
        db,
        "SELECT line_no, article_id, label, quantity, unit_code, unit_price_excl_vat, vat_rate,"
        " total_excl_vat, total_incl_vat FROM document_lines WHERE document_id = ?"
        " ORDER BY line_no",
        [document_id],
    )
    return tuple(
        DocumentLine(**{**row, **{key: to_decimal(row[key]) for key in LINE_AMOUNTS}})
        for row in found
    )


def _document(db: Database, row: dict[str, Any] | None) -> Document | None:
    if row is None:
        return None
    money = {key: to_decimal(row[key]) for key in DOCUMENT_AMOUNTS}
    return Document(
        **{**row, **money, "doc_date": date.fromisoformat(row["doc_date"])},
        lines=_lines_of(db, row["id"]),
        payments=payments_of(db, row["id"]),
    )


def get_document(db: Database, document_id: int) -> Document | None:
    """A document with its lines and payments, or None."""
    return _document(db, one(db, f"{_HEADER_SQL} WHERE id = ?", [document_id]))


def find_document(db: Database, source: str, external_ref: str) -> Document | None:
    """The document integrated from ``source`` under ``external_ref``, or None."""
    return _document(
        db,
        one(db, f"{_HEADER_SQL} WHERE source = ? AND external_ref = ?", [source, external_ref]),
    )


def delete_document(db: Database, document_id: int) -> None:
    """Delete a document, its lines and payments; only the latest of its numbering sequence, so
    that numbers keep having no gaps (its number is given again to the next document)."""
    document = one(db, "SELECT company_id, kind, number FROM documents WHERE id = ?", [document_id])
    if document is None:
        raise DocumentError(N_("Document {document} does not exist."), document=document_id)
    company_id, kind = document["company_id"], document["kind"]
    latest = latest_number(db, company_id, kind)
    if document["number"] != latest:
        raise DocumentError(
            N_(
                "Document {number} cannot be deleted: only the latest one of its numbering"
                " ({latest}) can be, so that numbers have no gaps."
            ),
            number=document["number"],
            latest=latest or "-",
        )
    with _savepoint(db, "delete_document"):
        delete_payments(db, document_id)
        db.execute("DELETE FROM document_lines WHERE document_id = ?", [document_id])
        db.execute("DELETE FROM documents WHERE id = ?", [document_id])
        give_back_latest_number(db, company_id, kind)
