"""Which client company a document belongs to, read from the document itself.

A partner-level webhook sends the partner's own id in `x-scrada-company-id`, and a file dropped in a
folder or mailed has no header at all: the only trustworthy owner of a document is the party it
names. Daily receipts are issued BY the client (UBL supplier party); purchase invoices and Peppol
inbound documents are addressed TO the client (UBL customer party); a CODA file names its holder's
company number in record 0 and the account in each record 1. A company is never made from a header.

Interface (for the pull, the webhook receiver, the drop folder and the UI):

    document_party(kind, data) -> DocumentParty
        kind is a book kind ('daily-receipts', 'cash-book', 'purchase-invoices', 'peppol-inbound').
        Raises NoCompany (a formats.InvalidDocument, so delivery quarantines it with its reason)
        when the document names no usable company, or formats.InvalidDocument when it is not a
        valid UBL/CODA at all.
    match_company(db or store, party) -> str | None
        The id of a known company: by company number, else by a cash book's IBAN (scrada_books.iban),
        else by an account already seen on a delivered statement (scrada_statements).
    adopt_company(db, party, *, source, selected) -> tuple[str, bool]
        match_company, else a new company under its own number and name ("doc-<number>", source and
        `selected` from the new-companies setting); returns (id, created). Raises NoCompany when the
        party has no company number (an account alone is not a company).
    company_of_document(db, kind, data, *, source, selected) -> tuple[records.Company, bool]
        The three above in one call, with the company as delivery's Incoming wants it.
    set_book_iban(db, company_id, book_id, iban)   what the cash-book refresh learns from Scrada
    WEBHOOK_KINDS                                  webhook topic -> book kind
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import coda
from lxml import etree
from sqlite_utils import Database

from webapp.i18n import N_
from webapp.scrada import formats, records
from webapp.store import Store

PURCHASE_BOOK = "purchase-invoices"
WEBHOOK_KINDS = {
    "journal/newInvoiceUbl": "daily-receipts",
    "cashBook/newStatementCoda": "cash-book",
    "peppolInboundDocument/new": "peppol-inbound",
    "purchaseInvoice/new": PURCHASE_BOOK,
}
# Which UBL party is the client: the shop issues its daily receipts, and receives its purchases.
_CLIENT_PARTY = {
    "daily-receipts": "cac:AccountingSupplierParty",
    PURCHASE_BOOK: "cac:AccountingCustomerParty",
    "peppol-inbound": "cac:AccountingCustomerParty",
}
_NS = formats.UBL_NAMESPACES
# Peppol EAS codes of Belgian identifiers: 0208 the company (enterprise) number, 9956 its
# predecessor still written by some software, 9925 the VAT number (BE + company number).
_COMPANY_SCHEMES = {"0208", "9956"}
_VAT_SCHEMES = {"9925"}
_ADOPTED_PREFIX = "doc-"
_MAX_BYTES = formats.MAX_DOCUMENT_BYTES
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{1,30}")


class NoCompany(formats.InvalidDocument):
    """The document does not say which company it belongs to (quarantined with this reason)."""


@dataclass(frozen=True)
class DocumentParty:
    company_number: str | None  # 10 digits, "0123456789", check digits verified
    vat_number: str | None  # "BE0123456789"
    name: str
    iban: str | None  # compact, upper case; CODA: the first statement's account
    accounts: tuple[str, ...] = field(default=())  # CODA: every statement's account


# --- numbers ---------------------------------------------------------------------------------------


def normalise_company_number(text: str) -> str | None:
    """A Belgian company number as 10 digits, from "0123.456.789", "BE 0123 456 789" or the old
    9-digit VAT form; None when it is not one (wrong length, letters, or bad check digits)."""
    compact = re.sub(r"[\s.\-/]", "", text).upper().removeprefix("BE")
    if len(compact) == 9:
        compact = "0" + compact  # VAT numbers before 2007 had 9 digits
    if len(compact) != 10 or not (compact.isascii() and compact.isdigit()):
        return None
    if compact[0] not in "01":  # enterprise numbers start with 0, or 1 since the 0 range ran out
        return None
    return compact if 97 - int(compact[:8]) % 97 == int(compact[8:]) else None


def normalise_iban(text: str) -> str | None:
    """An account as IBAN without spaces; a 12-digit Belgian account number becomes its IBAN.
    The IBAN check digits are not verified: matching is by equality with a known account, and the
    anonymised sample files carry accounts whose check digits are wrong."""
    compact = re.sub(r"[\s\-]", "", text).upper()
    if len(compact) == 12 and compact.isascii() and compact.isdigit():
        return belgian_iban(compact)
    return compact if _IBAN.fullmatch(compact) else None


def belgian_iban(bban: str) -> str:
    """ISO 13616: BE, then 98 − (BBAN + "BE00" as numbers) mod 97, then the BBAN."""
    digits = "".join(str(int(char, 36)) for char in bban + "BE00")
    return f"BE{98 - int(digits) % 97:02d}{bban}"


def pretty_iban(iban: str) -> str:
    """Groups of four, as on a bank statement: "BE71 0961 2345 6769"."""
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


# --- reading the party -----------------------------------------------------------------------------


def document_party(kind: str, data: bytes) -> DocumentParty:
    """The client company a document names; NoCompany when it names none (see module doc).

    The document need not be valid otherwise: an unbalanced statement of a known company is
    quarantined under that company, with the reason delivery finds."""
    if len(data) > _MAX_BYTES or not data.strip():
        # The size and emptiness refusals of formats.py, before anything is decoded.
        (formats.check_coda if kind == "cash-book" else formats.check_ubl)(data)
    if data.lstrip()[:5] == b"%PDF-":
        raise NoCompany(
            N_("The document is a PDF: the company it belongs to cannot be read from it.")
        )
    if kind == "cash-book":
        return _coda_party(data)
    party = _CLIENT_PARTY.get(kind)
    if party is None:
        raise ValueError(f"unknown book kind: {kind!r}")
    return _ubl_party(_ubl_root(data), party)


def _ubl_root(data: bytes) -> Any:
    """The root of a UBL Invoice or CreditNote, read with the hardened settings of formats.py
    (entities unresolved, no DTD, no network); formats.check_ubl names what is wrong otherwise."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, dtd_validation=False, load_dtd=False
    )
    try:
        tree = etree.parse(io.BytesIO(data), parser) if len(data) <= _MAX_BYTES else None
    except etree.XMLSyntaxError:
        tree = None
    if tree is not None and tree.docinfo.internalDTD is None and not tree.docinfo.doctype:
        root = tree.getroot()
        if str(root.tag) in formats.UBL_ROOTS:
            return root
    formats.check_ubl(data)  # raises the reason: size, syntax, DOCTYPE, root element
    raise NoCompany(N_("The document names no company."))  # pragma: no cover - check_ubl raised


