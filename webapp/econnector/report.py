"""What a reception found and did (ECN-6), document by document: the analysis shown before the
integration and the report after it, the same object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from webapp.econnector.connectors import Connector
from webapp.econnector.inbox import SourceDocument, SourceLine
from webapp.econnector.mappings import Resolver
from webapp.i18n import N_

MAX_DETAIL = 2000


@dataclass
class DocumentResult:
    doc_ref: str
    file: str
    status: str  # 'integrated', 'will_integrate', 'not_integrated', 'already'
    customer: str
    customer_status: str  # 'mapped', 'new', 'homonym', 'linked'
    total: str
    reasons: list[str] = field(default_factory=list)
    number: str | None = None
    candidates: list[str] = field(default_factory=list)
    data_kind: str = "document"
    # The received customer's e-mail, postcode and city, for the homonym choice; a rolled-back
    # analysis leaves them nowhere else. Empty when the reader does not give them.
    contact: dict[str, str] = field(default_factory=dict)
    # The outside customer code, for the page's homonym links: kept apart by the run's result
    # (reception._customer_refs), not in the document's entry.
    customer_ref: str = ""

    def as_dict(self) -> dict[str, Any]:
        values = dict(self.__dict__)
        del values["customer_ref"]
        if not self.contact:
            del values["contact"]
        return values


CONTACT_FIELDS = ("email", "postcode", "city")


def contact_of(header: Mapping[str, Any]) -> dict[str, str]:
    """The received customer's e-mail, postcode and city as a document's header gives them."""
    values = {key: str(header.get(key) or "") for key in CONTACT_FIELDS}
    return values if any(values.values()) else {}


def document_result(
    document: SourceDocument, status: str = "integrated", customer_status: str = "mapped"
) -> DocumentResult:
    """A received document's result, with what its header says of the sender's customer."""
    header = document.header
    return DocumentResult(
        document.doc_ref,
        document.file,
        status,
        document.customer_name,
        customer_status,
        str(header.get("total_incl_vat") or ""),
        contact=contact_of(header),
        customer_ref=str(header.get("customer_ref") or ""),
    )


@dataclass
class ReceiveReport:
    connector: str
    analyse_only: bool
    files: list[dict[str, Any]] = field(default_factory=list)
    documents: list[DocumentResult] = field(default_factory=list)
    correspondences_to_give: list[dict[str, str]] = field(default_factory=list)
    articles_without_correspondence: list[dict[str, str]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # files still being written
    run_id: int | None = None
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("integrated", "will_integrate", "not_integrated", "already"), 0
        )
    )
    total: int = 0
    _resolver: Resolver | None = None

    def add(self, result: DocumentResult) -> None:
        """Counted always; kept in detail up to MAX_DETAIL, so memory stays flat in the file size."""
        self.total += 1
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        if len(self.documents) < MAX_DETAIL or (
            result.status == "not_integrated" and len(self.documents) < 2 * MAX_DETAIL
        ):
            self.documents.append(result)

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    def resolver(self, db: Database, connector: Connector) -> Resolver:
        """One resolver for the whole reception, pointed at the current transaction."""
        if self._resolver is None:
            self._resolver = Resolver(db, connector)
        self._resolver.db = db
        return self._resolver

    def as_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "analyse_only": self.analyse_only,
            "files": self.files,
            "documents": [result.as_dict() for result in self.documents],
            "correspondences_to_give": self.correspondences_to_give,
            "articles_without_correspondence": self.articles_without_correspondence,
            "waiting": self.waiting,
            "integrated": self.count("integrated"),
            "will_integrate": self.count("will_integrate"),
            "not_integrated": self.count("not_integrated"),
            "already": self.count("already"),
            "run_id": self.run_id,
        }

    def _note_code(self, kind: str, external: str) -> None:
        entry = {"kind": kind, "external": external}
        if entry not in self.correspondences_to_give:
            self.correspondences_to_give.append(entry)

    def _note_article(self, line: SourceLine) -> None:
        entry = {
            "article_ref": line.article_ref,
            "variant_ref": line.variant_ref,
            "label": line.label,
        }
        known = {
            (item["article_ref"], item["variant_ref"])
            for item in self.articles_without_correspondence
        }
        if (line.article_ref, line.variant_ref) not in known:
            self.articles_without_correspondence.append(entry)


@dataclass(frozen=True)
class Choices:
    """What the user decided for homonyms: link all (CLI --link-homonyms), or per customer ref."""

    link_homonyms: bool = False
    links: dict[str, str] = field(default_factory=dict)  # customer_ref → party code, or "new"


def summary(report: ReceiveReport) -> tuple[str, dict[str, Any]]:
    """The run's closing message and its params."""
    return N_(
        "{connector}: {integrated} documents integrated, {refused} not integrated,"
        " {already} already there."
    ), {
        "connector": report.connector,
        "integrated": report.count("integrated"),
        "refused": report.count("not_integrated"),
        "already": report.count("already"),
    }
