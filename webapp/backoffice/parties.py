"""Customers and suppliers ("parties" of kind 'customer' or 'supplier'): list, detail, edits.

The list is served by the (kind, code), (kind, name) and (kind, city) indexes or by ``parties_fts``;
pages fetch one row more than they show, so 100,000 customers list as quickly as 100.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel import Locale

from webapp.backoffice.column_values import parse_email, parse_vat_number
from webapp.backoffice.form_fields import check_code_format, parsed_field
from webapp.backoffice.listing import (
    Errors,
    ListQuery,
    Page,
    Sort,
    fetch_page,
    fts_match,
    id_filter,
    order_by,
    paged,
    parse_flag,
    parse_query,
    text_filter,
    text_param,
    where_clause,
    window,
)
from webapp.clock import now_iso
from webapp.i18n import N_, current_language
from webapp.store import Store, one, rows

KINDS = ("customer", "supplier")
PARTY_SORTS = {
    "code": Sort("p.code ASC", "p.code DESC"),
    "name": Sort(
        "p.last_name COLLATE NOCASE ASC, p.first_name COLLATE NOCASE ASC, p.id ASC",
        "p.last_name COLLATE NOCASE DESC, p.first_name COLLATE NOCASE DESC, p.id DESC",
    ),
    "city": Sort(
        "p.city COLLATE NOCASE ASC, p.id ASC",
        "p.city COLLATE NOCASE DESC, p.id DESC",
    ),
}


def _country_filter(value: str) -> str | None:
    return value.upper() if re.fullmatch(r"[A-Za-z]{2}", value) else None


PARTY_FILTERS = {"family": id_filter, "country": _country_filter, "city": text_filter}
_FILTER_SQL = {
    "family": "p.family_id = ?",
    "country": "p.country = ?",
    "city": "p.city = ? COLLATE NOCASE",
}
TEXT_FIELDS = {
    # name: maximum length
    "last_name": 100,
    "first_name": 100,
    "company": 150,
    "email": 200,
    "phone": 40,
    "address": 300,
    "postcode": 20,
    "city": 100,
    "vat_number": 30,
}
_PHONE = re.compile(r"[0-9+()./ -]+")
DOCUMENTS_SHOWN = 20


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown party kind {kind!r}")
    return kind


@dataclass
class Reference:
    """The choices a customer or supplier form and the list filters offer."""

    families: list[dict[str, Any]]
    countries: list[dict[str, Any]]


def _country_column() -> str:
    """The countries table names them in French and English; Dutch reads Babel's names."""
    return "name_fr" if current_language() == "fr" else "name_en"


def country_label(code: str | None, stored: str | None) -> str | None:
    """A country's name in the reader's language: the table's, or Babel's in Dutch."""
    if current_language() != "nl" or not code:
        return stored
    return dutch_territories().get(code, stored)


@cache
def dutch_territories() -> dict[str, str]:
    return dict(Locale.parse("nl_BE").territories)


