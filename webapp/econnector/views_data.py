"""Queries and background tasks behind the e-connecteur's screens (ECN-2 to ECN-8).

The rules stay in `connectors`, `mappings`, `receive` and `send`; this module reads what the pages
show (reference lists, the sync state of each connector, the history) and keeps the receptions
started from the browser: each step (analysis, integration) runs in a thread with live progress, in
memory like the back office's imports (a restart forgets an analysis left on screen).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp import history
from webapp.csvio import CsvError
from webapp.econnector import receive as receiving
from webapp.econnector.connectors import Connector, ConnectorError
from webapp.i18n import N_, UserError
from webapp.store import Store

log = logging.getLogger(__name__)

TIERS = ((100, N_("100 documents")), (500, N_("500 documents")), (999, N_("< 1000 documents")))
TIER_ABOVE = N_("> 1000 documents")
KEEP_SECONDS = 6 * 3600


# -- reference lists ---------------------------------------------------------------------------


def reference(store: Store) -> dict[str, list[dict[str, Any]]]:
    """What the wizard's selects offer."""
    queries = {
        "price_categories": "SELECT id, code, label, is_default FROM price_categories ORDER BY code",
        "units": "SELECT id, code, label FROM units ORDER BY code",
        "warehouses": "SELECT id, code, name AS label, is_default FROM warehouses ORDER BY code",
        "companies": "SELECT id, code, name AS label, is_default FROM companies ORDER BY code",
        "sites": "SELECT s.id, s.code, s.name AS label, s.company_id, c.code AS company"
        " FROM sites s JOIN companies c ON c.id = s.company_id ORDER BY c.code, s.code",
        "carriers": "SELECT id, code, name AS label FROM carriers ORDER BY code",
        "customer_families": "SELECT id, code, label FROM party_families WHERE kind = 'customer'"
        " ORDER BY code",
        "supplier_families": "SELECT id, code, label FROM party_families WHERE kind = 'supplier'"
        " ORDER BY code",
        "vat_rates": "SELECT code, label FROM vat_rates ORDER BY rate DESC, code",
        "countries": "SELECT code, name_fr AS label FROM countries ORDER BY code",
    }
    with store.read() as db:
        return {name: [dict(row) for row in db.execute(sql)] for name, sql in queries.items()}


REFERENCE_FIELDS = {
    "price_category_id": "price_categories",
    "unit_id": "units",
    "warehouse_id": "warehouses",
    "company_id": "companies",
    "site_id": "sites",
    "carrier_id": "carriers",
    "customer_family_id": "customer_families",
    "supplier_family_id": "supplier_families",
}


def check_references(store: Store, connector: Connector) -> None:
    """The chosen rows exist (and the site belongs to the company); ConnectorError names the field."""
    ref = reference(store)
    for name, table in REFERENCE_FIELDS.items():
        value = getattr(connector, name)
        if value is not None and value not in {row["id"] for row in ref[table]}:
            raise ConnectorError(N_("Choose a value from the list."), field=name)
    if connector.site_id is not None and connector.company_id is not None:
        site = next(row for row in ref["sites"] if row["id"] == connector.site_id)
        if site["company_id"] != connector.company_id:
            raise ConnectorError(
                N_("The site {site} belongs to another company."),
                field="site_id",
                site=site["code"],
            )


def defaults(store: Store) -> dict[str, int | None]:
    """A new connector starts on the default company, its first site and the default warehouse."""
    ref = reference(store)

    def default(rows: list[dict[str, Any]]) -> int | None:
        chosen = [row for row in rows if row.get("is_default")] or rows
        return int(chosen[0]["id"]) if chosen else None

    company = default(ref["companies"])
    sites = [row for row in ref["sites"] if row["company_id"] == company]
    return {
        "company_id": company,
        "site_id": int(sites[0]["id"]) if sites else None,
        "warehouse_id": default(ref["warehouses"]),
    }


# -- the sync screen ---------------------------------------------------------------------------


COUNT_LIMIT = 1001  # enough to say "> 1000": a huge file is not read to its end


def count_documents(path: Path, connector: Connector, limit: int = COUNT_LIMIT) -> int:
    """Documents in one waiting file (up to `limit`); a file that cannot be read counts lines."""
    counted = 0
    try:
        for _document in receiving.read_documents(path, connector):
            counted += 1
            if counted >= limit:
                break
        return counted
    except (CsvError, UserError, OSError, ValueError):
        counted = 0
        with contextlib.suppress(OSError), path.open("rb") as handle:
            for _line in handle:
                counted += 1
                if counted > limit:
                    break
        return min(max(counted - 1, 0), limit)


def tier(documents: int) -> str:
    for limit, label in TIERS:
        if documents <= limit:
            return label
    return TIER_ABOVE


@dataclass
class SyncState:
    connector: Connector
    folder_ok: bool
    files: list[str]
    writing: list[str]
    documents: int
    tier: str
    errors: int
    last_reception: str | None
    last_send: str | None


def sync_state(store: Store, connector: Connector) -> SyncState:
    folder = Path(connector.import_dir)
    folder_ok = bool(connector.import_dir) and folder.is_dir()
    ready, writing = receiving.ready_files(folder) if folder_ok else ([], [])
    documents = 0
    for path in ready:
        if documents >= COUNT_LIMIT:
            break
        documents += count_documents(path, connector, COUNT_LIMIT - documents)
    errors = history.count_unresolved_for(store, connector.code)
    last = {
        "reception": history.last_item_at(store, connector.code, "received"),
        "send": history.last_item_at(store, connector.code, "sent"),
    }
    return SyncState(
        connector,
        folder_ok,
        [path.name for path in ready],
        [path.name for path in writing],
        documents,
        tier(documents),
        int(errors),
        last.get("reception"),
        last.get("send"),
    )


def startup_waiting(store: Store) -> list[dict[str, Any]]:
    """Connectors received "at start-up" that have files waiting: the dashboard's banner."""
    with store.read() as db:
        rows = db.execute(
            "SELECT code, import_dir FROM connectors WHERE reception_update = 'startup'"
            " ORDER BY code"
        ).fetchall()
    waiting = []
    for code, folder in rows:
        path = Path(folder)
        if folder and path.is_dir():
            ready, _writing = receiving.ready_files(path)
            if ready:
                waiting.append({"code": code, "files": len(ready)})
    return waiting


# -- correspondences ---------------------------------------------------------------------------


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
