"""The reception of a PrestaShop shop's orders (ECN-11, issue 15): `receive()` for a webservice
connector. The orders become the same SourceDocuments a CSV file gives and go through the same
loop (webapp/econnector/receive_documents.py): same analysis, integration, report and history.

The cursor (connector_shop_cursors) is the `date_upd` of the last order whose chunk is committed,
as the shop wrote it; it moves only once that chunk is committed, never during an analysis. An
order held back (an article without correspondence, a refusal) is kept in connector_held_orders
and asked again by id at each receive until it is integrated; the cursor goes on past it. An
order seen again (its state or date_upd moved) is never integrated twice: its doc_ref is in
connector_documents, it counts as "already there".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

from sqlite_utils import Database

from webapp.backoffice import documents
from webapp.clock import now_iso
from webapp.econnector import records
from webapp.econnector.connectors import Connector, ConnectorError, check_references, shop_key
from webapp.econnector.inbox import SourceDocument
from webapp.econnector.prestashop.client import PrestaShopClient
from webapp.econnector.prestashop.orders import (
    PAGE_SIZE,
    ShopCache,
    ShopOrder,
    changed_orders,
    complete,
    held_orders,
)
from webapp.econnector.prestashop.orders_map import to_document
from webapp.econnector.receive_documents import receive_documents
from webapp.econnector.report import Choices, ReceiveReport
from webapp.i18n import N_, UserError, current_language, translations
from webapp.secrets import Vault
from webapp.store import Store

__all__ = ["cursor_of", "held_order_ids", "receive_orders"]

log = logging.getLogger(__name__)

JOB_NAME = records.RECEIVE_JOB
SOURCE = "orders"  # the report's "file" entry for the shop's orders


def receive_orders(
    store: Store,
    connector: Connector,
    *,
    vault: Vault | None = None,
    analyse_only: bool = False,
    choices: Choices | None = None,
    progress: Callable[[int], None] | None = None,
    origin: str = "command",
    run_id: int | None = None,
    page_size: int = PAGE_SIZE,
) -> ReceiveReport:
    """Analyse (everything rolled back) or integrate the shop's new and changed orders.

    Records into `run_id` when given (a task's run), or into a run of its own, ended here. The
    shop's trouble (unreachable, key refused, timeouts) ends the receive with the error in the
    report and the history; what earlier chunks committed stays, with the cursor that covers it."""
    check_references(store, connector)
    key = _key(vault, connector)
    choices = choices or Choices()
    report = ReceiveReport(connector.code, analyse_only)
    own_run = not analyse_only and run_id is None
    if own_run:
        run_id = records.start_reception(store, connector.code, origin)
    report.run_id = None if analyse_only else run_id
    translations(current_language())  # its first reading takes ~0.2 s: not under the write lock
    # state "shop": not a file (no .csv kept, no .bak); the page words it so.
    entry: dict[str, Any] = {"name": SOURCE, "documents": 0, "state": "shop"}
    report.files.append(entry)
    try:
        with (
            documents.remembered_lookups(),
            PrestaShopClient(connector.shop_url, key, use_ws_key=connector.use_ws_key) as client,
        ):
            feed = _OrderFeed(store, connector, client, analyse_only, page_size)

            def chunk_done(total: int) -> None:
                feed.committed()
                if progress:
                    progress(total)

            receive_documents(store, connector, feed.documents(), choices, report, chunk_done)
    except UserError as exc:  # PrestaShopError: the shop's trouble, in words
        _error(store, connector, entry, exc, report.run_id)
    except Exception as exc:  # a bug must still end the run with its reason
        log.exception("connector %s: the reception of orders failed", connector.code)
        error = UserError("The import stopped on an unexpected error: {detail}", detail=str(exc))
        _error(store, connector, entry, error, report.run_id)
    finally:
        entry["documents"] = report.total
        if own_run:
            records.finish_reception(store, report)
    return report


def _key(vault: Vault | None, connector: Connector) -> str:
    if connector.mode != "webservice":
        raise ConnectorError(N_("The connector {code} exchanges CSV files."), code=connector.code)
    if vault is None or not vault.is_unlocked:
        raise ConnectorError(N_("Unlock the secrets vault before receiving from the shop."))
    key = shop_key(vault, connector.code)
    if not key:
        raise ConnectorError(N_("No PrestaShop key is stored for {code}."), code=connector.code)
    return key


class _OrderFeed:
    """The orders as documents, and what a committed chunk of them moves: cursor, held list."""

    def __init__(
        self,
        store: Store,
        connector: Connector,
        client: PrestaShopClient,
        analyse_only: bool,
        page_size: int,
    ) -> None:
        self.store, self.connector, self.client = store, connector, client
        self.analyse_only, self.page_size = analyse_only, page_size
        self.cache = ShopCache()
        self.given: list[ShopOrder] = []  # handed to the loop, their chunk not committed yet
        assert connector.id is not None
        self.connector_id: int = connector.id

    def documents(self) -> Iterator[SourceDocument]:
        states = [int(part) for part in self.connector.order_states.split(",") if part]
        cursor = cursor_of(self.store, self.connector)
        held, gone = held_orders(self.client, held_order_ids(self.store, self.connector), states)
        if gone and not self.analyse_only:
            self._forget(gone)
        pages = chain(
            [held] if held else [], changed_orders(self.client, cursor, states, self.page_size)
        )
        seen: set[int] = set()
        for page in pages:
            page = [order for order in page if order.id not in seen]
            seen.update(order.id for order in page)
            complete(self.client, self.cache, page)
            known = self._integrated([order.doc_ref for order in page if order.date_upd == cursor])
            for order in page:
                self.given.append(order)
                if not order.held and order.date_upd == cursor and order.doc_ref in known:
                    continue  # the cursor's own second, asked again: integrated before
                yield to_document(order, self.cache, self.connector)

    def committed(self) -> None:
        """The chunk of the orders given so far is committed: move the cursor past them and
        keep the ones held back (an analysis moves nothing)."""
        if self.analyse_only:
            self.given = []  # an analysis moves nothing and keeps nothing
            return
        if not self.given:
            return
        given, self.given = self.given, []
        with self.store.write() as db:
            integrated = _integrated(db, self.connector_id, [order.doc_ref for order in given])
            for order in given:
                if order.doc_ref in integrated:
                    db.execute(
                        "DELETE FROM connector_held_orders WHERE connector_id = ? AND order_id = ?",
                        [self.connector_id, order.id],
                    )
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO connector_held_orders"
                        " (connector_id, order_id, doc_ref, held_at) VALUES (?, ?, ?, ?)",
                        [self.connector_id, order.id, order.doc_ref, now_iso()],
                    )
            dates = [order.date_upd for order in given if not order.held and order.date_upd]
            if dates:
                # Only forward: the shop's text compares as its dates do (YYYY-MM-DD HH:MM:SS).
                db.execute(
                    "INSERT INTO connector_shop_cursors (connector_id, order_date_upd, updated_at)"
                    " VALUES (?, ?, ?) ON CONFLICT (connector_id) DO UPDATE SET"
                    " order_date_upd = max(order_date_upd, excluded.order_date_upd),"
                    " updated_at = excluded.updated_at",
                    [self.connector_id, max(dates), now_iso()],
                )

    def _integrated(self, doc_refs: list[str]) -> set[str]:
        if not doc_refs:
            return set()
        with self.store.read() as db:
            return _integrated(db, self.connector_id, doc_refs)

    def _forget(self, order_ids: list[int]) -> None:
        with self.store.write() as db:
            for order_id in order_ids:
                db.execute(
                    "DELETE FROM connector_held_orders WHERE connector_id = ? AND order_id = ?",
                    [self.connector_id, order_id],
                )


def _integrated(db: Database, connector_id: int, doc_refs: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(doc_refs), 500):
        part = doc_refs[start : start + 500]
        marks = ", ".join("?" for _ in part)
        found.update(
            row[0]
            for row in db.execute(
                "SELECT doc_ref FROM connector_documents WHERE connector_id = ?"
                f" AND doc_ref IN ({marks})",
                [connector_id, *part],
            )
        )
    return found


def cursor_of(store: Store, connector: Connector) -> str | None:
    """The shop's `date_upd` of the last committed order, or None before the first receive."""
    with store.read() as db:
        row = db.execute(
            "SELECT order_date_upd FROM connector_shop_cursors WHERE connector_id = ?",
            [connector.id],
        ).fetchone()
    return None if row is None else str(row[0])


def held_order_ids(store: Store, connector: Connector) -> list[int]:
    with store.read() as db:
        return [
            int(row[0])
            for row in db.execute(
                "SELECT order_id FROM connector_held_orders WHERE connector_id = ?"
                " ORDER BY order_id",
                [connector.id],
            )
        ]


def _error(
    store: Store,
    connector: Connector,
    entry: dict[str, Any],
    error: UserError,
    run_id: int | None,
) -> None:
    entry["error"] = error.translated()
    log.warning("connector %s: receiving orders stopped: %s", connector.code, error.translated())
    records.record_source_error(store, connector, SOURCE, error, run_id)
