"""Document checks of the Scrada pull (SCR-4): a UBL invoice or a CODA statement file is validated
before it is written, and a refusal says why in words a user can act on.

Each format has its module: `ubl_check` (lxml hardened, no DOCTYPE) and `coda_check` (record by
record, with each statement's arithmetic); `document_limits` holds what both refuse. Their public
names are re-exported here, where the pull, the drop folder and the mailbox import them.
"""

from __future__ import annotations

from datetime import date

from webapp.scrada.coda_check import CODA_RECORD_LENGTH as CODA_RECORD_LENGTH
from webapp.scrada.coda_check import CodaInfo as CodaInfo
from webapp.scrada.coda_check import CodaStatement as CodaStatement
from webapp.scrada.coda_check import check_coda as check_coda
from webapp.scrada.document_limits import MAX_DOCUMENT_BYTES as MAX_DOCUMENT_BYTES
from webapp.scrada.document_limits import InvalidDocument as InvalidDocument
from webapp.scrada.ubl_check import UBL_NAMESPACES as UBL_NAMESPACES
from webapp.scrada.ubl_check import UBL_ROOTS as UBL_ROOTS
from webapp.scrada.ubl_check import UblInfo as UblInfo
from webapp.scrada.ubl_check import check_ubl as check_ubl


def document_date(kind: str, data: bytes) -> date:
    """The date folder templates use: a UBL issue date, or the last new-balance date of a CODA."""
    if kind == "ubl":
        return check_ubl(data).issue_date
    if kind == "coda":
        # Several statements can share a file (one per account); the latest date is the day the
        # file reports up to, which is where a user looks for it.
        return max(statement.date for statement in check_coda(data).statements)
    raise ValueError(f"unknown document kind: {kind!r}")
