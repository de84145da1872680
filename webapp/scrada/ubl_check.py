"""UBL documents of the Scrada pull (SCR-4): an Invoice or CreditNote, parsed safely, and its key facts.

UBL is parsed by lxml with entity expansion, DTD loading and network access off, and any DOCTYPE is
refused outright: an invoice never needs one, and it is how XXE and "billion laughs" files attack.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from webapp.scrada.document_limits import InvalidDocument, check_size, shown

UBL_ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "CreditNote",
}
UBL_NAMESPACES = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}

# A DOCTYPE (and so any entity declaration) can only come before the root element, where raw "<!"
# markup cannot be mistaken for text; it is looked for in every encoding libxml2 reads without a
# declaration, so the parser never even sees one. The parsed tree is checked again afterwards.
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_XSD_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?")
_XSD_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


@dataclass(frozen=True)
class UblInfo:
    root: str
    document_id: str
    issue_date: date
    supplier_name: str | None
    customer_name: str | None
    currency: str | None
    payable_amount: Decimal | None


def check_ubl(data: bytes) -> UblInfo:
    """Parse a UBL Invoice or CreditNote safely and return its key facts; raise InvalidDocument."""
    check_size(data)
    if any(marker in data for marker in _DTD_MARKERS):
        raise _doctype_refused()
    root = _parse_xml(data)
    kind = UBL_ROOTS.get(str(root.tag))
    if kind is None:
        raise InvalidDocument(
            "The document root is {root}; a UBL Invoice or CreditNote is expected.",
            root=shown(str(root.tag)),
        )
    document_id = _text(root, "cbc:ID")
    if document_id is None:
        raise InvalidDocument("The document has no {element}.", element="cbc:ID")
    return UblInfo(
        root=kind,
        document_id=document_id,
        issue_date=_issue_date(root),
        supplier_name=_party_name(root, "cac:AccountingSupplierParty"),
        customer_name=_party_name(root, "cac:AccountingCustomerParty"),
        currency=_text(root, "cbc:DocumentCurrencyCode"),
        payable_amount=_amount(root, "cac:LegalMonetaryTotal/cbc:PayableAmount"),
    )


def _doctype_refused() -> InvalidDocument:
    return InvalidDocument(
        "The document has a DOCTYPE or entity declarations; they are refused because they can "
        "read local files or expand without end (UBL never needs them)."
    )


def _parse_xml(data: bytes) -> Any:
    # A new parser per call: lxml parsers must not be shared between threads.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        # libxml2 caps one text node at 10 MB by default, and a valid invoice with an embedded
        # PDF has a bigger one. The 20 MB file limit bounds the tree instead; what makes XML
        # dangerous (entities, DTDs, network) stays off above, and a DOCTYPE is refused.
        huge_tree=True,
    )
    try:
        tree = etree.parse(io.BytesIO(data), parser)
    except etree.XMLSyntaxError as error:
        raise InvalidDocument(
            "The document is not well-formed XML (line {line}): {reason}",
            line=error.lineno or 0,
            reason=shown(str(error.msg)),
        ) from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.system_url:
        raise _doctype_refused()
    return tree.getroot()


def _text(root: Any, path: str) -> str | None:
    element = root.find(path, UBL_NAMESPACES)
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def _issue_date(root: Any) -> date:
    text = _text(root, "cbc:IssueDate")
    if text is None:
        raise InvalidDocument("The document has no {element}.", element="cbc:IssueDate")
    match = _XSD_DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InvalidDocument(
            "The issue date {value} is not a valid date (YYYY-MM-DD).", value=shown(text)
        ) from None


def _party_name(root: Any, party: str) -> str | None:
    # BIS 3.0 makes the legal name mandatory and the trading name optional; prefer what people see.
    return _text(root, f"{party}/cac:Party/cac:PartyName/cbc:Name") or _text(
        root, f"{party}/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName"
    )


def _amount(root: Any, path: str) -> Decimal | None:
    text = _text(root, path)
    if text is None:
        return None
    if not _XSD_DECIMAL.fullmatch(text):
        raise InvalidDocument(
            "The amount {element} is not a number: {value}.",
            element=path.rsplit("/", 1)[-1],
            value=shown(text),
        )
    return Decimal(text)
