"""What a file holds, from its content only: a UBL invoice or credit note, a CODA file, or neither.

Shared by the mailbox's attachments and the drop folder: a file's name says nothing reliable (a
`.txt` may be CODA, an `.xml` may be anything). Only the first start tag of an XML file is read, with
entities, DTDs and the network off; a DOCTYPE is left for delivery to refuse with its reason, so a
broken document that looks like one is quarantined instead of vanishing.
"""

from __future__ import annotations

import io

from lxml import etree

from webapp.scrada import formats

_BOMS_AND_BLANKS = b"\xef\xbb\xbf \t\r\n"


def document_kind(data: bytes) -> str | None:
    """'ubl', 'coda' or None."""
    head = data.lstrip(_BOMS_AND_BLANKS)
    if head.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "ubl" if xml_root(data) in formats.UBL_ROOTS else None
    first = head.split(b"\n", 1)[0].removesuffix(b"\r")
    # cp1252 and latin-1 are one byte a character: the record length holds on the bytes.
    if len(first) == formats.CODA_RECORD_LENGTH and first.startswith(b"00000"):
        return "coda"
    return None


def xml_root(data: bytes) -> str | None:
    """The tag of the root element ("{namespace}Invoice"), or None when there is none to read."""
    events = etree.iterparse(
        io.BytesIO(data),
        events=("start",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        _event, root = next(events)
    except (etree.XMLSyntaxError, StopIteration, ValueError):
        return None
    return str(root.tag)
