"""PUT on the PrestaShop simulator: the body replaces the whole resource.

Rules from PrestaShop's WebserviceRequest::saveEntityFromXml and the update tutorial
(webservice/tutorials/prestashop-webservice-lib/update-resource.md: "get the resource, change it,
send it back whole"): every entity needs its id (error 90), an unknown id is 404 (error 92), a
read-only field sent back is refused (error 93), a required field missing is refused (error 41),
a value its format refuses is a validation error (error 85), a field left out is emptied. An XML
that does not parse is PrestaShop's 500 (error 127). Checked whole before anything is written:
nothing is half-applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from webapp.simulators import prestashop_format as fmt
from webapp.simulators.prestashop_schema import Resource

if TYPE_CHECKING:
    from webapp.simulators.prestashop_orders import OrderBook
    from webapp.simulators.prestashop_shop import ShopData

CLASS_NAMES = {
    "stock_availables": "StockAvailable",
    "products": "Product",
    "combinations": "Combination",
    "orders": "Order",
    "customers": "Customer",
    "addresses": "Address",
}


class WriteError(Exception):
    def __init__(self, status: int, errors: list[tuple[int, str]]) -> None:
        super().__init__(errors[0][1])
        self.status, self.errors = status, errors


def replace(shop: ShopData, resource: Resource, url_id: str, body: bytes) -> list[int]:
    """Apply a PUT body; the ids of the records written.

    A body may carry several entities (PUT /api/stock_availables without an id): PrestaShop saves
    them one after the other, so an error on the third leaves the first two written. The
    simulator does the same: a client must not report a refused batch as undone."""
    entities = _entities(body)
    ids = [values["id"] for values in entities if values.get("id")]
    if len(set(ids)) != len(ids):
        raise WriteError(400, [(89, "id is duplicate in request")])
    if not entities or len(ids) != len(entities):
        raise WriteError(400, [(90, "id is required when modifying a resource")])
    if url_id and ids != [url_id]:
        # Assumed: PrestaShop takes the body's ids; a client sending another record's body to
        # this URL has a bug the simulator should show (docs/prestashop-simulator.md).
        raise WriteError(400, [(90, "id in the URL and in the body differ")])
    written = []
    for values in entities:
        try:
            record_id = int(values["id"])
            old = shop.record(resource.name, record_id)
        except (KeyError, ValueError) as error:
            raise WriteError(404, [(92, "Invalid ID")]) from error
        shop.store_replaced(resource.name, record_id, _checked(resource, values, old))
        written.append(record_id)
    return written


def _entities(body: bytes) -> list[dict[str, str]]:
    if not body.strip():
        raise WriteError(400, [(40, "Bad XML: the request body is empty")])  # assumed wording
    try:
        return fmt.parse_entities(body)
    except fmt.BadBody as error:
        message = f"XML error : {error}\nXML length : {len(body)}"
        raise WriteError(500, [(127, message)]) from error


def _checked(resource: Resource, values: dict[str, str], old: fmt.Record) -> fmt.Record:
    class_name = CLASS_NAMES.get(resource.name, resource.node.title())
    new: fmt.Record = {}
    for field in resource.fields:
        if field.name == "id":
            new["id"] = old["id"]
            continue
        if not field.writable:
            if field.name in values:
                message = (
                    f'parameter "{field.name}" not writable. Please remove this attribute of '
                    "this XML"
                )
                raise WriteError(400, [(93, message)])
            new[field.name] = old.get(field.name, "")
            continue
        if field.name not in values:
            if field.required:
                raise WriteError(400, [(41, f'parameter "{field.name}" required')])
            new[field.name] = fmt.normalize(field, None)
            continue
        try:
            new[field.name] = fmt.normalize(field, values[field.name])
        except fmt.BadValue as error:
            message = f'Validation error: "Property {class_name}->{field.name} is not valid"'
            raise WriteError(400, [(85, message)]) from error
    return new


def add_order_history(shop: OrderBook, body: bytes) -> int:
    """POST /api/order_histories: the order takes the new state (OrderHistory::addWs changes the
    order's state, then saves the row). An id in the body is refused (error 91); an order or
    state the shop lacks is a validation error (assumed: PrestaShop would fail further in)."""
    entities = _entities(body)
    if len(entities) != 1:
        raise WriteError(400, [(90, "one order_history is expected")])  # assumed wording
    values = entities[0]
    if values.get("id"):
        raise WriteError(400, [(91, "id is forbidden when adding a new resource")])
    for name in ("id_order_state", "id_order"):
        if not values.get(name):
            raise WriteError(400, [(41, f'parameter "{name}" required')])
    try:
        order_id, state = int(values["id_order"]), int(values["id_order_state"])
        shop.record("orders", order_id)
        shop.record("order_states", state)
    except (KeyError, ValueError) as error:
        message = 'Validation error: "Property OrderHistory->id_order is not valid"'
        raise WriteError(400, [(85, message)]) from error
    return shop.set_order_state(order_id, state)
