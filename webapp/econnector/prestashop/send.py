"""The send of a webservice connector (issue 15): the selected articles' stock and prices written to
a PrestaShop shop, only where they differ.

The articles are the CSV send's (`econnector.send.article_rows`: filters, price category,
warehouse, per-send overrides). Each mapped article is found in the shop through its
correspondence (external code = the product's `reference`, variant = the combination's). Its stock
goes to the matching `stock_availables` row (GET, change `quantity`, PUT the whole row back), its
price excl. VAT to the product (read whole, change `price`, PUT it back whole) for an article
mapped to a product without a combination: a combination's price is an impact on its product's,
left to the shop. Amounts compare as Decimals (12.40 is 12.400000); nothing equal is PUT.

Each article ends written, unchanged, refused (the host or PrestaShop said no: its message) or not
found. Nothing is remembered between sends: each send compares the shop again, so what was refused
is simply written next time. A refused article is never reported written, even when one of its
two PUTs went through. A shop that stops answering, or a key it refuses, ends the send there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from webapp import history
from webapp.econnector import records
from webapp.econnector.connectors import Connector
from webapp.econnector.prestashop.client import (
    KeyRejected,
    NotFound,
    PrestaShopClient,
    PrestaShopError,
    ShopUnavailable,
)
from webapp.econnector.prestashop.send_lookup import ShopCatalogue, find
from webapp.i18n import N_, gettext
from webapp.store import Store

JOB_NAME = "connector_send"
KIND = "article"
RECORD_EVERY = 200  # articles a step: their products read at once, their outcomes recorded
MONEY = Decimal("0.000001")  # PrestaShop's DECIMAL(20,6)

WRITTEN, UNCHANGED, REFUSED, NOT_FOUND = "written", "unchanged", "refused", "not_found"
COUNTED = (WRITTEN, UNCHANGED, REFUSED, NOT_FOUND, "not_mapped")

history.KIND_LABELS.setdefault(KIND, N_("Article"))


@dataclass(frozen=True)
class Wanted:
    """One article as the send would have the shop hold it."""

    code: str
    reference: str
    variant: str
    quantity: int
    price: Decimal | None  # excl. VAT; None when the price category has none

    @classmethod
    def of(cls, row: list[Any]) -> Wanted:
        code, reference, variant, _label, _unit, excl, _incl, _rate, stock = row
        # The shop counts whole units: 2.5 in our stock is 2 the shop may sell.
        quantity = int(Decimal(stock).to_integral_value(ROUND_FLOOR))
        return cls(code, reference, variant, quantity, excl)


@dataclass
class Outcome:
    code: str
    status: str
    message: str
    params: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        text = gettext(self.message, **self.params) if self.message else ""
        return {"article": self.code, "status": self.status, **self.params, "message": text}


@dataclass
class ShopSendReport:
    connector: str
    mode: str = "webservice"
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))
    articles: list[dict[str, Any]] = field(default_factory=list)  # all but the unchanged
    error: str = ""  # the send stopped: the shop's answer, translated
    key_refused: bool = False
    run_id: int | None = None
    files: list[dict[str, Any]] = field(default_factory=list)  # none: the CSV report's shape

    @property
    def ok(self) -> bool:
        return not (self.error or self.counts[REFUSED] or self.counts[NOT_FOUND])

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.status] += 1
        if outcome.status != UNCHANGED:
            self.articles.append(outcome.as_dict())

    def lines(self) -> list[str]:
        """The report as text: an article a line (but the unchanged), then the summary."""
        lines = [f"{entry['status']:<10} {entry['message']}" for entry in self.articles]
        lines.append(
            gettext(
                N_(
                    "Written: {written}, unchanged: {unchanged}, refused: {refused}, not found"
                    " in the shop: {not_found}, without correspondence: {not_mapped}."
                ),
                **self.counts,
            )
        )
        return [*lines, self.error] if self.error else lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "connector": self.connector,
            "mode": self.mode,
            "counts": self.counts,
            "articles": self.articles,
            "error": self.error,
            "run_id": self.run_id,
        }


def send_to_shop(
    store: Store, connector: Connector, key: str, rows: Iterator[list[Any]], *, origin: str
) -> ShopSendReport:
    """Write the stock and prices of `rows` (the articles `article_rows` selects) to the shop."""
    report = ShopSendReport(connector.code)
    report.run_id = history.start_run(store, JOB_NAME, origin)
    stopped: PrestaShopError | None = None
    try:
        with PrestaShopClient(connector.shop_url, key, use_ws_key=connector.use_ws_key) as client:
            _send(store, connector, client, rows, report)
    except PrestaShopError as exc:  # the key refused, or no answer after the retries
        stopped = exc
        report.error = exc.translated()
        report.key_refused = isinstance(exc, KeyRejected)
    _finish(store, report, stopped)
    return report


def _send(
    store: Store,
    connector: Connector,
    client: PrestaShopClient,
    rows: Iterator[list[Any]],
    report: ShopSendReport,
) -> None:
    wanted = []
    for row in rows:
        if row[1]:
            wanted.append(Wanted.of(row))
        else:
            report.counts["not_mapped"] += 1
    catalogue = find(
        client, (w.reference for w in wanted), (w.variant for w in wanted if w.variant)
    )
    pending: list[Outcome] = []
    try:
        for start in range(0, len(wanted), RECORD_EVERY):
            chunk = wanted[start : start + RECORD_EVERY]
            wholes = _products_to_price(client, catalogue, chunk)
            for item in chunk:
                outcome = _one(client, catalogue, item, wholes)
                report.add(outcome)
                if outcome.status != UNCHANGED:
                    pending.append(outcome)
            _record(store, connector, report, pending)
    finally:  # what was written before the shop stopped answering stays in the history
        _record(store, connector, report, pending)


def _products_to_price(
    client: PrestaShopClient, catalogue: ShopCatalogue, chunk: list[Wanted]
) -> dict[int, dict[str, Any]]:
    """The whole records of the products whose price will be PUT, a hundred a request (rather
    than a GET each)."""
    ids = set()
    for item in chunk:
        product = catalogue.product(item.reference)
        if product is not None and _price_differs(product, item):
            ids.add(int(product["id"]))
    return client.get_many("products", sorted(ids)) if ids else {}


def _one(
    client: PrestaShopClient,
    catalogue: ShopCatalogue,
    item: Wanted,
    wholes: dict[int, dict[str, Any]],
) -> Outcome:
    params: dict[str, Any] = {"article": item.code, "reference": item.reference}
    if item.variant:
        params["variant"] = item.variant
    product = catalogue.product(item.reference)
    if product is None:
        message = N_("{article}: no product with the reference {reference} in the shop.")
        return Outcome(item.code, NOT_FOUND, message, params)
    product_id, combination_id = int(product["id"]), 0
    if item.variant:
        combination = catalogue.combination(product_id, item.variant)
        if combination is None:
            message = N_("{article}: the product {reference} has no combination {variant}.")
            return Outcome(item.code, NOT_FOUND, message, params)
        combination_id = int(combination["id"])
    stock = catalogue.stock_row(product_id, combination_id)
    if stock is None:
        message = N_("{article}: the shop has no stock row for {reference}.")
        return Outcome(item.code, NOT_FOUND, message, params)
    written: list[str] = []
    try:
        if stock["quantity"] != item.quantity:
            client.put("stock_availables", int(stock["id"]), {**stock, "quantity": item.quantity})
            stock["quantity"] = item.quantity
            written.append("stock")
            params["quantity"] = item.quantity
        if _price_differs(product, item):
            assert item.price is not None
            whole = wholes.get(product_id) or client.get("products", product_id)
            client.put("products", product_id, {**whole, "price": item.price.quantize(MONEY)})
            product["price"] = item.price
            written.append("price")
            params["price"] = str(item.price)
    except (ShopUnavailable, KeyRejected):
        raise
    except NotFound as exc:
        params["detail"] = exc.translated()
        return Outcome(item.code, NOT_FOUND, N_("{article}: {detail}"), params)
    except PrestaShopError as exc:
        params["detail"] = exc.translated()
        if written:
            params["written"] = ", ".join(written)
        message = N_("{article}: refused by the shop: {detail}")
        return Outcome(item.code, REFUSED, message, params)
    return _written(item.code, written, params)


def _price_differs(product: dict[str, Any], item: Wanted) -> bool:
    if item.variant or item.price is None:
        return False
    current = product.get("price")
    return current is None or Decimal(current) != item.price


def _written(code: str, written: list[str], params: dict[str, Any]) -> Outcome:
    if not written:
        return Outcome(code, UNCHANGED, "", params)
    if written == ["stock"]:
        message = N_("{article}: stock {quantity} written to the shop.")
    elif written == ["price"]:
        message = N_("{article}: price {price} written to the shop.")
    else:
        message = N_("{article}: stock {quantity} and price {price} written to the shop.")
    return Outcome(code, WRITTEN, message, params)


def _record(
    store: Store, connector: Connector, report: ShopSendReport, pending: list[Outcome]
) -> None:
    if not pending or report.run_id is None:
        return
    exchanges = [
        records.Exchange(
            kind=KIND,
            status="sent" if outcome.status == WRITTEN else "error",
            key=outcome.code,
            message=outcome.message,
            params=outcome.params,
        )
        for outcome in pending
    ]
    with store.write() as db:
        records.record_many(db, report.run_id, JOB_NAME, connector.code, exchanges)
    pending.clear()


def _finish(store: Store, report: ShopSendReport, stopped: PrestaShopError | None) -> None:
    assert report.run_id is not None
    params: dict[str, Any] = {"connector": report.connector, **report.counts}
    if stopped is not None:
        status, message = "failed", N_("{connector}: the send stopped: {detail}")
        params["detail"] = stopped.translated()
    else:
        status = "success" if report.ok else "warning"
        message = N_(
            "{connector}: {written} written, {unchanged} unchanged, {refused} refused,"
            " {not_found} not found in the shop"
        )
    history.finish_run(store, report.run_id, status, message, params)
