"""Documents are filed by the company they name, never by a webhook header.

Every case reads a real corpus file or a copy edited in place (CODA records keep 128 columns): the
supplier of a daily receipt, the customer of a purchase invoice, the holder and account of a CODA.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from webapp.scrada import identify, records
from webapp.scrada.formats import MAX_DOCUMENT_BYTES, InvalidDocument
from webapp.scrada.identify import (
    DocumentParty,
    NoCompany,
    adopt_company,
    document_party,
    match_company,
    normalise_company_number,
    normalise_iban,
    pretty_iban,
)
from webapp.store import Store

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
SCRADA_UBL = "ubl/deinte-scrada-postman__Get_sales_invoice_UBL.xml"
ODOO_UBL = "ubl/odoo-beg__testcase01_minimal_invoice.xml"
PEPPOL_UBL = "ubl/peppol-bis3__base-example.xml"
CREDIT_NOTE = "ubl/peppol-bis3__base-creditnote-correction.xml"
SINGLE = "coda/pycoda__Coda_v2_3_single_statement.txt"
MULTI = "coda/pycoda__Coda_v2_3_multi_statements.txt"
GLOBALISATION = "coda/pycoda__Coda_v2_3_globalisation.txt"
FOREIGN = "coda/pycoda__Coda_foreign_account.txt"
UNBALANCED = "coda/oca-l10n-belgium__Ontvangen_CODA.2012-01-11-18.59.15.txt"


def corpus(name: str) -> bytes:
    path = CORPUS / name
    assert path.is_file(), f"corpus file missing: {path}"
    return path.read_bytes()


def edit_record(data: bytes, record: str, occurrence: int, column: int, text: str) -> bytes:
    """Overwrite `text` at 1-based `column` of the n-th record of a type; 128 columns kept."""
    lines = data.split(b"\n")
    seen = -1
    for index, line in enumerate(lines):
        if line[:1] == record.encode():
            seen += 1
            if seen == occurrence:
                start = column - 1
                edited = line[:start] + text.encode("latin-1") + line[start + len(text) :]
                assert len(edited) == len(line)
                lines[index] = edited
                return b"\n".join(lines)
    raise AssertionError(f"no record {record} #{occurrence}")


def named_no_company(kind: str, data: bytes) -> str:
    with pytest.raises(NoCompany) as caught:
        document_party(kind, data)
    return caught.value.message


# --- the corpus ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "number", "company"),
    [
        (SCRADA_UBL, "daily-receipts", "0836836222", "Apple bv"),
        (SCRADA_UBL, "purchase-invoices", "0793904121", "Customer 01"),
        (SCRADA_UBL, "peppol-inbound", "0793904121", "Customer 01"),
        (ODOO_UBL, "daily-receipts", "0123456749", "Demo Shop NV"),
    ],
)
def test_ubl_client_is_the_supplier_of_receipts_and_the_customer_of_purchases(
    name: str, kind: str, number: str, company: str
) -> None:
    party = document_party(kind, corpus(name))
    assert party == DocumentParty(number, "BE" + number, company, None)


@pytest.mark.parametrize(
    ("name", "number", "holder", "account"),
    [
        (SINGLE, "0417331909", "STORA ENSO LANGERBRUGGE NV", "BE86407051416150"),
        (GLOBALISATION, "0847615989", "SA XXXX MARKET", "BE12341676096039"),
        # Record 0 says 0820512012, whose check digits are wrong: only the account is trusted.
        (UNBALANCED, None, "NOVIAT NV", "BE46737018594236"),
        # A foreign holder: record 0 is all zeros, the foreign IBAN (structure 3) is all there is.
        (FOREIGN, None, "VILLA XXXXXXX SASU", "FR1234567890240924002304825"),
    ],
)
def test_coda_holder_number_and_account(
    name: str, number: str | None, holder: str, account: str
) -> None:
    party = document_party("cash-book", corpus(name))
    assert party.company_number == number
    assert party.vat_number == (f"BE{number}" if number else None)
    assert party.name == holder
    assert party.iban == account
    assert party.accounts == (account,)


def test_a_coda_file_of_two_companies_is_filed_under_none() -> None:
    message = named_no_company("cash-book", corpus(MULTI))
    assert message == "The document names several companies ({numbers}); it is filed under none."


def test_two_statements_of_one_holder_give_both_accounts() -> None:
    data = edit_record(corpus(MULTI), "0", 1, 72, "00417331909")
    party = document_party("cash-book", data)
    assert party.company_number == "0417331909"
    assert party.accounts == ("BE86407051416150", "BE12341702625236")


@pytest.mark.parametrize("name", [PEPPOL_UBL, CREDIT_NOTE])
def test_foreign_parties_name_no_belgian_company(name: str) -> None:
    for kind in ("daily-receipts", "purchase-invoices"):
        message = named_no_company(kind, corpus(name))
        assert message == "The document names no Belgian company number or VAT number."


def test_a_wrong_check_digit_is_named_in_the_reason() -> None:
    # The odoo sample's customer 0214168947 has check digits 47; 97 − 02141689 mod 97 is 71.
    with pytest.raises(NoCompany) as caught:
        document_party("purchase-invoices", corpus(ODOO_UBL))
    assert caught.value.params == {"number": "0214168947"}
    assert "check digits" in caught.value.message


# --- UBL variants ----------------------------------------------------------------------------------


def supplier_only(identifier: str) -> bytes:
    """The Scrada invoice whose supplier is named by this one element only."""
    text = corpus(SCRADA_UBL).decode()
    start = text.index("<cac:AccountingSupplierParty>")
    end = text.index("</cac:AccountingSupplierParty>")
    party = (
        "<cac:AccountingSupplierParty><cac:Party>"
        f"{identifier}<cac:PartyName><cbc:Name>Shop</cbc:Name></cac:PartyName>"
        "</cac:Party>"
    )
    return (text[:start] + party + text[end:]).encode()


@pytest.mark.parametrize(
    "identifier",
    [
        '<cbc:EndpointID schemeID="0208">0836836222</cbc:EndpointID>',
        '<cbc:EndpointID schemeID="0208">0836.836.222</cbc:EndpointID>',
        '<cbc:EndpointID schemeID="9925">BE0836836222</cbc:EndpointID>',
        '<cbc:EndpointID schemeID="9925">be 0836 836 222</cbc:EndpointID>',
        '<cbc:EndpointID schemeID="9956">0836836222</cbc:EndpointID>',
        '<cac:PartyIdentification><cbc:ID schemeID="0208">0836836222</cbc:ID>'
        "</cac:PartyIdentification>",
        "<cac:PartyTaxScheme><cbc:CompanyID>BE836836222</cbc:CompanyID></cac:PartyTaxScheme>",
        '<cac:PartyLegalEntity><cbc:RegistrationName>Shop SA</cbc:RegistrationName><cbc:CompanyID schemeID="0208">0836836222</cbc:CompanyID></cac:PartyLegalEntity>',
    ],
)
def test_each_belgian_identifier_names_the_company(identifier: str) -> None:
    party = document_party("daily-receipts", supplier_only(identifier))
    assert party.company_number == "0836836222"
    assert party.vat_number == "BE0836836222"
    assert party.name in {"Shop", "Shop SA"}


@pytest.mark.parametrize(
    "identifier",
    [
        "",
        '<cbc:EndpointID schemeID="0088">0836836222</cbc:EndpointID>',  # a GLN, not Belgian
        "<cac:PartyLegalEntity><cbc:CompanyID>0836836222</cbc:CompanyID></cac:PartyLegalEntity>",
        "<cac:PartyTaxScheme><cbc:CompanyID>NL0836836222</cbc:CompanyID></cac:PartyTaxScheme>",
    ],
)
def test_no_belgian_identifier_names_no_company(identifier: str) -> None:
    message = named_no_company("daily-receipts", supplier_only(identifier))
    assert message == "The document names no Belgian company number or VAT number."


def test_a_bad_number_is_skipped_when_a_good_one_follows() -> None:
    data = supplier_only(
        '<cbc:EndpointID schemeID="0208">0836836223</cbc:EndpointID>'
        "<cac:PartyTaxScheme><cbc:CompanyID>BE0836836222</cbc:CompanyID></cac:PartyTaxScheme>"
    )
    assert document_party("daily-receipts", data).company_number == "0836836222"


def test_no_supplier_party_names_no_company() -> None:
    text = corpus(SCRADA_UBL).decode()
    start = text.index("<cac:AccountingSupplierParty>")
    end = text.index("</cac:AccountingSupplierParty>") + len("</cac:AccountingSupplierParty>")
    data = (text[:start] + text[end:]).encode()
    assert named_no_company("daily-receipts", data).startswith("The document names no Belgian")


def test_a_pdf_purchase_invoice_says_why_it_is_not_filed() -> None:
    message = named_no_company("purchase-invoices", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n")
    assert message == "The document is a PDF: the company it belongs to cannot be read from it."


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<Invoice><unclosed></Invoice>", "not well-formed"),
        (b"<Order xmlns='urn:x'/>", "a UBL Invoice or CreditNote is expected"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>'
            b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>",
            "DOCTYPE",
        ),
        (b"", "empty"),
    ],
)
def test_a_document_that_is_not_ubl_is_refused_with_its_reason(data: bytes, words: str) -> None:
    with pytest.raises(InvalidDocument) as caught:
        document_party("daily-receipts", data)
    assert not isinstance(caught.value, NoCompany)
    assert words in caught.value.message


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown book kind"):
        document_party("receipts", corpus(SCRADA_UBL))


# --- CODA variants ---------------------------------------------------------------------------------


def test_a_belgian_account_number_becomes_its_iban() -> None:
    # Structure 0: columns 6-17 the 12-digit account, 19-21 the currency, blanks up to 42.
    data = edit_record(corpus(UNBALANCED), "1", 0, 2, "0")
    data = edit_record(data, "1", 0, 6, "737018594236 EUR".ljust(37))
    assert document_party("cash-book", data).iban == "BE46737018594236"


@pytest.mark.parametrize("written", ["00417331909", "0417331909 ", " 0417331909", "  417331909"])
def test_ways_record_0_writes_the_holder_number(written: str) -> None:
    data = edit_record(corpus(SINGLE), "0", 0, 72, written.ljust(11))
    assert document_party("cash-book", data).company_number == "0417331909"


@pytest.mark.parametrize("kind", ["cash-book", "daily-receipts"])
def test_an_oversized_or_empty_document_is_refused_before_reading(kind: str) -> None:
    with pytest.raises(InvalidDocument) as caught:
        document_party(kind, b"0" * (MAX_DOCUMENT_BYTES + 1))
    assert caught.value.params["size"] == MAX_DOCUMENT_BYTES + 1
    with pytest.raises(InvalidDocument, match="empty"):
        document_party(kind, b" \n")


def test_a_coda_with_a_bad_number_and_no_account_names_why() -> None:
    data = edit_record(corpus(UNBALANCED), "1", 0, 2, "7")  # no known account structure
    with pytest.raises(NoCompany) as caught:
        document_party("cash-book", data)
    assert caught.value.params == {"number": "00820512012"}


def test_a_coda_naming_nothing_is_refused() -> None:
    data = edit_record(corpus(FOREIGN), "1", 0, 2, "7")
    assert named_no_company("cash-book", data) == "The document names no company."


def test_a_file_that_is_no_coda_says_what_is_wrong() -> None:
    with pytest.raises(InvalidDocument) as caught:
        document_party("cash-book", b"hello\nworld\n")
    assert not isinstance(caught.value, NoCompany)
    assert "128 characters" in caught.value.message


# --- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0836836222", "0836836222"),
        ("0836.836.222", "0836836222"),
        ("BE 0836 836 222", "0836836222"),
        ("be0836836222", "0836836222"),
        ("836836222", "0836836222"),
        ("1000000021", "1000000021"),  # numbers starting with 1: 97 − 10000000 mod 97 = 21
        ("1000000012", None),
        ("0836836223", None),
        ("2836836264", None),  # check digits right, but an establishment unit
        ("083683622", None),
        ("08368362222", None),
        ("0836836２22", None),
        ("", None),
    ],
)
def test_company_numbers(text: str, number: str | None) -> None:
    assert normalise_company_number(text) == number


def test_ibans() -> None:
    assert normalise_iban("be71 0961 2345 6769") == "BE71096123456769"
    assert normalise_iban("096123456769") == "BE71096123456769"
    assert normalise_iban("not an account") is None
    assert pretty_iban("BE71096123456769") == "BE71 0961 2345 6769"
    assert pretty_iban("FR1234567890240924002304825") == "FR12 3456 7890 2409 2400 2304 825"


# --- matching --------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "relais.sqlite")
    with store.write() as db:
        records.upsert_company(
            db, "uuid-a", source="partner", selected=True, company_number="0417331909"
        )
        records.upsert_company(db, "uuid-b", source="partner", selected=True)
        records.upsert_book(db, "uuid-b", "cash-book", "cb1", "Caisse", True, True)
        identify.set_book_iban(db, "uuid-b", "cb1", "be71 0961 2345 6769")
    return store


def test_match_by_company_number_then_by_cash_book_account(store: Store) -> None:
    with store.read() as db:
        assert match_company(db, document_party("cash-book", corpus(SINGLE))) == "uuid-a"
        by_account = DocumentParty(None, None, "", "BE71096123456769", ("BE71096123456769",))
        assert match_company(db, by_account) == "uuid-b"
        unknown = DocumentParty("0836836222", "BE0836836222", "Apple bv", None)
        assert match_company(db, unknown) is None
    assert match_company(store, document_party("cash-book", corpus(SINGLE))) == "uuid-a"


def test_an_account_of_a_daily_receipt_book_does_not_match(store: Store) -> None:
    with store.write() as db:
        db.execute("UPDATE scrada_books SET kind = 'daily-receipts'")
    with store.read() as db:
        party = DocumentParty(None, None, "", "BE71096123456769", ("BE71096123456769",))
        assert match_company(db, party) is None


def test_match_by_an_account_seen_on_a_statement(store: Store) -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO scrada_statements VALUES ('BE46737018594236', 2012, 135, 'uuid-a',"
            " '2012-01-11', '0', '0', 'now')"
        )
    with store.read() as db:
        assert match_company(db, document_party("cash-book", corpus(UNBALANCED))) == "uuid-a"


def test_a_new_company_is_adopted_from_its_document(store: Store) -> None:
    party = document_party("daily-receipts", corpus(SCRADA_UBL))
    with store.write() as db:
        assert adopt_company(db, party, source="webhook", selected=False) == (
            "doc-0836836222",
            True,
        )
    with store.write() as db:
        assert adopt_company(db, party, source="webhook", selected=True) == (
            "doc-0836836222",
            False,
        )
    adopted = {c.id: c for c in records.companies(store)}["doc-0836836222"]
    assert (adopted.company_number, adopted.name, adopted.selected) == (
        "0836836222",
        "Apple bv",
        False,
    )
    with store.read() as db:
        row = db.execute(
            "SELECT source, vat_number FROM scrada_companies WHERE id = 'doc-0836836222'"
        ).fetchone()
    assert tuple(row) == ("webhook", "BE0836836222")


def test_a_scrada_company_wins_over_an_adopted_one(store: Store) -> None:
    party = document_party("daily-receipts", corpus(SCRADA_UBL))
    with store.write() as db:
        adopt_company(db, party, source="webhook", selected=True)
        records.upsert_company(
            db, "uuid-z", source="partner", selected=True, company_number="0836836222"
        )
    with store.read() as db:
        assert match_company(db, party) == "uuid-z"


def test_an_account_alone_makes_no_company(store: Store) -> None:
    party = document_party("cash-book", corpus(FOREIGN))
    with pytest.raises(NoCompany) as caught, store.write() as db:
        adopt_company(db, party, source="webhook", selected=True)
    assert caught.value.params == {"account": "FR12 3456 7890 2409 2400 2304 825"}
    assert {c.id for c in records.companies(store)} == {"uuid-a", "uuid-b"}


def test_company_of_document_in_one_call(store: Store) -> None:
    with store.write() as db:
        company, created = identify.company_of_document(
            db, "cash-book", corpus(SINGLE), source="webhook", selected=True
        )
    assert (company, created) == (records.Company("uuid-a", "0417331909", "", True), False)
    with store.write() as db:
        company, created = identify.company_of_document(
            db, "purchase-invoices", corpus(SCRADA_UBL), source="webhook", selected=True
        )
    assert created is True
    assert (company.id, company.name, company.selected) == ("doc-0793904121", "Customer 01", True)
    with pytest.raises(NoCompany), store.write() as db:
        identify.company_of_document(
            db, "daily-receipts", corpus(PEPPOL_UBL), source="webhook", selected=True
        )


def test_the_webhook_topics_map_to_books() -> None:
    assert identify.WEBHOOK_KINDS["purchaseInvoice/new"] == "purchase-invoices"
    assert identify.WEBHOOK_KINDS["cashBook/newStatementCoda"] == "cash-book"


# --- migration 0012 --------------------------------------------------------------------------------


def test_books_survive_the_rebuild_and_take_purchase_books(tmp_path: Path) -> None:
    old = Store(tmp_path / "old.sqlite", migrate=False)
    old.migrate(target=11)
    with old.write() as db:
        records.upsert_company(db, "c1", source="configured", selected=True)
        records.upsert_book(db, "c1", "cash-book", "cb", "Caisse", True, False)
        db.execute("UPDATE scrada_books SET cursor = 42")
    old.close()
    store = Store(tmp_path / "old.sqlite")
    (book,) = records.books(store)
    assert (book.kind, book.id, book.name, book.selected, book.cursor) == (
        "cash-book",
        "cb",
        "Caisse",
        False,
        42,
    )
    with store.write() as db:
        records.upsert_book(db, "c1", "purchase-invoices", "purchases", "Achats", True, True)
    with pytest.raises(Exception, match="CHECK"), store.write() as db:
        records.upsert_book(db, "c1", "receipts", "x", "X", True, True)
    with store.write() as db:
        db.execute("DELETE FROM scrada_companies")  # the cascade still holds
    assert records.books(store) == []
