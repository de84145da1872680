"""The reception of a PrestaShop shop's orders (issue 15), continued: payments and VAT of the
lines, held orders that leave the chosen states, and a kill -9 in the middle of a receive."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.conftest import REPO, relais_env
from tests.test_prestashop_receive import (
    PASSPHRASE,
    count,
    integrated,
    orders_in_states,
    presta,
    run,
    sim,
)
from webapp.config import DataDir
from webapp.econnector import connectors
from webapp.econnector.connectors import Connector
from webapp.econnector.prestashop.receive import cursor_of, held_order_ids
from webapp.services import Services
from webapp.simulators.prestashop import Line, PrestaShopSimulator

__all__ = ["presta", "sim"]  # the fixtures, shared


def test_payments_and_the_vat_of_each_line(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    presta = connectors.save(
        services.store, connectors.replace(presta, generate_payment=True), code="PRESTA"
    )
    ids = sim.demo_ids
    sim.add_order(
        ids["customer_petit"],
        [Line(ids["JUS-RAISIN"], 2), Line(ids["PN22"], 1)],
        shipping_incl="9.90",
        reference="PAIDORDER",
    )
    report = run(services, presta)
    assert report.count("not_integrated") == 0, [d.reasons for d in report.documents]
    with services.store.read() as db:
        document_id, total = db.execute(
            "SELECT d.id, d.total_incl_vat FROM documents d JOIN connector_documents c"
            " ON c.document_id = d.id WHERE c.doc_ref = 'PAIDORDER'"
        ).fetchone()
        paid = db.execute(
            "SELECT m.code, p.amount FROM document_payments p"
            " JOIN payment_methods m ON m.id = p.payment_method_id WHERE p.document_id = ?",
            [document_id],
        ).fetchall()
        rates = db.execute(
            "SELECT vat_rate FROM document_lines WHERE document_id = ? ORDER BY line_no",
            [document_id],
        ).fetchall()
    assert [tuple(row) for row in paid] == [("TRANSFER", total)]  # ps_wirepayment
    assert [row[0] for row in rates] == [5.5, 20.0, 20.0]  # juice, wine, shipping


def test_a_held_order_that_leaves_the_chosen_states_is_forgotten(
    services: Services, presta: Connector, sim: PrestaShopSimulator
) -> None:
    product = sim.add_product("MARC-BOURG", "Marc de Bourgogne", "30.000000", quantity=5)
    held = sim.add_order(sim.demo_ids["customer_petit"], [Line(product, 1)], reference="HELDBACKK")
    run(services, presta)
    assert held_order_ids(services.store, presta) == [held]
    sim.set_order_state(held, 6)  # cancelled in the shop
    report = run(services, presta)
    assert report.total == 0 and held_order_ids(services.store, presta) == []


CHILD = """
import sys, time
from webapp.config import resolve_data_dir
from webapp.econnector import batch, connectors
from webapp.econnector.prestashop.receive import receive_orders
from webapp.services import open_services

batch.CHUNK_DOCUMENTS = 1
services = open_services(resolve_data_dir(sys.argv[1]))
services.vault.unlock(sys.argv[2])
connector = connectors.get(services.store, "PRESTA")

def chunk_done(total):
    print("chunk", total, flush=True)

receive_orders(services.store, connector, vault=services.vault, progress=chunk_done, page_size=2)
print("done", flush=True)
"""


@pytest.mark.slow  # the child unlocks the vault at the production scrypt cost
def test_a_kill_9_in_the_middle_of_a_receive_loses_and_doubles_nothing(
    services: Services, presta: Connector, sim: PrestaShopSimulator, data_dir: DataDir
) -> None:
    ids = sim.demo_ids
    for number in range(20):
        sim.add_order(ids["customer_petit"], [Line(ids["PN22"], 1 + number % 3)])
    wanted = orders_in_states(sim)
    sim.delay_next(1000, 0.05, path_contains="orders")  # every page a little slow
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir.path), PASSPHRASE],
        cwd=REPO,
        env=relais_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    seen: list[str] = []
    for text in child.stdout:
        seen.append(text)
        if len(seen) == 5:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert not any(text.startswith("done") for text in seen)
    stopped_at = count(services, "connector_documents")
    assert 5 <= stopped_at < len(wanted)
    assert cursor_of(services.store, presta) is not None
    report = run(services, presta)
    assert report.count("not_integrated") == 0
    assert {ref: item["total"] for ref, item in integrated(services).items()} == wanted
    assert count(services, "connector_documents") == len(wanted)
    assert all(total > Decimal(0) for total in wanted.values())


def test_the_ws_key_fallback_for_a_host_that_strips_the_header(
    services: Services, presta: Connector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # quietened by any server started before
    with PrestaShopSimulator(strip_authorization=True) as stripping:
        stripping.populate_demo(orders=6)
        assert stripping.url is not None
        connector = connectors.save(
            services.store,
            connectors.replace(presta, shop_url=stripping.url, use_ws_key=True),
            code="PRESTA",
            vault=services.vault,
            key=stripping.api_key,
        )
        report = run(services, connector)
        assert report.count("integrated") == len(orders_in_states(stripping))
        assert {request.auth for request in stripping.requests} == {"ws_key"}
        assert stripping.api_key not in caplog.text
