"""At the office, the tickets the registers sent are in the back office's Documents list, typed
"Ticket" with their register and number; after a real sync with the office's POS listener."""

from __future__ import annotations

import re

from tests.conftest import Client
from tests.pos_fixtures import sync
from webapp.pos import selling
from webapp.services import Services


def ticket_row(page_html: str, number: str) -> str:
    row = re.search(rf'<tr data-number="{number}">.*?</tr>', page_html, re.S)
    assert row, f"no row for {number}"
    return row.group(0)


def test_tickets_from_a_register_are_documents_typed_ticket(
    joined: Services, office_services: Services, office_ui: Client
) -> None:
    sync(joined)
    for code in ("VR1", "VB1"):
        selling.record_ticket(
            joined.store,
            {"lines": [{"article": code, "quantity": "1"}], "payments": [{"method": "CARD"}]},
            selling.signer_for(joined.store, joined.vault),
        )
    assert sync(joined).pushed.sent == 2 + 1  # the tickets (each with its signed row), the key

    listing = office_ui.get("/documents", params={"kind": "ticket"}).text
    assert 'option value="ticket" selected' in listing  # the filter offers "Ticket"
    first = ticket_row(listing, "C3-000001")
    assert ticket_row(listing, "C3-000002")
    assert "Ticket" in first  # the same word in French and English
    # Its register and number in words, not the record's id nor the source's code.
    origin = re.search(r'data-origin="register">([^<]+)<', first)
    assert origin and "3" in origin.group(1) and "C3-000001" in origin.group(1)
    assert "pos:3" not in first and "R3-" not in first
    document = re.search(r'href="/documents/(\d+)"', first)
    assert document
    detail = office_ui.get(f"/documents/{document.group(1)}")
    assert detail.status_code == 200 and "Ticket" in detail.text
    assert "Carte bancaire" in detail.text


def test_the_kind_filter_keeps_tickets_apart_and_refuses_nothing_it_does_not_know(
    joined: Services, office_ui: Client
) -> None:
    sync(joined)
    selling.record_ticket(
        joined.store,
        {"lines": [{"article": "VR1", "quantity": "2"}]},
        selling.signer_for(joined.store, joined.vault),
    )
    sync(joined)
    orders = office_ui.get("/documents", params={"kind": "order"}).text
    assert 'data-number="C3-000001"' not in orders
    every = office_ui.get("/documents").text
    assert 'data-number="C3-000001"' in every
    unknown = office_ui.get("/documents", params={"kind": "<script>"})
    assert unknown.status_code == 200 and "<script>" not in unknown.text
