"""A chunk's writes (ECN-6): the rows the per-document path writes, by executemany, in document
order, so ids, numbers and history items come out the same."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from webapp.backoffice.handler_changes import BULK_OFF, BULK_ON
from webapp.backoffice.handler_parties import PARTY_FTS
from webapp.econnector import records
from webapp.econnector.batch_customers import NewParty
from webapp.econnector.batch_plan import Accepted, Plan
from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import SourceDocument
from webapp.econnector.records import RECEIVE_JOB, Exchange
from webapp.i18n import N_

PARTY_FIELDS = ("last_name", "first_name", "company", "email", "address", "postcode", "city")


def write(db: Database, connector: Connector, plan: Plan, run_id: int | None, now: str) -> None:
    conn = db.conn
    new = [item.customer.new for item in plan.accepted if item.customer.new is not None]
    _parties(db, connector, new, now)
    conn.executemany(
        "INSERT OR REPLACE INTO connector_customers (connector_id, external_ref, party_id)"
        " VALUES (?, ?, ?)",
        [
            (connector.id, item.customer.link_ref, item.customer.party_id)
            for item in plan.accepted
            if item.customer.link_ref
        ],
    )
    first_id = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM documents").fetchone()[0])
    ids = range(first_id, first_id + len(plan.accepted))
    _documents(db, connector, plan, ids, now)
    if run_id is not None:
        records.record_many(db, run_id, RECEIVE_JOB, connector.code, _exchanges(plan))


def _parties(db: Database, connector: Connector, new: list[NewParty], now: str) -> None:
    """The chunk's new customers, their full-text rows and change-log rows written by three
    executemany: the per-row triggers cost twice what they write (handler_changes, migration
    0018). The row of bulk_writes that turns them off never leaves the chunk's transaction."""
    if not new:
        return
    conn = db.conn
    rows = [
        {
            "id": party.id,
            "code": party.code,
            "family_id": connector.customer_family_id,
            **{name: party.header.get(name) or "" for name in PARTY_FIELDS},
            "country": party.country or None,
            "created_at": now,
            "updated_at": now,
        }
        for party in new
    ]
    conn.execute(BULK_ON)
    try:
        conn.executemany(
            "INSERT INTO parties (kind, id, code, family_id, last_name, first_name, company,"
            " email, address, postcode, city, country, created_at, updated_at)"
            " VALUES ('customer', :id, :code, :family_id, :last_name, :first_name, :company,"
            " :email, :address, :postcode, :city, :country, :created_at, :updated_at)",
            rows,
        )
    finally:
        conn.execute(BULK_OFF)
    # As the triggers of migrations 0006 and 0009 would: the values stored, in the rows' order.
    conn.executemany(
        f"INSERT INTO parties_fts (rowid, {', '.join(PARTY_FTS)})"
        f" VALUES (:id, {', '.join(f':{name}' for name in PARTY_FTS)})",
        rows,
    )
    conn.executemany(
        "INSERT INTO change_log (entity, key, op) VALUES ('customers', ?, 'upsert')",
        [(party.code,) for party in new],
    )


def _documents(db: Database, connector: Connector, plan: Plan, ids: range, now: str) -> None:
    conn = db.conn
    source = f"connector:{connector.code}".strip()
    conn.executemany(
        "INSERT INTO documents (id, company_id, site_id, kind, number, doc_date, party_id,"
        " carrier_id, warehouse_id, total_excl_vat, total_vat, total_incl_vat, source,"
        " external_ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)",
        [
            (
                document_id,
                plan.company_id,
                connector.site_id,
                connector.doc_type,
                item.number,
                item.checked.doc_date.isoformat(),
                item.customer.party_id,
                connector.carrier_id,
                float(item.checked.total_excl_vat),
                float(item.checked.total_vat),
                float(item.checked.total_incl_vat),
                source,
                item.prepared.document.doc_ref.strip(),
                now,
            )
            for document_id, item in zip(ids, plan.accepted, strict=True)
        ],
    )
    conn.executemany(
        "INSERT INTO document_lines (document_id, line_no, article_id, label, unit_code,"
        " quantity, unit_price_excl_vat, vat_rate, total_excl_vat, total_incl_vat)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (document_id, line_no, article_id, label, unit_code, *amounts[2])
            for document_id, item in zip(ids, plan.accepted, strict=True)
            for line_no, article_id, label, unit_code, amounts in item.checked.lines
        ],
    )
    conn.executemany(
        "INSERT INTO document_payments (document_id, payment_method_id, amount, paid_on)"
        " VALUES (?, ?, ?, ?)",
        [
            (document_id, payment.method_id, float(payment.amount), payment.paid_on.isoformat())
            for document_id, item in zip(ids, plan.accepted, strict=True)
            for payment in item.checked.payments
        ],
    )
    conn.executemany(
        "INSERT INTO connector_documents (connector_id, doc_ref, document_id, file, integrated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (
                connector.id,
                item.prepared.document.doc_ref,
                document_id,
                item.prepared.document.file,
                now,
            )
            for document_id, item in zip(ids, plan.accepted, strict=True)
        ],
    )


def _exchanges(plan: Plan) -> list[Exchange]:
    """integration.record_document's items, in document order."""
    items = []
    for kind, index in plan.order:
        if kind == "refused":
            prepared, reasons = plan.refused[index]
            items.append(
                _exchange(
                    prepared.document,
                    "error",
                    "document",
                    N_("{ref} not integrated: {reasons}"),
                    None,
                    None,
                    {"reasons": "; ".join(reasons)},
                )
            )
            continue
        accepted: Accepted = plan.accepted[index]
        document, customer = accepted.prepared.document, accepted.customer
        if customer.status in ("new", "homonym"):
            items.append(
                _exchange(
                    document, "received", "customer", N_("{ref}: {name}"), None, customer.code
                )
            )
        items.append(
            _exchange(
                document,
                "received",
                "document",
                N_("{ref} integrated as {number}"),
                accepted.number,
                customer.code,
            )
        )
    return items


def _exchange(
    document: SourceDocument,
    status: str,
    kind: str,
    message: str,
    number: str | None,
    party: str | None,
    extra: dict[str, Any] | None = None,
) -> Exchange:
    doc_date = document.header.get("doc_date")
    params = {
        "ref": document.doc_ref,
        "file": document.file,
        "doc_ref": document.doc_ref,
        "doc_date": str(doc_date) if doc_date else None,
        "number": number,
        "party_code": party,
        "external_party": document.header.get("customer_ref"),
        "name": document.customer_name,
        "amount": str(document.header.get("total_incl_vat") or ""),
        **(extra or {}),
    }
    return Exchange(kind, status, document.doc_ref, message, params)
