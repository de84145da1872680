"""Sends (ECN-7): articles, customers and contacts written for the other program, atomically, with
timestamped names, as the connector's settings say (filters, price category, unit, warehouse);
each setting can be overridden for one send."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from webapp import clock, history
from webapp.csvio import CsvWriter, WriteFormat
from webapp.econnector import records
from webapp.econnector.columns import ARTICLES_SENT, CONTACTS_SENT, CUSTOMERS_SENT
from webapp.econnector.connectors import Connector, ConnectorError, check_folder, shop_key
from webapp.i18n import N_, N_plural
from webapp.store import Store

if TYPE_CHECKING:
    from webapp.econnector.prestashop.send import ShopSendReport
    from webapp.secrets import Vault

JOB_NAME = "connector_send"
FETCH = 2000

# A shop send records an item per article (econnector.prestashop.send): its label, known to the
# history pages without loading the HTTP client.
history.KIND_LABELS.setdefault("article", N_("Article"))


@dataclass
class SendReport:
    mode: ClassVar[str] = "csv"
    connector: str
    files: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "connector": self.connector, "files": self.files, "run_id": self.run_id}


def _rows(store: Store, sql: str, params: list[Any]) -> Iterator[Any]:
    with store.read() as db:
        cursor = db.conn.execute(sql, params)
        while batch := cursor.fetchmany(FETCH):
            yield from batch


def _defaults(store: Store, connector: Connector) -> tuple[int, int]:
    with store.read() as db:
        category = (
            connector.price_category_id
            or db.execute(
                "SELECT id FROM price_categories ORDER BY is_default DESC, id LIMIT 1"
            ).fetchone()[0]
        )
        warehouse = (
            connector.warehouse_id
            or db.execute(
                "SELECT id FROM warehouses ORDER BY is_default DESC, id LIMIT 1"
            ).fetchone()[0]
        )
    return int(category), int(warehouse)


def article_rows(store: Store, connector: Connector) -> Iterator[list[Any]]:
    category, warehouse = _defaults(store, connector)
    where = ["a.active = 1"]
    params: list[Any] = [connector.id, category, warehouse]
    if connector.send_articles == "export":
        where.append("a.export = 1")
    for tag in (
        connector.article_filter.lower().split() if connector.send_articles == "filter" else []
    ):
        where.append("(' ' || a.tags || ' ') LIKE ?")
        params.append(f"% {tag} %")
    unit = "coalesce(cu.code, u.code)"
    sql = (
        f"SELECT a.code, m.external_code, m.variant_code, a.label, {unit}, p.price_excl_vat, v.rate,"
        " s.quantity FROM articles a JOIN units u ON u.id = a.unit_id"
        " JOIN vat_rates v ON v.id = a.vat_rate_id"
        " LEFT JOIN connector_articles m ON m.article_id = a.id AND m.connector_id = ?"
        " LEFT JOIN article_prices p ON p.article_id = a.id AND p.price_category_id = ?"
        " LEFT JOIN stock s ON s.article_id = a.id AND s.warehouse_id = ?"
        f" LEFT JOIN units cu ON cu.id = {int(connector.unit_id or 0)}"
        f" WHERE {' AND '.join(where)} ORDER BY a.code"
    )
    cents = Decimal("0.01")
    for code, external, variant, label, unit_code, price, rate, stock in _rows(store, sql, params):
        excl = Decimal(str(price)) if price is not None else None
        incl = (
            (excl * (1 + Decimal(str(rate)) / 100)).quantize(cents, ROUND_HALF_UP)
            if excl is not None
            else None
        )
        yield [
            code,
            external or "",
            variant or "",
            label,
            unit_code,
            excl.quantize(Decimal("0.0001")).normalize() if excl is not None else None,
            incl,
            Decimal(str(rate)).normalize(),
            Decimal(str(stock or 0)).normalize(),
        ]


def customer_rows(store: Store, connector: Connector) -> Iterator[list[Any]]:
    where, params = _customer_filter(connector)
    sql = (
        "SELECT p.code, (SELECT external_ref FROM connector_customers m WHERE m.party_id = p.id"
        " AND m.connector_id = ? LIMIT 1), p.last_name, p.first_name, p.company, p.email, p.phone,"
        " p.address, p.postcode, p.city, p.country, p.vat_number FROM parties p"
        f" LEFT JOIN party_families f ON f.id = p.family_id WHERE {where} ORDER BY p.code"
    )
    for row in _rows(store, sql, [connector.id, *params]):
        yield [value if value is not None else "" for value in row]


def contact_rows(store: Store, connector: Connector) -> Iterator[list[Any]]:
    where, params = _customer_filter(connector)
    sql = (
        "SELECT p.code, c.contact_no, c.last_name, c.first_name, c.role, c.email, c.phone"
        " FROM contacts c JOIN parties p ON p.id = c.party_id"
        f" LEFT JOIN party_families f ON f.id = p.family_id WHERE {where}"
        " ORDER BY p.code, c.contact_no"
    )
    yield from (list(row) for row in _rows(store, sql, params))


def _customer_filter(connector: Connector) -> tuple[str, list[Any]]:
    where = "p.kind = 'customer' AND p.active = 1"
    if connector.send_customers == "filter":
        return where + " AND f.code = ?", [connector.customer_filter.strip()]
    return where, []


def send(
    store: Store,
    connector: Connector,
    *,
    export_dir: str | None = None,
    overrides: dict[str, Any] | None = None,
    origin: str = "command",
    vault: Vault | None = None,
) -> SendReport | ShopSendReport:
    """Write the connector's files (or, in webservice mode, the articles' stock and prices to the
    shop, with the key from `vault`); `overrides` change its settings for this send only."""
    if overrides:
        connector = replace(connector, **overrides)
    if connector.mode == "webservice":
        return _send_to_shop(store, connector, vault, origin)
    folder = Path(check_folder(export_dir or connector.export_dir, "export_dir"))
    stamp = clock.file_stamp()
    fmt = WriteFormat.from_options(connector.csv_options())
    report = SendReport(connector.code)
    report.run_id = history.start_run(store, JOB_NAME, origin)
    plan: list[tuple[str, tuple[tuple[str, str], ...], Iterator[list[Any]]]] = []
    if connector.send_articles != "none":
        plan.append(("articles", ARTICLES_SENT, article_rows(store, connector)))
    if connector.send_customers != "none":
        plan.append(("customers", CUSTOMERS_SENT, customer_rows(store, connector)))
        if connector.send_contacts:
            plan.append(("contacts", CONTACTS_SENT, contact_rows(store, connector)))
    for kind, columns, rows in plan:
        target = folder / f"{connector.code}_{kind}_{stamp}.csv"
        with CsvWriter(target, fmt) as writer:
            writer.header([name for name, _ in columns])
            for row in rows:
                writer.row(row)
        report.files.append({"kind": kind, "file": str(target), "rows": writer.rows})
        _record(store, connector, report.run_id, kind, target, writer.rows)
    history.finish_run(
        store,
        report.run_id,
        "success",
        N_plural("{connector}: {n} file sent", "{connector}: {n} files sent"),
        {"connector": connector.code, "n": len(report.files)},
    )
    return report


def _send_to_shop(
    store: Store, connector: Connector, vault: Vault | None, origin: str
) -> ShopSendReport:
    # Imported here: loading the HTTP client costs a CSV send (and the command line) tenths of a second.
    from webapp.econnector.prestashop.send import send_to_shop

    if vault is None or not vault.is_unlocked:
        raise ConnectorError(N_("Unlock the secrets vault before sending to the shop."))
    key = shop_key(vault, connector.code)
    if not key:
        raise ConnectorError(N_("No PrestaShop key is stored for {code}."), code=connector.code)
    rows = article_rows(store, connector) if connector.send_articles != "none" else iter([])
    return send_to_shop(store, connector, key, rows, origin=origin)


def _record(
    store: Store, connector: Connector, run_id: int, kind: str, target: Path, rows: int
) -> None:
    with store.write() as db:
        records.record(
            db,
            run_id,
            JOB_NAME,
            connector.code,
            kind=kind,
            status="sent",
            key=target.name,
            message=N_plural("{file}: {n} row", "{file}: {n} rows"),
            params={"file": target.name, "n": rows},
        )
