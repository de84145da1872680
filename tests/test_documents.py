"""Documents: numbering, totals and rounding, VAT conversion, duplicates, refusals that write nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from webapp.backoffice.document_totals import compute_line
from webapp.backoffice.documents import (
    DocumentError,
    DocumentInput,
    DuplicateDocument,
    LineInput,
    PaymentInput,
    TotalMismatch,
    create_document,
    delete_document,
    find_document,
    get_document,
    get_or_create_document,
)
from webapp.i18n import language
from webapp.store import Store

DAY = date(2026, 11, 20)
NOW = "2026-11-20T10:00:00Z"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "relais.sqlite")
    with opened.write() as db:
        _insert_reference_data(db)
    yield opened
    opened.close()


def _insert_reference_data(db: Any) -> None:
    db.execute(
        "INSERT INTO articles (id, code, label, unit_id, vat_rate_id, created_at, updated_at)"
        " VALUES (1, 'PN22', 'Bourgogne Pinot Noir 2022', (SELECT id FROM units WHERE code = 'BT'),"
        " (SELECT id FROM vat_rates WHERE code = 'FR20'), ?, ?)",
        [NOW, NOW],
    )
    db.execute(
        "INSERT INTO articles (id, code, label, unit_id, vat_rate_id, created_at, updated_at)"
        " VALUES (2, 'MIEL', 'Miel d''acacia 500 g', (SELECT id FROM units WHERE code = 'U'),"
        " (SELECT id FROM vat_rates WHERE code = 'FR5.5'), ?, ?)",
        [NOW, NOW],
    )
    for party_id, kind in ((1, "customer"), (2, "supplier")):
        db.execute(
            "INSERT INTO parties (id, kind, code, last_name, created_at, updated_at)"
            " VALUES (?, ?, ?, 'Martin', ?, ?)",
            [party_id, kind, f"P{party_id}", NOW, NOW],
        )
    db.execute("INSERT INTO companies (id, code, name) VALUES (2, 'OTHER', 'Autre société')")
    db.execute("INSERT INTO sites (id, company_id, code, name) VALUES (2, 2, 'S2', 'Site 2')")
    db.execute("INSERT INTO payment_methods (code, label, active) VALUES ('OLD', 'Ancien', 0)")


def order(**changes: Any) -> DocumentInput:
    base = DocumentInput(
        kind="order",
        doc_date=DAY,
        party_id=1,
        lines=[LineInput("Pinot noir", D("2"), D("15.00"), D("20"), article_id=1, unit_code="BT")],
    )
    return replace(base, **changes)


def create(store: Store, data: DocumentInput) -> Any:
    with store.write() as db:
        return create_document(db, data)


def counts(store: Store) -> dict[str, Any]:
    with store.read() as db:
        tables = ("documents", "document_lines", "document_payments")
        found: dict[str, Any] = {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables
        }
        found["sequences"] = db.execute(
            "SELECT company_id, kind, next_value FROM document_sequences ORDER BY 1, 2"
        ).fetchall()
    found["sequences"] = [tuple(row) for row in found["sequences"]]
    return found


# --- Numbering -------------------------------------------------------------------------------


def test_numbers_are_per_company_and_kind_and_without_gaps(store: Store) -> None:
    numbers = [create(store, order()).number for _ in range(3)]
    assert numbers == ["CO000001", "CO000002", "CO000003"]
    assert create(store, order(kind="delivery")).number == "BL000001"
    other = create(store, order(company_id=2))
    assert (other.number, other.company_id) == ("CO000001", 2)
    assert create(store, order()).number == "CO000004"
    assert counts(store)["sequences"] == [(1, "delivery", 2), (1, "order", 5), (2, "order", 2)]


def test_a_datetime_is_taken_as_its_date(store: Store) -> None:
    created = create(store, order(doc_date=datetime(2026, 11, 20, 23, 30)))
    with store.read() as db:
        document = get_document(db, created.id)
    assert document is not None and document.doc_date == DAY


def test_default_company_is_used_when_none_is_given(store: Store) -> None:
    with store.write() as db:
        db.execute("UPDATE companies SET is_default = (id = 2)")
    assert create(store, order()).company_id == 2


def test_a_rolled_back_document_leaves_no_gap(store: Store) -> None:
    create(store, order())
    with pytest.raises(RuntimeError), store.write() as db:
        assert create_document(db, order()).number == "CO000002"
        raise RuntimeError("the caller fails after the document")
    assert create(store, order()).number == "CO000002"


def test_a_refused_document_caught_by_the_caller_writes_nothing(store: Store) -> None:
    with store.write() as db:
        kept = create_document(db, order())
        with pytest.raises(DocumentError):
            create_document(db, order(lines=[LineInput("x", D("0"), D("1"), D("20"))]))
        after = create_document(db, order())
    assert (kept.number, after.number) == ("CO000001", "CO000002")
    assert counts(store)["documents"] == 2
    assert counts(store)["document_lines"] == 2


def test_a_write_failing_halfway_is_undone_even_if_the_caller_goes_on(store: Store) -> None:
    with store.write() as db:
        db.execute(
            "CREATE TEMP TRIGGER refuse_payments BEFORE INSERT ON document_payments"
            " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
        )
    with store.write() as db:
        with pytest.raises(sqlite3.DatabaseError):
            create_document(db, order(payments=[PaymentInput("CASH", D("5"))]))
        db.execute("DROP TRIGGER temp.refuse_payments")
        after = create_document(db, order())
    assert after.number == "CO000001"
    assert counts(store)["documents"] == counts(store)["document_lines"] == 1


# --- Totals ----------------------------------------------------------------------------------


def test_prices_excluding_vat_round_half_up_per_line(store: Store) -> None:
    lines = [
        LineInput("a", D("3"), D("12.345"), D("20")),  # 37.035 -> 37.04; x1.2 = 44.448 -> 44.45
        LineInput("b", D("1"), D("0.125"), D("20")),  # 0.125 -> 0.13 (half-even would say 0.12)
        LineInput("c", D("1.5"), D("9.99"), D("5.5")),  # 14.985 -> 14.99; x1.055 = 15.81445
    ]
    created = create(store, order(lines=lines))
    assert created.total_excl_vat == D("52.16")
    assert created.total_incl_vat == D("44.45") + D("0.16") + D("15.81")
    assert created.total_vat == created.total_incl_vat - created.total_excl_vat
    with store.read() as db:
        document = get_document(db, created.id)
    assert document is not None
    assert [(line.total_excl_vat, line.total_incl_vat) for line in document.lines] == [
        (D("37.04"), D("44.45")),
        (D("0.13"), D("0.16")),
        (D("14.99"), D("15.81")),
    ]
    assert document.total_incl_vat == sum(line.total_incl_vat for line in document.lines)
    assert document.total_excl_vat == sum(line.total_excl_vat for line in document.lines)
    assert document.lines[0].unit_price_excl_vat == D("12.345")
    assert document.lines[2].quantity == D("1.5")


def test_prices_including_vat_are_converted(store: Store) -> None:
    lines = [
        LineInput("Pinot noir", D("2"), D("18.00"), D("20")),
        LineInput("Miel", D("3"), D("9.50"), D("5.5")),
    ]
    created = create(store, order(lines=lines, prices_include_vat=True))
    with store.read() as db:
        document = get_document(db, created.id)
    assert document is not None
    wine, honey = document.lines
    assert (wine.unit_price_excl_vat, wine.total_excl_vat, wine.total_incl_vat) == (
        D("15.0000"),
        D("30.00"),
        D("36.00"),
    )
    # 9.50 / 1.055 = 9.00473...; 28.50 / 1.055 = 27.0142... -> 27.01
    assert (honey.unit_price_excl_vat, honey.total_excl_vat, honey.total_incl_vat) == (
        D("9.0047"),
        D("27.01"),
        D("28.50"),
    )
    assert (document.total_excl_vat, document.total_vat, document.total_incl_vat) == (
        D("57.01"),
        D("7.49"),
        D("64.50"),
    )


def test_compute_line_both_ways() -> None:
    excl = compute_line(D("1"), D("10.00"), D("5.5"), prices_include_vat=False)
    assert (excl.total_excl_vat, excl.total_incl_vat) == (D("10.00"), D("10.55"))
    incl = compute_line(D("1"), D("10.55"), D("5.5"), prices_include_vat=True)
    assert (incl.unit_price_excl_vat, incl.total_excl_vat) == (D("10.0000"), D("10.00"))
    refund = compute_line(D("-2"), D("0.005"), D("20"), prices_include_vat=False)
    assert refund.total_excl_vat == D("-0.01")  # half-up rounds away from zero


def test_article_gives_label_vat_rate_and_unit(store: Store) -> None:
    created = create(store, order(lines=[LineInput("", D("4"), D("8.00"), article_id=2)]))
    with store.read() as db:
        document = get_document(db, created.id)
    assert document is not None
    line = document.lines[0]
    assert (line.label, line.vat_rate, line.unit_code) == ("Miel d'acacia 500 g", D("5.5"), "U")
    assert line.total_incl_vat == D("33.76")


def test_expected_total_is_checked(store: Store) -> None:
    assert create(store, order(expected_total_incl_vat=D("36.01"))).total_incl_vat == D("36.00")
    with pytest.raises(TotalMismatch) as caught:
        create(store, order(expected_total_incl_vat=D("36.02")))
    with language("en"):
        message = caught.value.translated()
    assert "36.00" in message and "36.02" in message
    with language("fr"):  # the amounts take the reader's decimal comma
        assert "36,02" in caught.value.translated()
        assert "36,00" in caught.value.translated()
    assert counts(store)["documents"] == 1


def test_refund_document_with_refund_payment(store: Store) -> None:
    lines = [LineInput("Retour", D("-1"), D("18.00"), D("20"))]
    payments = [PaymentInput("CASH", D("-18.00"))]
    created = create(store, order(lines=lines, payments=payments, prices_include_vat=True))
    assert created.total_incl_vat == D("-18.00")


# --- Payments and reading back ---------------------------------------------------------------


def test_payments_are_stored_and_read_back(store: Store) -> None:
    payments = [
        PaymentInput("card", D("20.00")),
        PaymentInput("CASH", D("16.00"), paid_on=date(2026, 11, 21)),
    ]
    created = create(store, order(payments=payments, source="shop", external_ref="CW_1"))
    with store.read() as db:
        document = get_document(db, created.id)
        assert find_document(db, "shop", "CW_1") == document
        assert get_document(db, 999) is None
    assert document is not None
    assert [(p.method, p.amount, p.paid_on) for p in document.payments] == [
        ("CARD", D("20.00"), DAY),
        ("CASH", D("16.00"), date(2026, 11, 21)),
    ]
    assert (document.number, document.doc_date, document.party_id) == ("CO000001", DAY, 1)
    assert (document.source, document.external_ref, document.status) == ("shop", "CW_1", "open")


# --- Never twice -----------------------------------------------------------------------------


def test_the_same_external_reference_is_never_integrated_twice(store: Store) -> None:
    first = create(store, order(source="econnector:CSV", external_ref="CW_0000121_03"))
    with pytest.raises(DuplicateDocument) as caught:
        create(store, order(source="econnector:CSV", external_ref="CW_0000121_03"))
    assert caught.value.document_id == first.id
    with language("en"):
        assert "CO000001" in caught.value.translated()
        assert "CW_0000121_03" in caught.value.translated()
    assert counts(store)["documents"] == 1
    # Another source may use the same reference.
    assert create(store, order(source="pos:1", external_ref="CW_0000121_03")).number == "CO000002"


def test_get_or_create_returns_the_existing_document(store: Store) -> None:
    data = order(source="pos:1", external_ref="BOU-000042")
    with store.write() as db:
        first = get_or_create_document(db, data)
        again = get_or_create_document(db, data)
    assert first.created and not again.created
    assert (again.id, again.number, again.total_incl_vat) == (first.id, first.number, D("36.00"))
    assert counts(store)["documents"] == 1


# --- Deleting --------------------------------------------------------------------------------


def test_only_the_latest_document_can_be_deleted(store: Store) -> None:
    first = create(store, order(payments=[PaymentInput("CASH", D("10"))]))
    second = create(store, order(source="shop", external_ref="A"))
    with pytest.raises(DocumentError) as caught, store.write() as db:
        delete_document(db, first.id)
    with language("en"):
        assert "CO000002" in caught.value.translated()
    with store.write() as db:
        delete_document(db, second.id)
        delete_document(db, first.id)
    assert counts(store)["documents"] == counts(store)["document_lines"] == 0
    assert counts(store)["document_payments"] == 0
    assert create(store, order(source="shop", external_ref="A")).number == "CO000001"
    with pytest.raises(DocumentError), store.write() as db:
        delete_document(db, 999)


# --- Refusals --------------------------------------------------------------------------------

LINE = LineInput("Pinot noir", D("1"), D("15.00"), D("20"))

BAD_INPUTS: dict[str, tuple[DocumentInput, str]] = {
    "unknown kind": (order(kind="invoice"), "invoice"),
    "unknown company": (order(company_id=99), "99"),
    "unknown customer": (order(party_id=99), "99"),
    "supplier as customer": (order(party_id=2), "2"),
    "site of another company": (order(site_id=2), "2"),
    "unknown warehouse": (order(warehouse_id=99), "99"),
    "unknown carrier": (order(carrier_id=99), "99"),
    "source without reference": (order(source="shop"), "source"),
    "reference without source": (order(external_ref="X1"), "source"),
    "no lines": (order(lines=[]), "line"),
    "zero quantity": (order(lines=[LINE, replace(LINE, quantity=D("0"))]), "Line 2"),
    "quantity not a number": (order(lines=[replace(LINE, quantity=D("NaN"))]), "Line 1"),
    "quantity with 4 decimals": (order(lines=[replace(LINE, quantity=D("1.0005"))]), "1.0005"),
    "negative price": (order(lines=[replace(LINE, unit_price=D("-0.01"))]), "-0.01"),
    "price not a number": (order(lines=[replace(LINE, unit_price=D("Infinity"))]), "Line 1"),
    "unknown article": (order(lines=[replace(LINE, article_id=99)]), "99"),
    "no VAT rate": (order(lines=[replace(LINE, vat_rate=None)]), "VAT"),
    "unknown VAT rate": (order(lines=[replace(LINE, vat_rate=D("7"))]), "7"),
    "unknown unit": (order(lines=[replace(LINE, unit_code="XX")]), "XX"),
    "no label": (order(lines=[replace(LINE, label="  ")]), "label"),
    "unknown payment method": (order(payments=[PaymentInput("BITCOIN", D("1"))]), "BITCOIN"),
    "inactive payment method": (order(payments=[PaymentInput("OLD", D("1"))]), "OLD"),
    "zero payment": (order(payments=[PaymentInput("CASH", D("0"))]), "Payment 1"),
    "payments over the total": (
        order(payments=[PaymentInput("CASH", D("30")), PaymentInput("CARD", D("6.01"))]),
        "36.01",
    ),
    "payment of the wrong sign": (order(payments=[PaymentInput("CASH", D("-5"))]), "-5.00"),
    "expected total mismatch": (order(expected_total_incl_vat=D("35.98")), "35.98"),
    "date as text": (order(doc_date="20/11/2026"), "date"),
    "payment date as text": (
        order(payments=[PaymentInput("CASH", D("1"), paid_on="2026-11-20")]),  # type: ignore[arg-type]
        "Payment 1",
    ),
    "amount too large": (
        order(lines=[replace(LINE, quantity=D("1000000"), unit_price=D("1e6"))]),
        "Line 1",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_clearly_and_writes_nothing(store: Store, case: str) -> None:
    create(store, order())
    before = counts(store)
    data, shown = BAD_INPUTS[case]
    with pytest.raises(DocumentError) as caught, store.write() as db:
        create_document(db, data)
    assert counts(store) == before
    with language("en"):
        english = caught.value.translated()
    with language("fr"):
        french = caught.value.translated()
    assert shown in english
    assert french != english, "the message has a French translation"
    assert "{" not in french and "{" not in english
