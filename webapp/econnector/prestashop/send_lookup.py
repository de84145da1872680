"""Finding the send's articles in the shop: products and combinations by their `reference`, then
their stock rows, a page of references or ids a request, once per send.

PrestaShop's `filter[reference]=[a|b]` is not case sensitive: an exact match wins, and a reference
matching several records only by case is left unfound rather than guessed. A reference holding
one of the filter's own signs (`|`, `[`, `]`, `%`, `,`) cannot be asked for and is not found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from webapp.econnector.prestashop.client import PrestaShopClient

PER_REQUEST = 50  # references a request: filter[reference]=[...] stays well under URL limits
_FILTER_SIGNS = frozenset("|[]%,")


def searchable(reference: str) -> bool:
    return bool(reference) and not (_FILTER_SIGNS & set(reference))


@dataclass
class ShopCatalogue:
    """What one send found in the shop."""

    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # reference -> product
    combinations: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    stock: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)

    def product(self, reference: str) -> dict[str, Any] | None:
        return self.products.get(reference)

    def combination(self, product_id: int, reference: str) -> dict[str, Any] | None:
        return self.combinations.get((product_id, reference))

    def stock_row(self, product_id: int, combination_id: int) -> dict[str, Any] | None:
        return self.stock.get((product_id, combination_id))


def _chunks(values: Iterable[str], size: int = PER_REQUEST) -> Iterable[list[str]]:
    wanted = sorted(set(values))
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]


def _by_reference(found: list[dict[str, Any]], wanted: list[str]) -> dict[str, dict[str, Any]]:
    """Each wanted reference's record: the exact match, else the only one equal but for case."""
    exact: dict[str, dict[str, Any]] = {}
    folded: dict[str, list[dict[str, Any]]] = {}
    for item in found:
        reference = str(item.get("reference") or "")
        exact.setdefault(reference, item)
        folded.setdefault(reference.casefold(), []).append(item)
    matched = {}
    for reference in wanted:
        if reference in exact:
            matched[reference] = exact[reference]
        elif len(folded.get(reference.casefold(), [])) == 1:
            matched[reference] = folded[reference.casefold()][0]
    return matched


def find(
    client: PrestaShopClient, references: Iterable[str], variants: Iterable[str]
) -> ShopCatalogue:
    """The products and combinations with these references, and the stock rows of the products
    found (all their combinations' rows come with them)."""
    catalogue = ShopCatalogue()
    for chunk in _chunks(r for r in references if searchable(r)):
        filters = {"reference": "[" + "|".join(chunk) + "]"}
        found = client.list_full("products", filters=filters, display="[id,reference,price]")
        catalogue.products.update(_by_reference(found, chunk))
    for chunk in _chunks(v for v in variants if searchable(v)):
        filters = {"reference": "[" + "|".join(chunk) + "]"}
        found = client.list_full(
            "combinations", filters=filters, display="[id,id_product,reference]"
        )
        by_product: dict[int, list[dict[str, Any]]] = {}
        for item in found:
            by_product.setdefault(int(item["id_product"]), []).append(item)
        for product_id, items in by_product.items():
            for reference, item in _by_reference(items, chunk).items():
                catalogue.combinations[(product_id, reference)] = item
    product_ids = [str(item["id"]) for item in catalogue.products.values()]
    for chunk in _chunks(product_ids, 100):
        filters = {"id_product": "[" + "|".join(chunk) + "]"}
        for row in client.list_full("stock_availables", filters=filters):
            key = (int(row["id_product"]), int(row["id_product_attribute"] or 0))
            catalogue.stock.setdefault(key, row)
    return catalogue
