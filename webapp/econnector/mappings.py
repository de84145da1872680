"""Correspondences (ECN-3, ECN-4): an outside code and what it stands for in Relais.

Articles and customers are mapped explicitly (the e-connecteur never creates an article). A VAT
code, unit or country that equals an internal code (or, for VAT, an existing rate such as `21`) is
its own correspondence unless mapped otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlite_utils import Database

from webapp.econnector.connectors import Connector, ConnectorError
from webapp.i18n import N_
from webapp.numbers import NumberProblem, parse_decimal
from webapp.store import Store

KINDS = ("article", "customer", "vat", "unit", "country")
T = TypeVar("T")


def set_mapping(
    store: Store, connector: Connector, kind: str, external: str, internal: str, variant: str = ""
) -> dict[str, Any]:
    """Record (or change) one correspondence; the internal code must exist."""
    external = external.strip()
    if not external:
        raise ConnectorError(N_("The outside code is empty."), field="external")
    with store.write() as db:
        if kind == "article":
            article = _id(
                db,
                "SELECT id FROM articles WHERE code = ?",
                internal,
                N_("No article has the code {code}."),
            )
            db.execute(
                "INSERT INTO connector_articles (connector_id, external_code, variant_code, article_id)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET article_id = excluded.article_id",
                [connector.id, external, variant.strip(), article],
            )
        elif kind == "customer":
            party = _id(
                db,
                "SELECT id FROM parties WHERE kind = 'customer' AND code = ?",
                internal,
                N_("No customer has the code {code}."),
            )
            db.execute(
                "INSERT INTO connector_customers (connector_id, external_ref, party_id)"
                " VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET party_id = excluded.party_id",
                [connector.id, external, party],
            )
        elif kind in ("vat", "unit", "country"):
            code = _internal_code(db, kind, internal)
            db.execute(
                "INSERT INTO connector_codes (connector_id, kind, external, internal)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET internal = excluded.internal",
                [connector.id, kind, external, code],
            )
        else:
            raise ConnectorError(N_("Unknown kind of correspondence {kind}."), kind=kind)
    return {"kind": kind, "external": external, "internal": internal, "variant": variant}


def _id(db: Database, sql: str, code: str, message: str) -> int:
    row = db.execute(sql, [code.strip()]).fetchone()
    if row is None:
        raise ConnectorError(message, field="internal", code=code)
    return int(row[0])


def _internal_code(db: Database, kind: str, internal: str) -> str:
    table = {"vat": "vat_rates", "unit": "units", "country": "countries"}[kind]
    row = db.execute(f"SELECT code FROM {table} WHERE code = ?", [internal.strip()]).fetchone()
    if row is None:
        raise ConnectorError(
            N_("{code} is not a known internal code."), field="internal", code=internal
        )
    return str(row[0])


def mappings(store: Store, connector: Connector) -> list[dict[str, Any]]:
    with store.read() as db:
        rows = [
            {"kind": "article", "external": row[0], "variant": row[1], "internal": row[2]}
            for row in db.execute(
                "SELECT m.external_code, m.variant_code, a.code FROM connector_articles m"
                " JOIN articles a ON a.id = m.article_id WHERE m.connector_id = ?"
                " ORDER BY m.external_code, m.variant_code",
                [connector.id],
            )
        ]
        rows += [
            {"kind": "customer", "external": row[0], "variant": "", "internal": row[1]}
            for row in db.execute(
                "SELECT m.external_ref, p.code FROM connector_customers m"
                " JOIN parties p ON p.id = m.party_id WHERE m.connector_id = ? ORDER BY 1",
                [connector.id],
            )
        ]
        rows += [
            {"kind": row[0], "external": row[1], "variant": "", "internal": row[2]}
            for row in db.execute(
                "SELECT kind, external, internal FROM connector_codes WHERE connector_id = ?"
                " ORDER BY kind, external",
                [connector.id],
            )
        ]
    return rows


def _rate(external: str) -> Decimal | None:
    """'20', '5,5', '5.5 %' as a rate; anything else (sNaN, 1e400, 26 digits) is not one, so the
    code needs a correspondence."""
    text = external.strip().removesuffix("%").strip()
    try:
        return parse_decimal(
            text, what="vat", mark="," if "," in text else ".", limit=100, negative=False
        )
    except NumberProblem:
        return None


class Resolver:
    """Lookups of one reception, against the transaction it runs in. Answers are kept for the
    reception (a file holds the same few VAT codes, units and articles again and again); `db` is
    set to each batch's transaction."""

    def __init__(self, db: Database, connector: Connector) -> None:
        self.db = db
        self.connector = connector
        self._memo: dict[tuple[str, str, str], Any] = {}
        self.codes: dict[tuple[str, str], str] = {
            (row[0], row[1].lower()): row[2]
            for row in db.execute(
                "SELECT kind, external, internal FROM connector_codes WHERE connector_id = ?",
                [connector.id],
            )
        }

    def _remember(self, key: tuple[str, str, str], compute: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    def article(self, external: str, variant: str) -> int | None:
        return self._remember(
            ("article", external, variant), lambda: self._article(external, variant)
        )

    def _article(self, external: str, variant: str) -> int | None:
        row = self.db.execute(
            "SELECT article_id FROM connector_articles WHERE connector_id = ? AND external_code = ?"
            " AND variant_code = ?",
            [self.connector.id, external, variant],
        ).fetchone()
        return int(row[0]) if row else None

    def customer(self, external: str) -> int | None:
        row = self.db.execute(
            "SELECT party_id FROM connector_customers WHERE connector_id = ? AND external_ref = ?",
            [self.connector.id, external],
        ).fetchone()
        return int(row[0]) if row else None

    def vat_rate(self, external: str) -> Decimal | None:
        """The VAT rate of an outside VAT code, or None when it needs a correspondence."""
        return self._remember(("vat", external, ""), lambda: self._vat_rate(external))

    def _vat_rate(self, external: str) -> Decimal | None:
        code = self.codes.get(("vat", external.strip().lower()))
        row = self.db.execute(
            "SELECT rate FROM vat_rates WHERE code = ?", [code or external.strip()]
        ).fetchone()
        if row is not None:
            return Decimal(str(row[0]))
        if code is None:
            rate = _rate(external)
            if rate is None:
                return None
            found = self.db.execute(
                "SELECT 1 FROM vat_rates WHERE rate = ?", [float(rate)]
            ).fetchone()
            return rate if found else None
        return None

    def unit(self, external: str) -> str | None:
        return self._remember(("unit", external, ""), lambda: self._unit(external))

    def _unit(self, external: str) -> str | None:
        code = self.codes.get(("unit", external.strip().lower())) or external.strip()
        row = self.db.execute("SELECT code FROM units WHERE code = ?", [code]).fetchone()
        return str(row[0]) if row else None

    def country(self, external: str) -> str | None:
        return self._remember(("country", external, ""), lambda: self._country(external))

    def _country(self, external: str) -> str | None:
        value = external.strip()
        if not value:
            return ""
        code = self.codes.get(("country", value.lower()))
        row = self.db.execute(
            "SELECT code FROM countries WHERE code = ? OR alpha3 = ? OR name_fr = ? OR name_en = ?",
            [code or value, value, value, value],
        ).fetchone()
        return str(row[0]) if row else None


# -- the correspondence screens ----------------------------------------------------------------


def article_codes(store: Store, article_id: int) -> list[dict[str, Any]]:
    """The article's outside codes per connector: each correspondence, or one empty line."""
    with store.read() as db:
        rows = db.execute(
            "SELECT c.code, c.partner, m.external_code, m.variant_code FROM connectors c"
            " LEFT JOIN connector_articles m ON m.connector_id = c.id AND m.article_id = ?"
            " ORDER BY c.code, m.external_code, m.variant_code",
            [article_id],
        ).fetchall()
    return [
        {
            "connector": code,
            "partner": partner,
            "external": external or "",
            "variant": variant or "",
            "old_external": external or "",
            "old_variant": variant or "",
        }
        for code, partner, external, variant in rows
    ]


@dataclass(frozen=True)
class ArticleCode:
    """One line of a correspondence form: the article, its new codes and the codes it had."""

    article: str
    external: str
    variant: str = ""
    old_external: str = ""
    old_variant: str = ""

    @property
    def changed(self) -> bool:
        return (self.external.strip(), self.variant.strip()) != (
            self.old_external.strip(),
            self.old_variant.strip(),
        )


def set_article_codes(store: Store, connector: Connector, lines: list[ArticleCode]) -> int:
    """Save the changed lines in one transaction (codes may be swapped between articles).

    An empty outside code removes the line's correspondence. Raises ConnectorError, with nothing
    saved, when an outside code is already another article's; returns the lines changed.
    """
    changed = [line for line in lines if line.changed]
    if not changed:
        return 0
    with store.write() as db:
        ids: dict[str, int] = {}
        for line in changed:
            row = db.execute("SELECT id FROM articles WHERE code = ?", [line.article]).fetchone()
            if row is None:
                raise ConnectorError(N_("No article has the code {code}."), code=line.article)
            ids[line.article] = int(row[0])
            if line.old_external.strip():
                db.execute(
                    "DELETE FROM connector_articles WHERE connector_id = ? AND external_code = ?"
                    " AND variant_code = ? AND article_id = ?",
                    [connector.id, line.old_external.strip(), line.old_variant.strip(), row[0]],
                )
        for line in changed:
            external, variant = line.external.strip(), line.variant.strip()
            if not external:
                continue
            other = db.execute(
                "SELECT a.code FROM connector_articles m JOIN articles a ON a.id = m.article_id"
                " WHERE m.connector_id = ? AND m.external_code = ? AND m.variant_code = ?",
                [connector.id, external, variant],
            ).fetchone()
            if other is not None:
                raise ConnectorError(
                    N_("The outside code {external} is already given to the article {code}."),
                    field=line.article,
                    external=external,
                    code=other[0],
                )
            db.execute(
                "INSERT INTO connector_articles (connector_id, external_code, variant_code,"
                " article_id) VALUES (?, ?, ?, ?)",
                [connector.id, external, variant, ids[line.article]],
            )
    return len(changed)


def articles_for_mapping(
    store: Store, connector: Connector, show: str, tags: str, limit: int = 500
) -> list[dict[str, Any]]:
    """The mass-edit screen's rows: articles available for export, or matching the tags."""
    where: list[str] = ["a.active = 1"]
    params: list[Any] = [connector.id]
    if show == "export":
        where.append("a.export = 1")
    for tag in tags.lower().split() if show == "filter" else []:
        where.append("(' ' || a.tags || ' ') LIKE ?")
        params.append(f"% {tag} %")
    with store.read() as db:
        rows = db.execute(
            "SELECT a.id, a.code, a.label, a.tags, (SELECT external_code FROM connector_articles m"
            " WHERE m.article_id = a.id AND m.connector_id = ? ORDER BY 1 LIMIT 1) AS external,"
            " (SELECT variant_code FROM connector_articles m WHERE m.article_id = a.id"
            f" AND m.connector_id = ?1 ORDER BY external_code LIMIT 1) AS variant FROM articles a"
            f" WHERE {' AND '.join(where)} ORDER BY a.code LIMIT ?",
            [*params, limit + 1],
        ).fetchall()
    return [
        {
            **dict(row),
            "external": row["external"] or "",
            "variant": row["variant"] or "",
            "old_external": row["external"] or "",
            "old_variant": row["variant"] or "",
        }
        for row in rows
    ]


def customer_links(store: Store, connector: Connector) -> list[dict[str, Any]]:
    with store.read() as db:
        rows = db.execute(
            "SELECT m.external_ref, p.id, p.code, p.last_name, p.first_name, p.company,"
            " p.postcode, p.city FROM connector_customers m JOIN parties p ON p.id = m.party_id"
            " WHERE m.connector_id = ? ORDER BY m.external_ref",
            [connector.id],
        ).fetchall()
    return [dict(row) for row in rows]


def unlink_customers(store: Store, connector: Connector, externals: list[str]) -> int:
    with store.write() as db:
        removed = 0
        for external in externals:
            removed += db.execute(
                "DELETE FROM connector_customers WHERE connector_id = ? AND external_ref = ?",
                [connector.id, external],
            ).rowcount
    return removed


def code_links(store: Store, connector: Connector) -> list[dict[str, Any]]:
    with store.read() as db:
        rows = db.execute(
            "SELECT kind, external, internal FROM connector_codes WHERE connector_id = ?"
            " ORDER BY kind, external",
            [connector.id],
        ).fetchall()
    return [dict(row) for row in rows]


def delete_code(store: Store, connector: Connector, kind: str, external: str) -> None:
    with store.write() as db:
        db.execute(
            "DELETE FROM connector_codes WHERE connector_id = ? AND kind = ? AND external = ?",
            [connector.id, kind, external],
        )


def unknown_codes(store: Store, entries: list[tuple[str, str]]) -> set[int]:
    """Indexes of the (kind, internal code) pairs that name no VAT rate, unit or country."""
    tables = {"vat": "vat_rates", "unit": "units", "country": "countries"}
    bad = set()
    with store.read() as db:
        for index, (kind, internal) in enumerate(entries):
            table = tables.get(kind)
            if table is None or not internal.strip():
                bad.add(index)
                continue
            row = db.execute(f"SELECT 1 FROM {table} WHERE code = ?", [internal.strip()]).fetchone()
            if row is None:
                bad.add(index)
    return bad
