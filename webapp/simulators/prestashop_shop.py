"""The PrestaShop simulator's data: tables of records keyed by resource and id, the reference data
of a fresh PrestaShop install (currency, order states, countries, taxes), the catalogue and its
stock. Customers and orders are in prestashop_orders.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from webapp.simulators import prestashop_query as query
from webapp.simulators.prestashop_format import DATE_FORMAT, Record, normalize
from webapp.simulators.prestashop_schema import RESOURCES, Resource

LANG = 1
CURRENCY = 1
# Lists whose selection is kept between requests: their records change only through insert,
# _update and store_replaced, which bump the table's version (stock rows change in place).
SELECTIONS_KEPT = ("orders", "order_histories", "customers", "addresses")
MAX_SELECTIONS = 16

# PrestaShop's default order states (ids of a fresh install), in the shop's language (French).
ORDER_STATES = (
    (1, "En attente du paiement par chèque", 0, 0, 0),
    (2, "Paiement accepté", 0, 0, 1),
    (3, "En cours de préparation", 0, 0, 1),
    (4, "Expédié", 0, 1, 1),
    (5, "Livré", 1, 1, 1),
    (6, "Annulé", 0, 0, 0),
    (7, "Remboursé", 0, 0, 1),
    (8, "Erreur de paiement", 0, 0, 0),
    (9, "En attente de réapprovisionnement (payé)", 0, 0, 1),
    (10, "En attente de virement bancaire", 0, 0, 0),
    (11, "Paiement à distance accepté", 0, 0, 1),
    (12, "En attente de réapprovisionnement (non payé)", 0, 0, 0),
)
# Ids of a fresh PrestaShop install's country table.
COUNTRIES = (
    (1, "DE", "Allemagne"),
    (3, "BE", "Belgique"),
    (8, "FR", "France"),
    (12, "LU", "Luxembourg"),
    (13, "NL", "Pays-Bas"),
    (19, "CH", "Suisse"),
)


class ShopData:
    """Tables keyed by resource then id. Thread-safe: a test adds orders while the server reads."""

    def __init__(self, *, seed: int = 7, clock_offset_seconds: int = 0) -> None:
        self.clock_offset_seconds = clock_offset_seconds
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._tables: dict[str, dict[int, Record]] = {name: {} for name in RESOURCES}
        self._rows: dict[int, list[Record]] = {}  # order id -> its order_rows
        self._last_ids: dict[str, int] = {name: 0 for name in RESOURCES}
        self._last_ids["order_rows"] = 0
        self._versions: dict[str, int] = {name: 0 for name in RESOURCES}
        # (resource, filters, sort) -> (table version, records selected and sorted)
        self._selections: dict[tuple[Any, ...], tuple[int, list[Any]]] = {}
        self._base_tables()

    # -- the shop's clock and raw access --

    def shop_now(self) -> datetime:
        """The shop's clock: ours shifted by clock_offset_seconds (another timezone, a drift)."""
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        return now + timedelta(seconds=self.clock_offset_seconds)

    def _stamp(self, moment: datetime | None = None) -> str:
        return (moment or self.shop_now()).strftime(DATE_FORMAT)

    def insert(self, resource: str, values: dict[str, Any], record_id: int | None = None) -> int:
        """A record with every field of the resource (missing ones empty, as PrestaShop prints)."""
        definition = RESOURCES[resource]
        with self._lock:
            table = self._tables[resource]
            if record_id is not None and record_id <= self._last_ids[resource]:
                # Tables keep id order: a list without `sort` relies on it.
                raise ValueError(f"{resource} {record_id}: ids are given in increasing order")
            new_id = record_id or self._last_ids[resource] + 1
            self._last_ids[resource] = max(self._last_ids[resource], new_id)
            record = {f.name: normalize(f, values.get(f.name)) for f in definition.fields}
            record["id"] = str(new_id)
            table[new_id] = record
            self._versions[resource] += 1
            return new_id

    def record(self, resource: str, record_id: int) -> Record:
        """A copy of one stored record (KeyError when there is none)."""
        with self._lock:
            return dict(self._tables[resource][record_id])

    def records(self, resource: str) -> list[Record]:
        with self._lock:
            return [dict(r) for r in self._tables[resource].values()]

    def table(self, resource: str) -> list[Record]:
        """The live records, not copies: read under the lock (`with shop._lock`) only."""
        return list(self._tables[resource].values())

    def selected(self, resource: Resource, wanted: query.ListQuery) -> list[Any]:
        """The live records a list query's filters and sort select (read under the lock). A
        receive asks page after page of one selection: it is made once per table version, not
        once a page (10,000 orders filtered and sorted a hundred times)."""
        with self._lock:
            if resource.name not in SELECTIONS_KEPT:
                return query.select(resource, wanted, self.table(resource.name))
            key = query.selection_key(resource, wanted)
            version = self._versions[resource.name]
            kept = self._selections.pop(key, None)
            chosen = kept[1] if kept and kept[0] == version else None
            if chosen is None:
                chosen = query.select(resource, wanted, self.table(resource.name))
            self._selections[key] = (version, chosen)  # the newest last
            if len(self._selections) > MAX_SELECTIONS:
                del self._selections[next(iter(self._selections))]
            return chosen

    def _update(self, resource: str, record_id: int, **values: Any) -> None:
        definition = RESOURCES[resource]
        with self._lock:
            record = self._tables[resource][record_id]
            for name, value in values.items():
                record[name] = normalize(definition.by_name[name], value)
            self._versions[resource] += 1

    def store_replaced(self, resource: str, record_id: int, record: Record) -> None:
        """A PUT's checked record; date_upd is the shop's clock and date_add stays, as
        PrestaShop's ObjectModel::update sets them."""
        with self._lock:
            old = self._tables[resource][record_id]
            if "date_upd" in record:
                record["date_upd"] = self._stamp()
            if "date_add" in record:
                record["date_add"] = old["date_add"]
            self._tables[resource][record_id] = record
            self._versions[resource] += 1
            if resource == "stock_availables" and record["id_product_attribute"] != "0":
                self._sum_stock(int(record["id_product"]))

    # -- reference data --

    def _base_tables(self) -> None:
        self.insert(
            "currencies",
            {"name": "Euro", "iso_code": "EUR", "precision": 2, "conversion_rate": "1.000000"},
        )
        for state_id, name, delivery, shipped, paid in ORDER_STATES:
            self.insert(
                "order_states",
                {
                    "name": name,
                    "delivery": delivery,
                    "shipped": shipped,
                    "paid": paid,
                    "logable": paid,
                    "invoice": paid,
                },
                state_id,
            )
        for country_id, iso, name in COUNTRIES:
            self.insert(
                "countries",
                {
                    "iso_code": iso,
                    "name": name,
                    "id_zone": 1,
                    "active": 1,
                    "need_zip_code": 1,
                    "display_tax_label": 1,
                },
                country_id,
            )
        self.add_tax_group("FR Taux standard (20%)", Decimal("20"))
        self.add_tax_group("FR Taux réduit (5.5%)", Decimal("5.5"))

    def add_tax_group(self, name: str, rate: Decimal) -> int:
        """A tax, its tax rule group and a rule for every country of the shop."""
        now = self._stamp()
        tax_id = self.insert("taxes", {"name": f"TVA {rate}%", "rate": rate, "active": 1})
        group_id = self.insert(
            "tax_rule_groups", {"name": name, "active": 1, "date_add": now, "date_upd": now}
        )
        for country_id, _, _ in COUNTRIES:
            self.insert(
                "tax_rules",
                {"id_tax_rules_group": group_id, "id_country": country_id, "id_tax": tax_id},
            )
        return group_id

    def tax_rate(self, group_id: int, country_id: int) -> Decimal:
        with self._lock:
            for rule in self._tables["tax_rules"].values():
                if rule["id_tax_rules_group"] == str(group_id) and rule["id_country"] == str(
                    country_id
                ):
                    return Decimal(self._tables["taxes"][int(rule["id_tax"])]["rate"])
        return Decimal(0)

    # -- catalogue and stock --

    def add_product(
        self,
        reference: str,
        name: str,
        price: str | Decimal,
        *,
        tax_group: int = 1,
        quantity: int = 0,
        ean13: str = "",
    ) -> int:
        """A product (price excl. VAT) and its stock_available row (id_product_attribute 0)."""
        now = self._stamp()
        product_id = self.insert(
            "products",
            {
                "reference": reference,
                "name": name,
                "price": price,
                "id_tax_rules_group": tax_group,
                "ean13": ean13,
                "active": 1,
                "state": 1,
                "type": "simple",
                "id_category_default": 2,
                "link_rewrite": reference.lower(),
                "date_add": now,
                "date_upd": now,
            },
        )
        self.insert(
            "stock_availables",
            {
                "id_product": product_id,
                "id_product_attribute": 0,
                "id_shop": 1,
                "quantity": quantity,
                "out_of_stock": 2,
            },
        )
        return product_id

    def add_combination(
        self,
        product_id: int,
        reference: str,
        *,
        price_impact: str | Decimal = "0",
        quantity: int = 0,
    ) -> int:
        """A combination with its own stock_available; the product's row then holds the sum
        (PrestaShop keeps a product's quantity as the sum of its combinations')."""
        with self._lock:
            first = not any(
                c["id_product"] == str(product_id) for c in self._tables["combinations"].values()
            )
            combination_id = self.insert(
                "combinations",
                {
                    "id_product": product_id,
                    "reference": reference,
                    "price": price_impact,
                    "minimal_quantity": 1,
                    "default_on": 1 if first else 0,
                },
            )
            if first:
                self._update("products", product_id, id_default_combination=combination_id)
            self.insert(
                "stock_availables",
                {
                    "id_product": product_id,
                    "id_product_attribute": combination_id,
                    "id_shop": 1,
                    "quantity": quantity,
                    "out_of_stock": 2,
                },
            )
            self._sum_stock(product_id)
            return combination_id

    def stock_row(self, product_id: int, combination_id: int = 0) -> Record:
        with self._lock:
            for row in self._tables["stock_availables"].values():
                if row["id_product"] == str(product_id) and row["id_product_attribute"] == str(
                    combination_id
                ):
                    return row
        raise KeyError((product_id, combination_id))

    def set_stock(self, product_id: int, quantity: int, combination_id: int = 0) -> None:
        with self._lock:
            self.stock_row(product_id, combination_id)["quantity"] = str(quantity)
            if combination_id:
                self._sum_stock(product_id)

    def stock(self, product_id: int, combination_id: int = 0) -> int:
        return int(self.stock_row(product_id, combination_id)["quantity"])

    def _sum_stock(self, product_id: int) -> None:
        with self._lock:
            rows = [
                r
                for r in self._tables["stock_availables"].values()
                if r["id_product"] == str(product_id) and r["id_product_attribute"] != "0"
            ]
            if rows:
                total = sum(int(r["quantity"]) for r in rows)
                self.stock_row(product_id)["quantity"] = str(total)

    def associations(self, resource: str, record: Record) -> dict[str, list[Record]]:
        """The associations printed with a record (products: computed from the other tables)."""
        with self._lock:
            if resource == "orders":
                return {"order_rows": [dict(r) for r in self._rows.get(int(record["id"]), [])]}
            if resource != "products":
                return {}
            pid = record["id"]
            combinations = [
                {"id": c["id"]}
                for c in self._tables["combinations"].values()
                if c["id_product"] == pid
            ]
            stock = [
                {"id": s["id"], "id_product_attribute": s["id_product_attribute"]}
                for s in self._tables["stock_availables"].values()
                if s["id_product"] == pid
            ]
            return {"combinations": combinations, "stock_availables": stock}

    def computed(self, resource: str, record: Record) -> Record:
        """Read-only fields PrestaShop computes (a product's quantity comes from its stock)."""
        if resource == "products":
            record["quantity"] = self.stock_row(int(record["id"]))["quantity"]
        return record