def _ubl_party(root: Any, path: str) -> DocumentParty:
    party = root.find(f"{path}/cac:Party", _NS)
    if party is None:
        raise NoCompany(N_("The document names no Belgian company number or VAT number."))
    rejected: list[str] = []
    number = _ubl_company_number(party, rejected)
    if number is None:
        if rejected:
            raise NoCompany(
                N_("The company number {number} in the document is not valid (check digits)."),
                number=rejected[0],
            )
        raise NoCompany(N_("The document names no Belgian company number or VAT number."))
    name = _first_text(party, "cac:PartyLegalEntity/cbc:RegistrationName", "cac:PartyName/cbc:Name")
    return DocumentParty(number, "BE" + number, name, None)


def _ubl_company_number(party: Any, rejected: list[str]) -> str | None:
    """The first Belgian identifier of the party, from the strongest to the weakest claim."""
    belgian = _first_text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "BE"
    candidates: list[str] = []
    for element in party.iterfind("cac:PartyLegalEntity/cbc:CompanyID", _NS):
        scheme = element.get("schemeID")
        if scheme in _COMPANY_SCHEMES or (scheme is None and belgian):
            candidates.append(element.text or "")
    for path in ("cbc:EndpointID", "cac:PartyIdentification/cbc:ID"):
        for element in party.iterfind(path, _NS):
            if element.get("schemeID") in _COMPANY_SCHEMES | _VAT_SCHEMES:
                candidates.append(element.text or "")
    for element in party.iterfind("cac:PartyTaxScheme/cbc:CompanyID", _NS):
        if (element.text or "").strip().upper().startswith("BE"):
            candidates.append(element.text or "")
    for text in candidates:
        number = normalise_company_number(text)
        if number is not None:
            return number
        rejected.append(text.strip()[:40])
    return None


