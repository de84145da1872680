"""Customers and suppliers received (a file whose header has `customer_ref` and `kind`, no
`doc_ref`): each row creates the customer or supplier, or updates the one it is mapped to; a
homonym is created as new unless the user links it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from webapp.backoffice.column_values import parse_vat_number
from webapp.backoffice.importer import map_header, parse_values
from webapp.clock import now_iso
from webapp.csvio import CsvReader, ValueProblem
from webapp.econnector import records
from webapp.econnector.columns import PARTIES
from webapp.econnector.connectors import Connector
from webapp.econnector.mappings import Resolver
from webapp.econnector.records import RECEIVE_JOB
from webapp.econnector.report import Choices, DocumentResult, ReceiveReport
from webapp.i18n import N_, gettext

FIELDS = ("last_name", "first_name", "company", "email", "phone", "address", "postcode", "city")


@dataclass
class SourceParty:
    line: int
    file: str
    values: dict[str, Any]
    problems: list[str]

    @property
    def ref(self) -> str:
        return str(self.values.get("customer_ref") or "")

    @property
    def name(self) -> str:
        names = [self.values.get("first_name") or "", self.values.get("last_name") or ""]
        return " ".join(part for part in names if part) or str(self.values.get("company") or "")


def read_parties(path: Path, connector: Connector) -> Iterator[SourceParty]:
    with CsvReader(path, connector.csv_options()) as reader:
        fields = map_header(PARTIES, reader)
        width = len(reader.header)
        for record in reader:
            values: dict[str, Any] = {}
            if len(record.values) < width:
                problem = gettext(
                    "line {line}: {count} values where the header has {width} columns",
                    line=record.line,
                    count=len(record.values),
                    width=width,
                )
                yield SourceParty(record.line, path.name, values, [problem])
                continue
            errors = parse_values(record.line, record.values, fields, values)
            yield SourceParty(record.line, path.name, values, [e.translated() for e in errors])


class PartyRefused(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def integrate_party(
    db: Database, connector: Connector, party: SourceParty, link: str | None, now: str
) -> tuple[int, str]:
    """(party id, 'updated' | 'linked' | 'new' | 'homonym'); raises PartyRefused."""
    if party.problems:
        raise PartyRefused(party.problems)
    resolver = Resolver(db, connector)
    kind = str(party.values["kind"])
    country = resolver.country(str(party.values.get("country") or ""))
    if country is None:
        raise PartyRefused(
            [
                gettext(
                    "the country {value} needs a correspondence", value=party.values.get("country")
                )
            ]
        )
    vat = _vat(party, country)
    values: dict[str, Any] = {name: str(party.values.get(name) or "") for name in FIELDS}
    values.update(country=country or None, vat_number=vat, updated_at=now)
    mapped = resolver.customer(party.ref)
    if mapped is not None:
        sets = ", ".join(f"{name} = ?" for name in values)
        db.execute(f"UPDATE parties SET {sets} WHERE id = ?", [*values.values(), mapped])
        return mapped, "updated"
    candidates = _homonyms(db, kind, values)
    if candidates and link:
        row = db.execute(
            "SELECT id FROM parties WHERE kind = ? AND code = ?",
            [kind, link if link != "*" else candidates[0]],
        ).fetchone()
        if row is None:
            raise PartyRefused([gettext("no customer has the code {code}", code=link)])
        party_id, status = int(row[0]), "linked"
    else:
        party_id = _create(db, connector, kind, party.ref, values, now)
        status = "homonym" if candidates else "new"
    db.execute(
        "INSERT OR REPLACE INTO connector_customers (connector_id, external_ref, party_id)"
        " VALUES (?, ?, ?)",
        [connector.id, party.ref, party_id],
    )
    return party_id, status


def _vat(party: SourceParty, country: str) -> str:
    raw = str(party.values.get("vat_number") or "")
    if not raw:
        return ""
    try:
        return parse_vat_number(raw, country or None)
    except ValueProblem as problem:
        raise PartyRefused([gettext(problem.message, **problem.params)]) from problem


def _homonyms(db: Database, kind: str, values: dict[str, Any]) -> list[str]:
    email = values["email"]
    rows = db.execute(
        "SELECT code FROM parties WHERE kind = ? AND ((? != '' AND lower(email) = lower(?))"
        " OR (last_name = ? COLLATE NOCASE AND first_name = ? COLLATE NOCASE AND postcode = ?"
        " AND ? != '')) ORDER BY code LIMIT 5",
        [
            kind,
            email,
            email,
            values["last_name"],
            values["first_name"],
            values["postcode"],
            values["last_name"],
        ],
    ).fetchall()
    return [str(row[0]) for row in rows]


def _create(
    db: Database, connector: Connector, kind: str, ref: str, values: dict[str, Any], now: str
) -> int:
    taken = db.execute("SELECT 1 FROM parties WHERE kind = ? AND code = ?", [kind, ref]).fetchone()
    code = ref if not taken and len(ref) <= 50 else _next_code(db, kind)
    family = connector.customer_family_id if kind == "customer" else connector.supplier_family_id
    columns = ["kind", "code", "family_id", *values, "created_at"]
    params = [kind, code, family, *values.values(), now]
    cursor = db.execute(
        f"INSERT INTO parties ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        params,
    )
    return int(cursor.lastrowid or 0)


def _next_code(db: Database, kind: str) -> str:
    prefix = "W" if kind == "customer" else "WF"
    row = db.execute(
        "SELECT count(*) FROM parties WHERE kind = ? AND code GLOB ?", [kind, f"{prefix}[0-9]*"]
    ).fetchone()
    number = int(row[0]) + 1
    while db.execute(
        "SELECT 1 FROM parties WHERE kind = ? AND code = ?", [kind, f"{prefix}{number:06d}"]
    ).fetchone():
        number += 1
    return f"{prefix}{number:06d}"


# -- one row, in a reception -------------------------------------------------------------------


def integrate_one_party(
    db: Database, connector: Connector, party: SourceParty, choices: Choices, report: ReceiveReport
) -> DocumentResult:
    kind = str(party.values.get("kind") or "customer")
    result = DocumentResult(
        party.ref, party.file, "integrated", party.name, "mapped", "", data_kind=kind
    )
    link = choices.links.get(party.ref) or ("*" if choices.link_homonyms else None)
    db.execute("SAVEPOINT party")
    try:
        party_id, status = integrate_party(
            db, connector, party, None if link == "new" else link, now_iso()
        )
        result.customer_status = status
        if report.analyse_only:
            result.status = "will_integrate"
        else:
            record_party(db, connector, party, kind, party_id, report.run_id)
    except PartyRefused as refused:
        db.execute("ROLLBACK TO party")
        result.status, result.reasons = "not_integrated", refused.reasons
        if not report.analyse_only:
            record_party(db, connector, party, kind, None, report.run_id, refused.reasons)
    db.execute("RELEASE party")
    return result


def record_party(
    db: Database,
    connector: Connector,
    party: SourceParty,
    kind: str,
    party_id: int | None,
    run_id: int | None,
    reasons: list[str] | None = None,
) -> None:
    if run_id is None:
        return
    code = None
    if party_id is not None:
        row = db.execute("SELECT code FROM parties WHERE id = ?", [party_id]).fetchone()
        code = str(row[0]) if row else None
    records.record(
        db,
        run_id,
        RECEIVE_JOB,
        connector.code,
        kind=kind,
        status="error" if reasons else "received",
        key=party.ref,
        message=N_("{ref} not integrated: {reasons}") if reasons else N_("{ref}: {name}"),
        params={
            "ref": party.ref,
            "reasons": "; ".join(reasons or []),
            "name": party.name,
            "file": party.file,
            "party_code": code,
            "external_party": party.ref,
        },
    )