def _sort_key(name: str) -> str:
    """Alphabetical as a reader expects: "Égypte" among the E's."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def reference(store: Store, kind: str) -> Reference:
    name = _country_column()
    with store.read() as db:
        families = rows(
            db,
            "SELECT id, code, label FROM party_families WHERE kind = ? ORDER BY label, id",
            [check_kind(kind)],
        )
        countries = rows(db, f"SELECT code, {name} AS name FROM countries ORDER BY {name}")
    if current_language() == "nl":
        for country in countries:
            country["name"] = country_label(country["code"], country["name"])
        countries.sort(key=lambda country: _sort_key(str(country["name"])))
    return Reference(families, countries)


def parse_party_query(params: Mapping[str, Any]) -> ListQuery:
    return parse_query(params, PARTY_SORTS, "name", PARTY_FILTERS)


def party_list_sql(kind: str, query: ListQuery) -> tuple[str, list[Any]]:
    """One page of customers or suppliers with their family and country."""
    match = fts_match(query.q)
    # Without statistics the planner prefers walking the sort's index and testing every row; a
    # search or a city is far more selective, so the query says which index drives it.
    if match:
        table, of_kind = "parties p", "+p.kind = ?"  # "+": not the kind index, the FTS rows
    elif "city" in query.filters:
        table, of_kind = "parties p INDEXED BY parties_kind_city", "p.kind = ?"
    else:
        table, of_kind = "parties p", "p.kind = ?"
    where, args = where_clause(
        query,
        _FILTER_SQL,
        search_sql="p.id IN (SELECT rowid FROM parties_fts WHERE parties_fts MATCH ?)",
        always=[(of_kind, check_kind(kind))],
        integers={"family"},
    )
    order = order_by(PARTY_SORTS, query)
    ids = f"SELECT p.id FROM {table}{where} ORDER BY {order}"
    country = _country_column()
    select = (
        "SELECT p.id, p.code, p.last_name, p.first_name, p.company, p.email, p.phone,"
        f" p.postcode, p.city, p.country, c.{country} AS country_name, p.active,"
        " f.label AS family"
        " FROM {page} JOIN parties p ON p.id = page.id"
        " LEFT JOIN party_families f ON f.id = p.family_id"
        " LEFT JOIN countries c ON c.code = p.country"
    )
    return paged(ids, select, order), [*args, *window(query)]


def list_parties(store: Store, kind: str, query: ListQuery) -> Page:
    sql, args = party_list_sql(kind, query)
    with store.read() as db:
        page = fetch_page(db, sql, args, query)
    for row in page.rows:
        row["country_name"] = country_label(row["country"], row["country_name"])
    return page


def display_name(party: Mapping[str, Any]) -> str:
    """ "Dupont Marie (Boulangerie Dupont)", or whatever part of it is there."""
    person = " ".join(part for part in (party["last_name"], party["first_name"]) if part)
    company = party["company"]
    if person and company:
        return f"{person} ({company})"
    return person or company or party["code"]


def get_party(store: Store, kind: str, party_id: int) -> dict[str, Any] | None:
    """One customer or supplier with its family, country, contacts and latest documents."""
    country = _country_column()
    with store.read() as db:
        party = one(
            db,
            f"SELECT p.*, f.code AS family_code, f.label AS family, c.{country} AS country_name"
            " FROM parties p LEFT JOIN party_families f ON f.id = p.family_id"
            " LEFT JOIN countries c ON c.code = p.country WHERE p.id = ? AND p.kind = ?",
            [party_id, check_kind(kind)],
        )
        if party is None:
            return None
        party["contacts"] = rows(
            db, "SELECT * FROM contacts WHERE party_id = ? ORDER BY contact_no", [party_id]
        )
        documents = rows(
            db,
            "SELECT id, kind, number, doc_date, status, total_excl_vat, total_incl_vat"
            " FROM documents WHERE party_id = ? ORDER BY doc_date DESC, id DESC LIMIT ?",
            [party_id, DOCUMENTS_SHOWN + 1],
        )
    party["documents"] = documents[:DOCUMENTS_SHOWN]
    party["more_documents"] = len(documents) > DOCUMENTS_SHOWN
    party["display_name"] = display_name(party)
    party["country_name"] = country_label(party["country"], party["country_name"])
    return party


FIELDS = ("code", "family", *TEXT_FIELDS, "country")


def party_form(party: Mapping[str, Any]) -> dict[str, str]:
    """The edit form's values for a stored customer or supplier."""
    form = {name: str(party.get(name) or "") for name in ("code", *TEXT_FIELDS, "country")}
    form["family"] = str(party["family_id"] or "")
    form["active"] = "1" if party["active"] else ""
    return form


def blank_party_form() -> dict[str, str]:
    return {**dict.fromkeys(FIELDS, ""), "active": "1"}


def form_values(data: Mapping[str, Any]) -> dict[str, str]:
    """What the user sent, as the form shows it back."""
    values = {name: text_param(data, name) for name in FIELDS}
    values["active"] = "1" if parse_flag(data.get("active")) else ""
    return values