def _first_text(element: Any, *paths: str) -> str:
    for path in paths:
        found = element.find(path, _NS)
        if found is not None and (found.text or "").strip():
            return str(found.text).strip()
    return ""


# --- CODA ------------------------------------------------------------------------------------------


def _columns(table: dict[str, Any], name: str) -> slice:
    columns = table[name][0]
    if not isinstance(columns, slice):
        raise TypeError(f"febelfin-coda layout changed for {name!r}")
    return columns


# Record 0 columns 72-82: "0" + the company number of the Belgian account holder (all zeros when
# the holder is not Belgian); columns 35-60 the addressee's name. Record 1 columns 65-90: the
# account holder's name; the account itself is read by formats.check_coda (by structure).
_HOLDER_NUMBER = _columns(coda.HEADER, "company_id")
_ADDRESSEE = _columns(coda.HEADER, "address")
_HOLDER_NAME = _columns(coda.OLD_BALANCE, "account_holder_name")
_ACCOUNT_STRUCTURE = _columns(coda.OLD_BALANCE, "_account_structure")
_ACCOUNT = _columns(coda.OLD_BALANCE, "_account_currency")
# Record 1 column 2 says how columns 6-42 hold the account: 0 Belgian number (12 digits), 1 foreign
# number (34), 2 Belgian IBAN (31: 16 and blanks), 3 foreign IBAN (34); the currency follows.
_ACCOUNT_LENGTH = {"0": 12, "1": 34, "2": 31, "3": 34}


def _coda_party(data: bytes) -> DocumentParty:
    # Only records 0 and 1 are read (any byte decodes in latin-1, one column per byte): the rest
    # of the file is delivery's to judge, so a wrong statement is quarantined under its company.
    lines = [line.removesuffix("\r") for line in data.decode("latin-1").split("\n")]
    lines = [line for line in lines if len(line) == formats.CODA_RECORD_LENGTH]
    headers = [line for line in lines if line[0] == "0"]
    openings = [line for line in lines if line[0] == "1"]
    if not headers or not openings:
        formats.check_coda(data)  # raises what is wrong with the file
        raise NoCompany(N_("The document names no company."))
    numbers, rejected = _holder_numbers(headers)
    if len(numbers) > 1:
        raise NoCompany(
            N_("The document names several companies ({numbers}); it is filed under none."),
            numbers=", ".join(sorted(numbers)),
        )
    accounts = tuple(dict.fromkeys(a for a in map(_account, openings) if a is not None))
    number = next(iter(numbers), None)
    if number is None and not accounts:
        if rejected:
            raise NoCompany(
                N_("The company number {number} in the document is not valid (check digits)."),
                number=rejected[0],
            )
        raise NoCompany(N_("The document names no company."))
    names = [line[_HOLDER_NAME].strip() for line in openings] + [
        line[_ADDRESSEE].strip() for line in headers
    ]
    name = next((name for name in names if name), "")
    vat = "BE" + number if number else None
    return DocumentParty(number, vat, name, accounts[0] if accounts else None, accounts)


