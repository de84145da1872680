"""Connectors (ECN-2): what each one exchanges, with which program, through which folders."""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from webapp.clock import now_iso
from webapp.csvio import CsvOptions
from webapp.i18n import N_, N_plural, UserError
from webapp.secrets import Vault
from webapp.store import Store

__all__ = ["Connector", "ConnectorError", "replace"]

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
_STATES = re.compile(r"^\d+$")
_BOOLEANS = ("hidden", "send_contacts", "generate_payment", "use_ws_key")


# What a connector sends, and how: the wizard's second step, and what one send may override.
SEND_SETTINGS: tuple[str, ...] = (
    "send_articles",
    "article_filter",
    "price_category_id",
    "unit_id",
    "warehouse_id",
    "send_customers",
    "customer_filter",
    "send_contacts",
)


class ConnectorError(UserError):
    """A connector setting refused, or a connector that does not exist."""

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


@dataclass(frozen=True)
class Connector:
    code: str
    partner: str = ""
    hidden: bool = False
    mode: str = "csv"
    import_dir: str = ""
    export_dir: str = ""
    # Webservice mode (a PrestaShop shop): its address, the key's fallback into the query for
    # hosts that strip the Authorization header, the order states taken ("2,3"; "" for all).
    # The key itself is in the vault, under key_name(code).
    shop_url: str = ""
    use_ws_key: bool = False
    order_states: str = ""
    send_articles: str = "export"
    article_filter: str = ""
    price_category_id: int | None = None
    unit_id: int | None = None
    warehouse_id: int | None = None
    send_customers: str = "all"
    customer_filter: str = ""
    send_contacts: bool = False
    doc_type: str = "order"
    company_id: int | None = None
    site_id: int | None = None
    carrier_id: int | None = None
    generate_payment: bool = False
    customer_family_id: int | None = None
    supplier_family_id: int | None = None
    reception_update: str = "manual"
    csv_encoding: str = ""
    csv_delimiter: str = ""
    csv_decimal: str = ""
    csv_date_format: str = ""
    # Webservice receptions: the outside article codes of an order's shipping and discount lines
    # (mapped in the article correspondences like the shop's products).
    shipping_ref: str = "SHIPPING"
    discount_ref: str = "DISCOUNT"
    id: int | None = None

    def csv_options(self) -> CsvOptions:
        return CsvOptions(
            encoding=self.csv_encoding or None,
            delimiter=self.csv_delimiter or None,
            decimal=self.csv_decimal or None,
            date_format=self.csv_date_format or None,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


COLUMNS = [field.name for field in fields(Connector) if field.name != "id"]
CHOICES = {
    "send_articles": ("export", "filter", "none"),
    "send_customers": ("all", "filter", "none"),
    "doc_type": ("order", "delivery"),
    "reception_update": ("manual", "startup"),
    "mode": ("csv", "webservice"),
}


def _row(row: Any) -> Connector:
    values = dict(row)
    for name in _BOOLEANS:
        values[name] = bool(values[name])
    return Connector(**{name: values[name] for name in (*COLUMNS, "id")})


def get(store: Store, code: str) -> Connector:
    with store.read() as db:
        row = db.execute("SELECT * FROM connectors WHERE code = ?", [code]).fetchone()
    if row is None:
        raise ConnectorError(N_("No connector has the code {code}."), code=code)
    return _row(row)


def list_all(store: Store, *, include_hidden: bool = True) -> list[Connector]:
    where = "" if include_hidden else " WHERE hidden = 0"
    with store.read() as db:
        return [_row(row) for row in db.execute(f"SELECT * FROM connectors{where} ORDER BY code")]


def check_folder(path: str, field: str, *, required: bool = True) -> str:
    """A folder that exists and that Relais may write into (it renames files to .bak there)."""
    value = path.strip()
    if not value:
        if required:
            raise ConnectorError(N_("Choose a folder."), field=field)
        return ""
    folder = Path(value).expanduser()
    if not folder.is_absolute():
        raise ConnectorError(N_("The folder must be a full path: {path}"), field=field, path=value)
    if not folder.is_dir():
        raise ConnectorError(N_("The folder {path} does not exist."), field=field, path=value)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConnectorError(
            N_("Relais may not write in the folder {path}."), field=field, path=value
        )
    return str(folder)


def validate(store: Store, connector: Connector, *, existing_id: int | None = None) -> Connector:
    """Every rule of the wizard's three steps; raises ConnectorError naming the field."""
    if not _CODE.match(connector.code):
        raise ConnectorError(N_("The code is 1 to 20 letters, digits, - or _."), field="code")
    with store.read() as db:
        clash = db.execute(
            "SELECT id FROM connectors WHERE code = ? AND id IS NOT ?",
            [connector.code, existing_id],
        ).fetchone()
    if clash:
        raise ConnectorError(
            N_("The code {code} is already used."), field="code", code=connector.code
        )
    if not connector.partner.strip():
        raise ConnectorError(N_("Say which program this connector talks to."), field="partner")
    for name, allowed in CHOICES.items():
        if getattr(connector, name) not in allowed:
            raise ConnectorError(N_("Unknown choice for {field}."), field=name)
    if connector.send_articles == "filter" and not connector.article_filter.strip():
        raise ConnectorError(N_("Give the tags of the articles to send."), field="article_filter")
    if connector.send_customers == "filter" and not connector.customer_filter.strip():
        raise ConnectorError(
            N_("Give the family of the customers to send."), field="customer_filter"
        )
    connector.csv_options().checked()
    check_references(store, connector)
    if connector.mode == "webservice":
        # The shop is reached over HTTP: the folders are optional (a send may still write one).
        return replace(
            connector,
            shop_url=checked_shop_url(connector.shop_url),
            order_states=checked_states(connector.order_states),
            shipping_ref=connector.shipping_ref.strip() or "SHIPPING",
            discount_ref=connector.discount_ref.strip() or "DISCOUNT",
            import_dir=check_folder(connector.import_dir, "import_dir", required=False),
            export_dir=check_folder(connector.export_dir, "export_dir", required=False),
        )
    return replace(
        connector,
        shop_url="",
        use_ws_key=False,
        order_states="",
        import_dir=check_folder(connector.import_dir, "import_dir"),
        export_dir=check_folder(connector.export_dir, "export_dir"),
    )


def checked_shop_url(value: str) -> str:
    from webapp.econnector.prestashop.client import BadShopUrl, shop_url

    if not value.strip():
        raise ConnectorError(N_("Give the address of the shop."), field="shop_url")
    try:
        return shop_url(value)
    except BadShopUrl as exc:
        raise ConnectorError(exc.message, field="shop_url", **exc.params) from None


def checked_states(value: str) -> str:
    """ "2, 3" -> "2,3": PrestaShop order state ids, positive integers, each once."""
    states: list[int] = []
    for part in re.split(r"[\s,;]+", value.strip()):
        if not part:
            continue
        if not _STATES.match(part) or int(part) < 1:
            raise ConnectorError(
                N_("{value} is not an order state: give their numbers, such as 2,3."),
                field="order_states",
                value=part[:20],
            )
        if int(part) not in states:
            states.append(int(part))
    return ",".join(str(state) for state in states)


def key_name(code: str) -> str:
    """The vault entry of a webservice connector's key."""
    return f"econnector.{code.upper()}.key"


def shop_key(vault: Vault, code: str) -> str | None:
    """The connector's webservice key, or None when the vault is locked or holds none."""
    return vault.get(key_name(code)) if vault.is_unlocked else None


def save(
    store: Store,
    connector: Connector,
    *,
    code: str | None = None,
    vault: Vault | None = None,
    key: str | None = None,
) -> Connector:
    """Create (code None) or update the connector that had `code`. A webservice connector's
    `key` goes to the vault in the same step; None or "" keeps the stored one (when editing)."""
    existing = get(store, code) if code else None
    checked = validate(store, connector, existing_id=existing.id if existing else None)
    secrets = _key_changes(checked, existing, vault, (key or "").strip())
    values = {name: getattr(checked, name) for name in COLUMNS}
    for name in _BOOLEANS:
        values[name] = int(values[name])
    with store.write() as db:
        if existing is None:
            values.update(created_at=now_iso(), updated_at=now_iso())
            names = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            db.execute(f"INSERT INTO connectors ({names}) VALUES ({marks})", list(values.values()))
        else:
            values["updated_at"] = now_iso()
            sets = ", ".join(f"{name} = ?" for name in values)
            db.execute(
                f"UPDATE connectors SET {sets} WHERE id = ?", [*values.values(), existing.id]
            )
        # Inside the transaction: a vault that fails leaves the connector as it was.
        for name, value in secrets.items():
            assert vault is not None
            if value is None:
                vault.delete(name)
            else:
                vault.set(name, value)
    return get(store, checked.code)


def _key_changes(
    connector: Connector, existing: Connector | None, vault: Vault | None, key: str
) -> dict[str, str | None]:
    """Vault entries to write (None: to delete) for this save; ConnectorError if it cannot."""
    old_name = key_name(existing.code) if existing else None
    new_name = key_name(connector.code)
    if connector.mode != "webservice":
        was_webservice = existing is not None and existing.mode == "webservice"
        if old_name and was_webservice and vault is not None and vault.is_unlocked:
            return {old_name: None}  # back to CSV files: the key is of no more use
        return {}
    if not key and (existing is None or existing.mode != "webservice"):
        raise ConnectorError(N_("Give the PrestaShop webservice key."), field="key")
    moved = old_name is not None and old_name != new_name
    if not key and not moved:
        return {}  # editing: the stored key stays
    if vault is None or not vault.is_unlocked:
        raise ConnectorError(
            N_("Unlock the secrets vault before saving the PrestaShop key."), field="key"
        )
    if not key:
        assert old_name is not None
        key = vault.get(old_name) or ""
        if not key:
            raise ConnectorError(N_("Give the PrestaShop webservice key."), field="key")
    changes: dict[str, str | None] = {new_name: key}
    if moved:
        assert old_name is not None
        changes[old_name] = None
    return changes


def duplicate(store: Store, code: str, new_code: str, *, vault: Vault | None = None) -> Connector:
    """A copy with its settings and correspondences (and webservice key), under a new code."""
    source = get(store, code)
    key = shop_key(vault, source.code) if vault and source.mode == "webservice" else None
    copy = save(store, replace(source, code=new_code, id=None), vault=vault, key=key)
    with store.write() as db:
        for table in ("connector_articles", "connector_customers", "connector_codes"):
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")][1:]
            names = ", ".join(columns)
            db.execute(
                f"INSERT INTO {table} (connector_id, {names}) SELECT ?, {names} FROM {table}"
                " WHERE connector_id = ?",
                [copy.id, source.id],
            )
    return copy


def delete(store: Store, code: str, *, vault: Vault | None = None) -> None:
    """Delete an unused connector; its webservice key goes too when the vault is open."""
    connector = get(store, code)
    with store.read() as db:
        used = db.execute(
            "SELECT count(*) FROM connector_documents WHERE connector_id = ?", [connector.id]
        ).fetchone()[0]
    if used:
        raise ConnectorError(
            N_plural(
                "The connector {code} has integrated {n} document: hide it instead.",
                "The connector {code} has integrated {n} documents: hide it instead.",
            ),
            code=code,
            n=used,
        )
    with store.write() as db:
        db.execute("DELETE FROM connectors WHERE id = ?", [connector.id])
        if vault is not None and vault.is_unlocked:
            vault.delete(key_name(connector.code))


# -- the rows a connector points to -----------------------------------------------------------


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
