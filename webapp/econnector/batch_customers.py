"""The customer of each received document, decided for a whole chunk (ECN-6).

The rules of :func:`webapp.econnector.integration._customer`: a mapped outside customer is used;
otherwise homonyms (same e-mail, or same names and postcode) are linked when the user chose so, and
a new customer is created when not. A chunk writes its customers only at its end, and an analysis
rolls each chunk back: what the database does not show yet (this chunk's customers and links, and
in an analysis those of the chunks before) is kept in :class:`Pending`, and every answer is the
database's merged with it, so a customer created in chunk 1 and met again in chunk 3 is "mapped"
in the analysis as in the integration.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from webapp.econnector.inbox import SourceDocument

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_W_CODE = re.compile(r"W([0-9]+)")
MAX_CODE = 50
MAX_CANDIDATES = 5


def fold(text: str) -> str:
    """Case folded as SQLite's NOCASE and lower() do: ASCII letters only."""
    return text.translate(_ASCII_LOWER)


@dataclass(frozen=True)
class NewParty:
    id: int
    code: str
    header: dict[str, Any]
    country: str

    @property
    def email_key(self) -> str:
        email = str(self.header.get("email") or "")
        return fold(email) if email else ""

    @property
    def name_key(self) -> tuple[str, str, str]:
        header = self.header
        return (
            fold(str(header.get("last_name") or "")),
            fold(str(header.get("first_name") or "")),
            str(header.get("postcode") or ""),
        )


@dataclass
class Pending:
    """Customers, links, documents and numbers a reception made that the database does not show
    yet; a chunk's own layer sits on the reception's (`parent`)."""

    parent: Pending | None = None
    parties: list[NewParty] = field(default_factory=list)
    by_code: dict[str, NewParty] = field(default_factory=dict)
    by_email: dict[str, list[NewParty]] = field(default_factory=dict)
    by_name: dict[tuple[str, str, str], list[NewParty]] = field(default_factory=dict)
    links: dict[str, tuple[int, str]] = field(default_factory=dict)  # ref → (party id, code)
    documents: dict[str, str] = field(default_factory=dict)  # doc_ref → number
    numbers: int = 0
    last_party_id: int = 0
    w_max: int = 0
    # The layers under this one, found once (a layer's parent never changes). Not this layer
    # itself: that would make each chunk's layer a cycle that only the collector frees.
    ancestors: list[Pending] | None = field(default=None, repr=False, compare=False)

    def layer(self) -> Pending:
        return Pending(parent=self)

    def add_party(self, party: NewParty) -> None:
        self.parties.append(party)
        self.by_code[fold(party.code)] = party
        if party.email_key:
            self.by_email.setdefault(party.email_key, []).append(party)
        self.by_name.setdefault(party.name_key, []).append(party)
        self.last_party_id = max(self.last_party_id, party.id)
        if found := _W_CODE.match(party.code):
            self.w_max = max(self.w_max, int(found.group(1)))

    def absorb(self, layer: Pending) -> None:
        """An analysis keeps what a rolled-back chunk did, for the chunks after it."""
        for party in layer.parties:
            self.add_party(party)
        self.links.update(layer.links)
        self.documents.update(layer.documents)
        self.numbers += layer.numbers

    def _chain(self) -> list[Pending]:
        """This layer and those under it."""
        if self.ancestors is None:
            self.ancestors = []
            layer = self.parent
            while layer is not None:
                self.ancestors.append(layer)
                layer = layer.parent
        return [self, *self.ancestors]

    def link(self, ref: str) -> tuple[int, str] | None:
        return next((layer.links[ref] for layer in self._chain() if ref in layer.links), None)

    def party(self, code: str) -> NewParty | None:
        key = fold(code)
        return next((layer.by_code[key] for layer in self._chain() if key in layer.by_code), None)

    def document(self, doc_ref: str) -> str | None:
        return next(
            (layer.documents[doc_ref] for layer in self._chain() if doc_ref in layer.documents),
            None,
        )

    def by_email_of(self, key: str) -> list[str]:
        return [party.code for layer in self._chain() for party in layer.by_email.get(key, [])]

    def by_name_of(self, key: tuple[str, str, str]) -> list[str]:
        return [party.code for layer in self._chain() for party in layer.by_name.get(key, [])]

    def taken_numbers(self) -> int:
        return sum(layer.numbers for layer in self._chain())

    def max_party_id(self) -> int:
        return max(layer.last_party_id for layer in self._chain())

    def max_w(self) -> int:
        return max(layer.w_max for layer in self._chain())


@dataclass
class Customer:
    """One document's customer as integration._customer decides it."""

    party_id: int
    code: str
    status: str  # 'mapped', 'new', 'homonym' or 'linked'
    candidates: list[str] = field(default_factory=list)
    new: NewParty | None = None
    link_ref: str = ""  # the outside code to map to the party ('' for none)


