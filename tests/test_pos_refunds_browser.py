"""A refund and a void in a real Chromium (issue 17): on the register's tickets page,
"Rembourser" asks for confirmation, then the refund ticket is listed, below zero, without a button
of its own; "Annuler le ticket" is offered only on a sale nothing was given back from.

The register is `relais serve --role register` in a child process, joined to a real office
listener on 127.0.0.1 (tests/pos_fixtures.py)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from tests.pos_fixtures import PASSPHRASE, Listener, fast_client, wait_for_articles
from webapp.config import resolve_data_dir
from webapp.pos import register_config, selling, synchroniser
from webapp.services import Services, open_services


def test_refund_and_void_from_the_tickets_page(
    tmp_path: Path,
    browser: Any,
    relais_server: Any,
    office_services: Services,
    office_listener: Listener,
    tokens: dict[int, str],
) -> None:
    from playwright.sync_api import expect

    from tests.browser_fixtures import CSP_LISTENER, WAIT_MS, Console

    folder = tmp_path / "till"
    till = open_services(resolve_data_dir(folder), vault_backend="file")
    till.vault.create(PASSPHRASE)
    register_config.join(till.store, till.vault, office_listener.url, 3, tokens[3], fast_client)
    synchroniser.sync_once(till.store, till.vault, fast_client)
    signer = selling.signer_for(till.store, till.vault)
    selling.record_ticket(till.store, {"lines": [{"article": "VR1", "quantity": "2"}]}, signer)
    selling.record_ticket(till.store, {"lines": [{"article": "VB1"}]}, signer)
    till.close()
    server = relais_server(
        "--role", "register", data_dir=folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE
    )
    wait_for_articles(resolve_data_dir(folder).database)
    context = browser.new_context(locale="fr-BE")
    context.add_init_script(CSP_LISTENER)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    console = Console(page)
    try:
        page.goto(server.url + "/pos/tickets")
        page.locator("button[data-refund='C3-000001']").click()
        expect(page.locator("#refund-confirm")).to_contain_text("C3-000001")
        page.locator("button[data-confirm-refund='C3-000001']").click()
        expect(page.locator("tr[data-ticket='C3-000003']")).to_be_visible()
        given_back = page.locator("tr[data-ticket='C3-000003'] td.num")
        expect(given_back).to_have_text(re.compile(r"^\s*[-\u2212]\s?\d"))
        expect(page.locator("button[data-refund='C3-000003']")).to_have_count(0)
        # Ticket 1 was refunded: only ticket 2 may still be voided, after a confirmation.
        expect(page.locator("button[data-void='C3-000001']")).to_have_count(0)
        page.locator("button[data-void='C3-000002']").click()
        expect(page.locator("#void-confirm")).to_contain_text("C3-000002")
        page.locator("button[data-confirm-void='C3-000002']").click()
        expect(page.locator("tr[data-ticket='C3-000004']")).to_have_attribute("data-kind", "void")
        expect(page.locator("tr[data-ticket='C3-000004']")).to_contain_text("annulation")
        expect(page.locator("button[data-void]")).to_have_count(0)
        console.assert_clean()
    finally:
        context.close()
    with sqlite3.connect(resolve_data_dir(folder).database) as db:
        signed = db.execute(
            "SELECT kind, ref FROM pos_trail WHERE chain = 'ticket' ORDER BY seq"
        ).fetchall()
    assert signed == [
        ("sale", "C3-000001"),
        ("sale", "C3-000002"),
        ("refund", "C3-000003"),
        ("void", "C3-000004"),
    ]
