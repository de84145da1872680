"""Tickets signed as they are recorded, counted reprints, a locked vault refusing the sale (issue 17).

In process, with a real office listener and a joined register (the fixtures of test_pos_register);
the command line and tamper tests with real processes are in test_pos_trail_tamper.py."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from tests.conftest import Client
from tests.pos_fixtures import PASSPHRASE, Listener, post_pairs, rows, sync
from webapp.app import create_app
from webapp.pos import reprints, selling, trail, trail_keys, trail_verify
from webapp.services import Services

VR1 = {"lines": [{"article": "VR1", "quantity": "2"}]}


def counts(services: Services) -> tuple[int, int, int]:
    """Tickets, their outbox records and their signed rows (JET events may come and go)."""
    found = rows(
        services.store,
        "SELECT (SELECT count(*) FROM pos_tickets) AS t, (SELECT count(*) FROM MICPTRACK WHERE kind = 'ticket')"
        " AS m, (SELECT count(*) FROM pos_trail WHERE chain = 'ticket') AS s",
    )[0]
    return found["t"], found["m"], found["s"]


def own_keys(services: Services) -> dict[str, str]:
    signer = trail_keys.load_signer(services.vault)
    return {signer.key_id: signer.public_key}


def test_each_ticket_is_signed_in_its_transaction(joined: Services) -> None:
    sync(joined)
    signer = selling.signer_for(joined.store, joined.vault)
    first = selling.record_ticket(joined.store, VR1, signer)
    second = selling.record_ticket(joined.store, VR1, signer)
    trail_rows = rows(joined.store, "SELECT chain, seq, kind, ref, fields FROM pos_trail")
    assert [(r["chain"], r["seq"], r["kind"], r["ref"]) for r in trail_rows] == [
        ("ticket", 1, "sale", first.number),
        ("ticket", 2, "sale", second.number),
    ]
    total = first.total
    assert json.loads(trail_rows[1]["fields"])["grand_totals"]["sales"] == trail.money(
        2 * Decimal(total)
    )
    with joined.store.read() as db:
        assert trail_verify.verify_register(db, 3, own_keys(joined)) == []
    # The public half is kept in the settings: checking needs no passphrase.
    stored = rows(joined.store, "SELECT value FROM settings WHERE key = 'pos.trail_public_key'")
    assert json.loads(stored[0]["value"]) == signer.public_key


def test_a_locked_vault_refuses_the_sale_and_writes_nothing(joined: Services) -> None:
    sync(joined)
    selling.signer_for(joined.store, joined.vault)  # cached…
    before = counts(joined)
    joined.vault.lock()  # …and dropped as soon as the vault is found locked
    with pytest.raises(trail_keys.TrailKeyError):
        selling.signer_for(joined.store, joined.vault)
    assert counts(joined) == before


def test_the_sales_screen_and_the_api_refuse_with_a_locked_vault(
    ui: Client,
    joined: Services,
) -> None:
    before = counts(joined)
    joined.vault.lock()
    page_html = ui.get("/pos/sell").text
    assert 'id="sell-vault"' in page_html and "/settings/vault/unlock" in page_html
    refused = post_pairs(ui, "/pos/sell/checkout", [("code", "VR1"), ("qty", "1")])
    assert refused.status_code == 422
    assert 'id="sell-error"' in refused.text
    assert 'hx-swap-oob="true"' in refused.text and "/settings/vault/unlock" in refused.text
    listener = Listener(lambda port: create_app(joined, host="127.0.0.1", port=port))
    try:
        api = httpx.post(listener.url + "/api/pos/v1/local/tickets", json=VR1, timeout=30)
    finally:
        listener.stop()
    assert api.status_code == 409 and api.json()["ok"] is False
    assert counts(joined) == before
    joined.vault.unlock(PASSPHRASE)
    sold = post_pairs(ui, "/pos/sell/checkout", [("code", "VR1"), ("qty", "1")])
    assert sold.status_code == 200 and 'id="sell-saved"' in sold.text
    assert counts(joined) == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_prints_the_original_then_counted_duplicates(ui: Client, joined: Services) -> None:
    signer = selling.signer_for(joined.store, joined.vault)
    number = selling.record_ticket(joined.store, VR1, signer).number
    tickets = ui.get("/pos/tickets").text
    assert f'action="/pos/tickets/{number}/print"' in tickets
    original = post_pairs(ui, f"/pos/tickets/{number}/print", [])
    assert original.status_code == 200
    assert 'data-copy="0"' in original.text and 'id="ticket-duplicate"' not in original.text
    for count in (1, 2):
        again = post_pairs(ui, f"/pos/tickets/{number}/print", [("user", "MARIE")])
        assert again.status_code == 200
        assert f'data-copy="{count}"' in again.text and "DUPLICA" in again.text
    printed = rows(joined.store, "SELECT kind, ref, fields FROM pos_trail WHERE chain='duplicate'")
    assert [(r["kind"], json.loads(r["fields"])["reprint"]) for r in printed] == [
        ("original", 0),
        ("duplicate", 1),
        ("duplicate", 2),
    ]
    assert json.loads(printed[2]["fields"])["user"] == "MARIE"
    with joined.store.read() as db:
        assert trail_verify.verify_register(db, 3, own_keys(joined)) == []


def test_a_bad_print_request_is_refused_and_records_nothing(ui: Client, joined: Services) -> None:
    signer = selling.signer_for(joined.store, joined.vault)
    number = selling.record_ticket(joined.store, VR1, signer).number
    unknown = post_pairs(ui, "/pos/tickets/C3-999999/print", [])
    assert unknown.status_code == 404 and 'id="print-error"' in unknown.text
    stranger = post_pairs(ui, f"/pos/tickets/{number}/print", [("user", "NOBODY")])
    assert stranger.status_code == 404
    assert ui.get(f"/pos/tickets/{number}/print").status_code == 405  # a GET never counts a print
    no_csrf = ui.post(f"/pos/tickets/{number}/print", data={})
    assert no_csrf.status_code == 403
    joined.vault.lock()
    locked = post_pairs(ui, f"/pos/tickets/{number}/print", [])
    assert locked.status_code == 409 and "/settings/vault/unlock" in locked.text
    assert rows(joined.store, "SELECT count(*) AS n FROM pos_trail WHERE chain='duplicate'") == [
        {"n": 0}
    ]
    joined.vault.unlock(PASSPHRASE)
    with pytest.raises(reprints.ReprintError):
        reprints.print_ticket(joined.store, signer, "nope")


def test_a_change_of_seller_logs_one_out_and_the_next_in(joined: Services) -> None:
    """The register has no seller login: the seller named on a ticket stands for it (JET 910/911),
    in the ticket's own transaction."""
    sync(joined)
    signer = selling.signer_for(joined.store, joined.vault)
    for user in ("MARIE", "MARIE", "JEAN"):
        selling.record_ticket(joined.store, {**VR1, "user": user}, signer)
    events = rows(
        joined.store, "SELECT kind, fields FROM pos_trail WHERE chain = 'event' ORDER BY seq"
    )
    seen = [(row["kind"], json.loads(row["fields"])["user"]) for row in events]
    assert seen == [("910", "MARIE"), ("911", "MARIE"), ("910", "JEAN")]
    with joined.store.read() as db:
        assert trail_verify.verify_register(db, 3, own_keys(joined)) == []
