"""A shop's orders to receive, with what their mapping needs (ECN-11, issue 15).

Orders come page by page: first the orders held back by earlier receives (asked again by id),
then those changed since the cursor, oldest `date_upd` first. For each page the customers,
addresses, countries, products and combinations it refers to are asked in one filtered call per
resource (`filter[id]=[1|2|3]`), those already met in this receive excepted: they are cached for
the whole receive. Nothing here writes to the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from webapp.econnector.prestashop.client import PrestaShopClient

# The resources an order refers to, and the order's field naming each one.
PAGE_SIZE = 100


@dataclass
class ShopOrder:
    """An order as the shop gave it, and where it came from."""

    record: dict[str, Any]
    held: bool  # asked again by id (held back before), not found through the cursor
    doc_ref: str = ""

    @property
    def id(self) -> int:
        return int(self.record["id"])

    @property
    def date_upd(self) -> str:
        return str(self.record.get("date_upd") or "")

    @property
    def state(self) -> int:
        return int(self.record.get("current_state") or 0)

    def rows(self) -> list[dict[str, Any]]:
        return list((self.record.get("associations") or {}).get("order_rows") or [])


@dataclass
class ShopCache:
    """Records met during one receive, by resource then id."""

    records: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)

    def get(self, resource: str, record_id: Any) -> dict[str, Any] | None:
        try:
            return self.records.get(resource, {}).get(int(record_id))
        except (TypeError, ValueError):
            return None

    def fill(self, client: PrestaShopClient, resource: str, ids: Iterable[Any]) -> None:
        """Ask the shop, in one filtered call per hundred ids, for the records not met yet."""
        known = self.records.setdefault(resource, {})
        wanted = {int(value) for value in ids if _positive(value)} - set(known)
        if wanted:
            found = client.get_many(resource, sorted(wanted))
            known.update(found)


def _positive(value: Any) -> bool:
    try:
        return int(value) > 0
    except (TypeError, ValueError):
        return False


def held_orders(
    client: PrestaShopClient, order_ids: list[int], states: list[int]
) -> tuple[list[ShopOrder], list[int]]:
    """(the held orders still to receive, the ids to forget: gone or out of the chosen states)."""
    found = client.get_many("orders", order_ids) if order_ids else {}
    kept = [
        ShopOrder(record, held=True)
        for order_id, record in sorted(found.items())
        if not states or int(record.get("current_state") or 0) in states
    ]
    kept_ids = {order.id for order in kept}
    return kept, [order_id for order_id in order_ids if order_id not in kept_ids]


def changed_orders(
    client: PrestaShopClient, cursor: str | None, states: list[int], page_size: int = PAGE_SIZE
) -> Iterator[list[ShopOrder]]:
    """Pages of orders changed since the cursor (its own second included: the shop's dates have
    no fraction, so a cursor may stand between two orders of one second)."""
    for page in client.orders_since(
        cursor or None, states=states, page_size=page_size, inclusive=bool(cursor)
    ):
        yield [ShopOrder(record, held=False) for record in page]


def complete(client: PrestaShopClient, cache: ShopCache, orders: list[ShopOrder]) -> None:
    """Fetch what the page's orders refer to, and give each order its doc_ref."""
    cache.fill(client, "customers", [order.record.get("id_customer") for order in orders])
    cache.fill(client, "addresses", [order.record.get("id_address_invoice") for order in orders])
    addresses = [cache.get("addresses", order.record.get("id_address_invoice")) for order in orders]
    cache.fill(client, "countries", [item.get("id_country") for item in addresses if item])
    rows = [row for order in orders for row in order.rows()]
    cache.fill(client, "products", [row.get("product_id") for row in rows])
    cache.fill(client, "combinations", [row.get("product_attribute_id") for row in rows])
    _name(client, orders)


def _name(client: PrestaShopClient, orders: list[ShopOrder]) -> None:
    """doc_ref: the order's reference. PrestaShop gives the orders split from one cart the same
    reference: the first (lowest id) keeps it, the next ones get -2, -3… by id, so the name of an
    order never changes (ids only grow). One call per page asks which orders share a reference."""
    references = sorted({str(order.record.get("reference") or "") for order in orders} - {""})
    siblings: dict[str, list[int]] = {}
    if references:
        for start in range(0, len(references), PAGE_SIZE):
            part = references[start : start + PAGE_SIZE]
            for item in client.list_full(
                "orders",
                filters={"reference": "[" + "|".join(part) + "]"},
                display="[id,reference]",
            ):
                siblings.setdefault(str(item.get("reference") or ""), []).append(int(item["id"]))
    for order in orders:
        reference = str(order.record.get("reference") or "") or f"#{order.id}"
        same = sorted(siblings.get(reference, [order.id]))
        rank = same.index(order.id) + 1 if order.id in same else 1
        order.doc_ref = reference if rank == 1 else f"{reference}-{rank}"