def create_party(store: Store, kind: str, data: Mapping[str, Any]) -> int:
    """Check and insert a customer or supplier; raises FormError with every problem found."""
    values = form_values(data)
    with store.write() as db:
        errors = Errors()
        code = _check_code(db, check_kind(kind), values["code"], errors)
        fields = _check(db, kind, values, errors)
        errors.raise_if_any()
        moment = now_iso()
        columns = ["kind", "code", *fields, "created_on", "created_at", "updated_at"]
        cursor = db.execute(
            f"INSERT INTO parties ({', '.join(columns)})"
            f" VALUES ({', '.join('?' for _ in columns)})",
            [kind, code, *fields.values(), moment[:10], moment, moment],
        )
        return int(cursor.lastrowid or 0)


def update_party(store: Store, kind: str, party_id: int, data: Mapping[str, Any]) -> bool:
    """Check and save an edited customer or supplier (its code stays); False if it is gone."""
    values = form_values(data)
    with store.write() as db:
        found = db.execute(
            "SELECT 1 FROM parties WHERE id = ? AND kind = ?", [party_id, check_kind(kind)]
        ).fetchone()
        if found is None:
            return False
        errors = Errors()
        fields = _check(db, kind, values, errors)
        errors.raise_if_any()
        assignments = ", ".join(f"{name} = ?" for name in fields)
        db.execute(
            f"UPDATE parties SET {assignments}, updated_at = ? WHERE id = ?",
            [*fields.values(), now_iso(), party_id],
        )
    return True


def _check_code(db: Any, kind: str, code: str, errors: Errors) -> str:
    if not check_code_format(code, errors):
        return code
    if db.execute("SELECT 1 FROM parties WHERE kind = ? AND code = ?", [kind, code]).fetchone():
        message = (
            N_("A customer with the code {code} already exists.")
            if kind == "customer"
            else N_("A supplier with the code {code} already exists.")
        )
        errors.add("code", message, code=code)
    return code


def _check(db: Any, kind: str, values: Mapping[str, str], errors: Errors) -> dict[str, Any]:
    """The checked columns to write, in a stable order."""
    fields: dict[str, Any] = {}
    for name, maximum in TEXT_FIELDS.items():
        text = " ".join(values[name].split())
        if len(text) > maximum:
            errors.add(name, N_("At most {max} characters."), max=maximum)
        fields[name] = text
    if not fields["last_name"] and not fields["company"]:
        errors.add("last_name", N_("Give a last name or a company name."))
    if fields["phone"] and not _PHONE.fullmatch(fields["phone"]):
        errors.add("phone", N_("A phone number holds digits, spaces and + ( ) . / -."))
    fields["country"] = country = _country(db, values["country"], errors)
    # The same rules as the CSV import: one truth for a valid e-mail address or VAT number.
    fields["email"] = _parsed(parse_email, fields["email"], "email", errors)
    fields["vat_number"] = _parsed(
        lambda raw: parse_vat_number(raw, country), fields["vat_number"], "vat_number", errors
    )
    fields["family_id"] = _family(db, kind, values["family"], errors)
    fields["active"] = 1 if values["active"] else 0
    return fields


def _parsed(parse: Callable[[str], str], raw: str, name: str, errors: Errors) -> str:
    if not raw:
        return ""
    value = parsed_field(parse, raw, name, errors)
    return raw if value is None else value


def _country(db: Any, value: str, errors: Errors) -> str | None:
    if not value:
        return None
    row = db.execute("SELECT code FROM countries WHERE code = ?", [value]).fetchone()
    if row is None:
        errors.add("country", N_("Unknown country: choose one from the list."))
        return None
    return str(row["code"])


def _family(db: Any, kind: str, value: str, errors: Errors) -> int | None:
    if not value:
        return None
    row = (
        db.execute(
            "SELECT id FROM party_families WHERE id = ? AND kind = ?", [int(value), kind]
        ).fetchone()
        if value.isdigit() and len(value) < 19
        else None
    )
    if row is None:
        errors.add("family", N_("This family does not exist (any more): choose another one."))
        return None
    return int(row["id"])