class NoSuchCustomer(Exception):
    """The code the user chose for a homonym names no customer."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def mapped_customers(
    db: Database, connector_id: int, refs: list[str]
) -> dict[str, tuple[int, str]]:
    """The chunk's outside customers already mapped: ref → (party id, code), one query."""
    found = db.execute(
        "SELECT m.external_ref, m.party_id, p.code FROM connector_customers m"
        " LEFT JOIN parties p ON p.id = m.party_id WHERE m.connector_id = ?"
        " AND m.external_ref IN (SELECT value FROM json_each(?))",
        [connector_id, _json_list(refs)],
    )
    return {str(row[0]): (int(row[1]), str(row[2] or "")) for row in found}


def _json_list(values: list[str]) -> str:
    return json.dumps(values, ensure_ascii=False)


def homonyms(db: Database, header: dict[str, Any], pending: Pending) -> list[str]:
    """integration.homonyms over the database and what is pending."""
    email = str(header.get("email") or "").strip()
    found: list[str] = []
    if email:
        stored = [
            str(row[0])
            for row in db.execute(
                "SELECT code FROM parties INDEXED BY parties_customer_email"
                " WHERE kind = 'customer' AND email != ''"
                " AND lower(email) = lower(?) ORDER BY code LIMIT 5",
                [email],
            )
        ]
        found += _first(stored, pending.by_email_of(fold(email)))
    last = str(header.get("last_name") or "").strip()
    if last:
        first, postcode = str(header.get("first_name") or ""), str(header.get("postcode") or "")
        stored = [
            str(row[0])
            for row in db.execute(
                "SELECT code FROM parties INDEXED BY parties_kind_name"
                " WHERE kind = 'customer' AND last_name = ? COLLATE NOCASE"
                " AND first_name = ? COLLATE NOCASE AND postcode = ? ORDER BY code LIMIT 5",
                [last, first, postcode],
            )
        ]
        found += _first(stored, pending.by_name_of((fold(last), fold(first), postcode)))
    return list(dict.fromkeys(found))[:MAX_CANDIDATES]


def _first(stored: list[str], pending: list[str]) -> list[str]:
    """The first five codes (in NOCASE order) of the database's first five and the pending ones."""
    if not pending:
        return stored
    codes = {fold(code): code for code in stored}
    for code in pending:
        codes.setdefault(fold(code), code)
    return [codes[key] for key in sorted(codes)][:MAX_CANDIDATES]


class CustomerDesk:
    """Decides the customers of one chunk, in document order, against `pending` (the chunk's
    layer): nothing is written here."""

    def __init__(
        self,
        db: Database,
        connector: Any,
        choices: Any,
        pending: Pending,
        mapped: dict[str, tuple[int, str]],
    ) -> None:
        self.db = db
        self.connector = connector
        self.choices = choices
        self.pending = pending
        self.mapped = mapped
        self._db_max_id: int | None = None
        self._db_max_w: int | None = None

    def decide(self, document: SourceDocument, country: str) -> Customer:
        """Raises NoSuchCustomer when the chosen homonym's code names no customer."""
        header = document.header
        ref = str(header.get("customer_ref") or "")
        if ref:
            known = self.pending.link(ref) or self.mapped.get(ref)
            if known is not None:
                return Customer(known[0], known[1], "mapped")
        candidates = homonyms(self.db, header, self.pending)
        choice = self.choices.links.get(ref) if ref else None
        link = choice not in (None, "new") or (choice is None and self.choices.link_homonyms)
        if candidates and link:
            code = choice if choice not in (None, "new") else candidates[0]
            party_id, stored_code = self._existing(code)
            return Customer(party_id, stored_code, "linked", candidates, link_ref=ref)
        party = NewParty(self._next_id(), self._code(ref), header, country)
        status = "homonym" if candidates else "new"
        return Customer(party.id, party.code, status, candidates, party, link_ref=ref)

    def accept(self, customer: Customer) -> None:
        """The document was accepted: its customer and link now exist for the next ones."""
        if customer.new is not None:
            self.pending.add_party(customer.new)
        if customer.link_ref:
            self.pending.links[customer.link_ref] = (customer.party_id, customer.code)

    def _existing(self, code: str) -> tuple[int, str]:
        row = self.db.execute(
            "SELECT id, code FROM parties WHERE kind = 'customer' AND code = ?", [code]
        ).fetchone()
        if row is not None:
            return int(row[0]), str(row[1])
        party = self.pending.party(code)
        if party is None:
            raise NoSuchCustomer(code)
        return party.id, party.code

    def _next_id(self) -> int:
        if self._db_max_id is None:
            row = self.db.execute("SELECT coalesce(max(id), 0) FROM parties").fetchone()
            self._db_max_id = int(row[0])
        return max(self._db_max_id, self.pending.max_party_id()) + 1

    def _code(self, ref: str) -> str:
        if ref and len(ref) <= MAX_CODE and self.pending.party(ref) is None:
            taken = self.db.execute(
                "SELECT 1 FROM parties WHERE kind = 'customer' AND code = ?", [ref]
            ).fetchone()
            if not taken:
                return ref
        if self._db_max_w is None:
            row = self.db.execute(
                "SELECT max(CAST(substr(code, 2) AS INTEGER)) FROM parties"
                " WHERE kind = 'customer' AND code GLOB 'W[0-9]*'"
            ).fetchone()
            self._db_max_w = int(row[0] or 0)
        return f"W{max(self._db_max_w, self.pending.max_w()) + 1:06d}"