def _account(opening: str) -> str | None:
    length = _ACCOUNT_LENGTH.get(opening[_ACCOUNT_STRUCTURE])
    return normalise_iban(opening[_ACCOUNT][:length]) if length else None


def _holder_numbers(headers: list[str]) -> tuple[set[str], list[str]]:
    numbers: set[str] = set()
    rejected: list[str] = []
    for line in headers:
        field_text = line[_HOLDER_NUMBER]
        if not field_text.strip(" 0"):
            continue  # not a Belgian holder: the account is all the file says
        # "0" + the 10 digits; the leading 0 is dropped and the rest read like any number, so a
        # left-aligned 10-digit number (or the 9-digit VAT form) is read the same.
        number = normalise_company_number(field_text[1:])
        if number is None:
            rejected.append(field_text.strip())
        else:
            numbers.add(number)
    return numbers, rejected


# --- matching --------------------------------------------------------------------------------------


def match_company(db: Database | Store, party: DocumentParty) -> str | None:
    """A known company's id: by company number (a Scrada id before an adopted "doc-" one), then
    by an account of one of its cash books, then by an account seen on its statements."""
    if isinstance(db, Store):
        with db.read() as connection:
            return match_company(connection, party)
    if party.company_number:
        row = db.execute(
            "SELECT id FROM scrada_companies WHERE company_number = ?"
            " ORDER BY id LIKE 'doc-%', first_seen_at LIMIT 1",
            [party.company_number],
        ).fetchone()
        if row is not None:
            return str(row[0])
    for account in party.accounts or ((party.iban,) if party.iban else ()):
        row = db.execute(
            "SELECT company_id FROM scrada_books WHERE iban = ? AND kind = 'cash-book'"
            " UNION ALL SELECT company_id FROM scrada_statements WHERE account = ? LIMIT 1",
            [account, account],
        ).fetchone()
        if row is not None:
            return str(row[0])
    return None


def adopt_company(
    db: Database, party: DocumentParty, *, source: str, selected: bool
) -> tuple[str, bool]:
    """The company the document belongs to, created from the document when not known yet.
    `source` is one of scrada_companies' sources ('webhook' for documents that arrive by
    themselves); `selected` follows the new-companies setting. Returns (company id, created)."""
    known = match_company(db, party)
    if known is not None:
        return known, False
    if party.company_number is None:
        account = pretty_iban(party.iban) if party.iban else ""
        raise NoCompany(
            N_(
                "The account {account} belongs to no known company and the document names no "
                "company number."
            ),
            account=account,
        )
    company_id = _ADOPTED_PREFIX + party.company_number
    records.upsert_company(
        db,
        company_id,
        source=source,
        selected=selected,
        company_number=party.company_number,
        name=party.name or party.company_number,
        vat_number=party.vat_number or "",
    )
    return company_id, True


def company_of_document(
    db: Database, kind: str, data: bytes, *, source: str, selected: bool
) -> tuple[records.Company, bool]:
    """The (possibly new) company a document belongs to, and whether it was created now."""
    company_id, created = adopt_company(
        db, document_party(kind, data), source=source, selected=selected
    )
    row = db.execute(
        "SELECT id, company_number, name, selected, refreshed_at FROM scrada_companies"
        " WHERE id = ?",
        [company_id],
    ).fetchone()
    return records.Company(row[0], row[1], row[2], bool(row[3]), row[4]), created


def set_book_iban(db: Database, company_id: str, book_id: str, iban: str) -> None:
    """Remember a cash book's account (from Scrada's cashBook answer) for matching statements."""
    db.execute(
        "UPDATE scrada_books SET iban = ? WHERE company_id = ? AND kind = 'cash-book' AND id = ?",
        [normalise_iban(iban) or "", company_id, book_id],
    )
