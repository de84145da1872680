"""What a chunk of received documents is made of on its way (webapp/econnector/batch.py): each
document prepared outside the write lock, then the chunk's plan that batch_write.py writes."""

from __future__ import annotations

from dataclasses import dataclass, field

from webapp.econnector.batch_checks import CheckedReceived, Outcome, Resolved
from webapp.econnector.batch_customers import Customer
from webapp.econnector.inbox import SourceDocument, SourceLine
from webapp.econnector.report import DocumentResult


@dataclass
class Prepared:
    """A document with its lines resolved, and what the reception must be told it lacks."""

    document: SourceDocument
    lines: list[Resolved]
    reasons: list[str]
    country: str | None
    articles: list[SourceLine] = field(default_factory=list)  # without correspondence
    codes: list[tuple[str, str]] = field(default_factory=list)  # (kind, outside code)
    outcome: Outcome | None = None  # check_document's answer, when nothing above refused it
    already: bool = False  # integrated before this reception: not prepared


@dataclass
class Accepted:
    prepared: Prepared
    customer: Customer
    checked: CheckedReceived
    result: DocumentResult
    number: str = ""


@dataclass
class Plan:
    """What a chunk will write, in document order."""

    company_id: int = 0
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[tuple[Prepared, list[str]]] = field(default_factory=list)
    order: list[tuple[str, int]] = field(default_factory=list)  # ('accepted'|'refused', index)
    later_numbers: list[tuple[DocumentResult, int]] = field(default_factory=list)
