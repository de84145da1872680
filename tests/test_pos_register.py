"""The register side of the cash registers (POS-1, POS-3 to POS-6), against the real office.

The office is the real one: `relais serve --pos-listen` in a child process for the command-line
flow, and the same ASGI app (webapp.pos.api.PosApp) on a real 127.0.0.1 socket in this process for
the finer cases (down then back, poisoned records, replays, updates).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Client, relais
from tests.pos_fixtures import (
    NOW,
    PASSPHRASE,
    Listener,
    dump,
    fast_client,
    office_tickets,
    post_pairs,
    rows,
    seed_office,
    sync,
    wait_for_articles,
)
from webapp import history_queries
from webapp.app import create_app
from webapp.config import resolve_data_dir
from webapp.pos import (
    mirror,
    office,
    office_packages,
    office_records,
    outbox,
    package_import,
    packages,
    protocol,
    register,
    register_config,
    register_lists,
    register_status,
    selling,
    synchroniser,
    updates_office,
    updates_register,
)
from webapp.pos.register_client import OfficeRefused, OfficeUnreachable
from webapp.services import Services, open_services
from webapp.sockets import bind_socket
from webapp.store import Store

# -- join, first import, differential import -----------------------------------------------------


def test_join_refused_and_unreachable(
    register_services: Services, office_listener: Listener, tokens: dict[int, str]
) -> None:
    store, vault = register_services.store, register_services.vault
    with pytest.raises(OfficeRefused):
        register_config.join(store, vault, office_listener.url, 3, "not-the-token", fast_client)
    with pytest.raises(register_config.RegisterError):
        register_config.join(store, vault, office_listener.url, 3, tokens[4], fast_client)
    office_listener.stop()
    with pytest.raises(OfficeUnreachable):
        register_config.join(store, vault, office_listener.url, 3, tokens[3], fast_client)
    assert register_config.load_config(store) is None
    assert vault.get(register_config.TOKEN_SECRET) is None


def test_first_full_import_then_differential(joined: Services, office_services: Services) -> None:
    store = joined.store
    assert register_config.role(store) == "register"
    config = register_config.require_config(store)
    assert config.update_key == updates_office.public_key(office_services.store)

    result = sync(joined)
    assert result.imported.applied == [1]
    codes = [row["code"] for row in rows(store, "SELECT code FROM articles ORDER BY code")]
    assert codes == ["FRO", "VB1", "VR1"]
    price = rows(
        store,
        "SELECT p.price_excl_vat FROM article_prices p JOIN articles a ON a.id = p.article_id"
        " WHERE a.code = 'VR1'",
    )
    assert price == [{"price_excl_vat": 12.0833}]
    assert [u["code"] for u in register_lists.list_users(store)] == ["JEAN", "MARIE"]
    assert rows(store, "SELECT code, city FROM parties WHERE kind = 'customer'") == [
        {"code": "C001", "city": "Lyon"}
    ]
    applied = rows(store, "SELECT number, full, acked_at FROM pos_packages_applied")
    assert applied[0]["full"] == 1 and applied[0]["acked_at"]

    # Edits and deletions on the office, then a differential package.
    office_store = office_services.store
    with office_store.write() as db:
        db.execute("UPDATE articles SET label = 'Vin rouge Réserve' WHERE code = 'VR1'")
        db.execute("DELETE FROM articles WHERE code = 'VB1'")
        db.execute(
            "INSERT INTO vat_rates (code, label, rate, country) VALUES ('FR8', 'TVA 8', 8, 'FR')"
        )
        db.execute(
            "INSERT INTO articles (code, label, unit_id, vat_rate_id, created_at, updated_at)"
            " VALUES ('NEW', 'Nouveau', (SELECT id FROM units WHERE code = 'U'),"
            " (SELECT id FROM vat_rates WHERE code = 'FR8'), ?, ?)",
            [NOW, NOW],
        )
        db.execute(
            "DELETE FROM pos_user_registers WHERE user_id ="
            " (SELECT id FROM pos_users WHERE code = 'JEAN') AND register_id ="
            " (SELECT id FROM pos_registers WHERE number = 3)"
        )
        db.execute("UPDATE parties SET city = 'Lille' WHERE code = 'C001'")
    packages.build_all(office_store)
    result = sync(joined)
    assert result.imported.applied == [2]
    package = office_packages.package_json(office_store, office.get_register(office_store, 3), 2)  # type: ignore[arg-type]
    assert package is not None and package["full"] is False
    articles = rows(store, "SELECT code, label, vat_rate_id FROM articles ORDER BY code")
    assert [a["code"] for a in articles] == ["FRO", "NEW", "VR1"]
    assert articles[2]["label"] == "Vin rouge Réserve"
    assert rows(store, "SELECT rate FROM vat_rates WHERE code = 'FR8'") == [{"rate": 8.0}]
    assert [u["code"] for u in register_lists.list_users(store)] == ["MARIE"]
    assert rows(store, "SELECT city FROM parties WHERE code = 'C001'") == [{"city": "Lille"}]
    assert rows(store, "SELECT count(*) AS n FROM change_log") == [{"n": 0}]


def test_a_package_that_does_not_fit_is_rolled_back_and_reported(
    joined: Services, office_services: Services
) -> None:
    import zlib

    sync(joined)
    office_store = office_services.store
    reg = office.get_register(office_store, 3)
    assert reg is not None
    body = {
        "protocol": 1,
        "register": 3,
        "number": 2,
        "full": False,
        "from_seq": 0,
        "to_seq": 0,
        "upserts": {
            "articles": [{"label": "no code"}],
            "payment_methods": [{"code": "GIFT", "label": "Bon", "is_cash": False, "active": True}],
        },
        "deletes": {},
    }
    raw = json.dumps(body).encode()
    with office_store.write() as db:
        db.execute(
            "INSERT INTO pos_packages (register_id, number, full, from_seq, to_seq, body, size,"
            " sha256, created_at) VALUES (?, 2, 0, 0, 0, ?, ?, ?, ?)",
            [reg.id, zlib.compress(raw), len(raw), protocol.sha256(raw), NOW],
        )
    with pytest.raises(package_import.PackageRefused):
        sync(joined)
    assert package_import.last_applied(joined.store) == 1
    assert not rows(joined.store, "SELECT 1 FROM payment_methods WHERE code = 'GIFT'")
    error = register_status.status(joined.store)["last_error"]
    assert error is not None and "2" in error["message"]


def test_applying_a_package_twice_changes_nothing(
    joined: Services, office_services: Services
) -> None:
    sync(joined)
    store = joined.store
    office_store = office_services.store
    package = office_packages.package_json(office_store, office.get_register(office_store, 3), 1)  # type: ignore[arg-type]
    assert package is not None
    before = dump(store)
    with store.write() as db:  # the rows again, as a second delivery of the same package would
        mirror.apply_rows(db, package, 3)
    assert dump(store) == before
    assert mirror.apply_package(store, package, 3) is False  # already recorded: skipped
    again = dict(package, number=99)
    assert mirror.apply_package(store, again, 3) is True
    assert dump(store) == before


def test_user_filtering_keeps_only_this_registers_users(register_services: Services) -> None:
    store = register_services.store
    with store.write() as db:
        db.execute("INSERT INTO pos_users (code, name) VALUES ('OLD', 'Ancien')")
    package = {
        "protocol": 1,
        "register": 3,
        "number": 1,
        "full": False,
        "from_seq": 0,
        "to_seq": 5,
        "upserts": {
            "users": [
                {"code": "A", "name": "A", "active": True, "registers": [3]},
                {"code": "B", "name": "B", "active": True, "registers": [4, 5]},
                {"code": "C", "name": "C", "active": True, "registers": [5, 3]},
            ],
            "registers": [
                {"number": 5, "label": "Caisse 5", "ticket_prefix": "Z5-", "active": True}
            ],
        },
        "deletes": {},
    }
    assert mirror.apply_package(store, package, 3)
    assert [u["code"] for u in register_lists.list_users(store)] == ["A", "C"]
    assert rows(store, "SELECT number, ticket_prefix FROM pos_registers ORDER BY number") == [
        {"number": 3, "ticket_prefix": "C3-"},
        {"number": 4, "ticket_prefix": "C4-"},  # named by a user, missing here: made
        {"number": 5, "ticket_prefix": "Z5-"},
    ]


# -- outbox: offline, poisoned, replayed ----------------------------------------------------------


def test_tickets_sold_offline_are_pushed_once_when_the_office_is_back(
    joined: Services, office_services: Services, office_listener: Listener
) -> None:
    sync(joined)
    office_listener.stop()
    sold = [
        selling.record_ticket(
            joined.store,
            {"lines": [{"article": "VR1", "quantity": str(n)}], "user": "MARIE"},
            selling.signer_for(joined.store, joined.vault),
        )
        for n in (1, 2, 3)
    ]
    assert [t.number for t in sold] == ["C3-000001", "C3-000002", "C3-000003"]
    assert sold[1].total == "29.00"
    with pytest.raises(OfficeUnreachable):
        sync(joined)
    assert {row["state"] for row in register_lists.list_tickets(joined.store)} == {"queued"}

    office_listener.start()
    result = sync(joined)
    # The tickets (each with its signed row), the register's key, and MARIE's login (JET 910).
    assert result.pushed.sent == 3 + 1 + 1
    assert sync(joined).pushed.sent == 0
    got = office_tickets(office_services.store)
    assert [row["number"] for row in got] == ["C3-000001", "C3-000002", "C3-000003"]
    assert [row["external_ref"] for row in got] == [t.id for t in sold]
    assert [row["total_incl_vat"] for row in got] == [14.5, 29.0, 43.5]
    assert {row["state"] for row in register_lists.list_tickets(joined.store)} == {"sent"}


def test_a_rejected_record_is_set_aside_and_does_not_block(
    joined: Services, office_services: Services
) -> None:
    sync(joined)
    store = joined.store
    first = selling.record_ticket(
        store,
        {"lines": [{"article": "VR1", "quantity": "1"}]},
        selling.signer_for(store, joined.vault),
    )
    with store.write() as db:  # a poisoned record: an article the office has never heard of
        poisoned = outbox.enqueue(
            db,
            3,
            "ticket",
            {
                "number": "C3-999999",
                "sold_at": NOW,
                "lines": [
                    {
                        "article": "NOPE",
                        "quantity": "1",
                        "unit_price_incl_vat": "1.00",
                        "vat_rate": "20",
                    }
                ],
                "payments": [],
                "total_incl_vat": "1.00",
            },
        )
    last = selling.record_ticket(
        store,
        {"lines": [{"article": "VB1", "quantity": "2"}]},
        selling.signer_for(store, joined.vault),
    )
    customer = selling.record_customer(
        store, {"code": "C900", "last_name": "Martin", "city": "Nice"}
    )
    setting = selling.record_register_setting(store, "label", "Caisse du comptoir")

    result = sync(joined)
    assert result.pushed.sent == 4 + 1  # and the register's key
    assert [r["id"] for r in result.pushed.rejected] == [poisoned]
    assert "NOPE" in result.pushed.rejected[0]["reason"]
    records = "SELECT id, state FROM MICPTRACK WHERE kind NOT IN ('trail', 'trail_key')"
    states = {row["id"]: row["state"] for row in rows(store, records)}
    assert states == {
        first.id: "sent",
        poisoned: "rejected",
        last.id: "sent",
        customer: "sent",
        setting: "sent",
    }
    assert [row["number"] for row in office_tickets(office_services.store)] == [
        "C3-000001",
        "C3-000002",
    ]
    assert rows(office_services.store, "SELECT city FROM parties WHERE code = 'C900'") == [
        {"city": "Nice"}
    ]
    assert office_records.register_settings(office_services.store, 3) == {
        "label": "Caisse du comptoir"
    }
    # The rejected record stays aside: the next round sends nothing and reports nothing new.
    again = sync(joined)
    assert again.pushed.sent == 0 and again.pushed.rejected == []

    found = history_queries.query_items(
        store, history_queries.ItemFilter(job_name="import_caisseauto"), 1, 10
    )
    assert [(i["status"], i["reference"]) for i in found.items] == [
        ("error", poisoned),
        ("received", "1"),
    ]
    status = register_status.status(store)
    assert status["queued"] == 0 and [r["id"] for r in status["rejected"]] == [poisoned]


def test_a_replayed_batch_creates_nothing_twice(
    joined: Services,
    office_services: Services,
    office_listener: Listener,
    tokens: dict[int, str],
) -> None:
    sync(joined)
    store = joined.store
    for quantity in ("1", "2"):
        selling.record_ticket(
            store,
            {"lines": [{"article": "VR1", "quantity": quantity}]},
            selling.signer_for(store, joined.vault),
        )
    batch = [outbox.wire_record(row, 3) for row in outbox.queued(store, 10)]
    with fast_client(office_listener.url, tokens[3]) as client:
        # The office applied it, but the answer was lost on the way: the records stay queued.
        # The two tickets (each with its signed row) and the register's key.
        assert [r["status"] for r in client.push(batch)] == ["applied"] * 3
        assert outbox.queued(store, 10)
        result = outbox.push_outbox(store, client, 3)
        assert result.sent == 3
        assert [r["status"] for r in client.push(batch)] == ["already_applied"] * 3
    assert len(office_tickets(office_services.store)) == 2


def test_push_in_small_batches_keeps_the_order(joined: Services, office_services: Services) -> None:
    sync(joined)
    for _ in range(7):
        selling.record_ticket(
            joined.store,
            {"lines": [{"article": "FRO", "quantity": "0.25"}]},
            selling.signer_for(joined.store, joined.vault),
        )
    with register_config.open_client(joined.store, joined.vault, fast_client) as client:
        result = outbox.push_outbox(joined.store, client, 3, batch_size=3)
    # The key, then each ticket with its signed row: 8 records in batches of 3.
    assert (result.sent, result.batches) == (8, 3)
    numbers = [row["number"] for row in office_tickets(office_services.store)]
    assert numbers == [f"C3-{n:06d}" for n in range(1, 8)]


def test_synchroniser_backoff_grows_with_jitter_and_resets(register_services: Services) -> None:
    import random

    sync_thread = synchroniser.Synchroniser(
        register_services.store, register_services.vault, interval=30, rng=random.Random(1)
    )
    delays = [sync_thread.next_delay(False) for _ in range(8)]
    assert all(15 <= d <= 30 for d in delays[:1])
    assert delays[3] >= 120 and max(delays) <= synchroniser.BACKOFF_CAP
    assert sync_thread.next_delay(True) == 30 and sync_thread.failures == 0


def test_synchroniser_thread_pushes_in_the_background(
    joined: Services, office_services: Services
) -> None:
    stop = register.start_synchroniser(joined, interval=0.2)
    try:
        deadline = time.monotonic() + 20
        while not rows(joined.store, "SELECT 1 FROM articles WHERE code = 'VR1'"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        ticket = selling.record_ticket(
            joined.store,
            {"lines": [{"article": "VR1", "quantity": "1"}]},
            selling.signer_for(joined.store, joined.vault),
        )
        while not office_tickets(office_services.store):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        stop()
    assert office_tickets(office_services.store)[0]["external_ref"] == ticket.id


# -- selling ------------------------------------------------------------------------------------


def test_ticket_validation(joined: Services) -> None:
    sync(joined)
    store = joined.store
    bad: list[dict[str, Any]] = [
        {"lines": []},
        {"lines": [{"article": "NOPE", "quantity": "1"}]},
        {"lines": [{"article": "VR1", "quantity": "0"}]},
        {"lines": [{"article": "VR1", "quantity": "1.5"}]},  # bottles: whole units only
        {
            "lines": [{"article": "VR1", "quantity": "1"}],
            "payments": [{"method": "BITCOIN", "amount": "14.50"}],
        },
        {
            "lines": [{"article": "VR1", "quantity": "1"}],
            "payments": [{"method": "CARD", "amount": "10"}],
        },
        {"lines": [{"article": "VR1", "quantity": "1"}], "user": "PAUL"},
        {"lines": [{"article": "VR1", "quantity": "1"}], "total_incl_vat": "20.00"},
    ]
    for request in bad:
        with pytest.raises(selling.TicketError):
            selling.record_ticket(store, request, selling.signer_for(store, joined.vault))
    assert rows(store, "SELECT count(*) AS n FROM MICPTRACK") == [{"n": 0}]
    by_barcode = selling.record_ticket(
        store,
        {
            "lines": [
                {"article": "3700000000028", "quantity": "1"},
                {"article": "FRO", "quantity": "0.5"},
            ],
            "payments": [{"method": "CARD", "amount": "12"}, {"method": "CASH"}],
        },
        selling.signer_for(store, joined.vault),
    )
    assert by_barcode.payload["lines"][0]["article"] == "VB1"
    assert by_barcode.payload["lines"][1] == {
        "article": "FRO",
        "label": "Fromage de chèvre",
        "quantity": "0.5",
        "unit_price_incl_vat": "21.10",
        "vat_rate": "5.5",
    }
    assert by_barcode.total == "22.55"
    assert by_barcode.payload["payments"] == [
        {"method": "CARD", "amount": "12.00"},
        {"method": "CASH", "amount": "10.55"},
    ]


def test_search_by_code_barcode_and_words(joined: Services) -> None:
    sync(joined)
    found = selling.search_articles(joined.store, "3700000000011")
    assert [a.code for a in found][:1] == ["VR1"]
    assert [a.code for a in selling.search_articles(joined.store, "vin")] == ["VB1", "VR1"]
    assert [a.code for a in selling.search_articles(joined.store, "chevre")] == ["FRO"]
    assert str(found[0].price_incl_vat) == "14.50"


# -- the register's pages and its local API -------------------------------------------------------


def test_sales_screen_scan_search_remove_and_checkout(ui: Client, joined: Services) -> None:
    page_html = ui.get("/pos/sell").text
    assert 'id="sell-q"' in page_html and "Encaisser" in page_html
    found = ui.get("/pos/sell/search", params={"scan": "vin"}).text
    assert 'data-add="VB1"' in found and 'data-add="VR1"' in found
    scanned = ui.post_form("/pos/sell/cart", {"scan": "3700000000011"})
    assert scanned.status_code == 200
    assert 'data-line="VR1"' in scanned.text and "14,50" in scanned.text
    assert 'hx-swap-oob="true"' in scanned.text  # the scan field comes back empty
    form = [("code", "VR1"), ("qty", "2"), ("add", "VB1")]
    two = post_pairs(ui, "/pos/sell/cart", form).text
    assert 'data-line="VB1"' in two and "41,00" in two
    form = [("code", "VR1"), ("qty", "2"), ("code", "VB1"), ("qty", "1"), ("remove", "1")]
    one = post_pairs(ui, "/pos/sell/cart", form).text
    assert 'data-line="VB1"' not in one and "29,00" in one
    unknown = ui.post_form("/pos/sell/cart", {"scan": "ZZZZ"})
    assert 'id="sell-error"' in unknown.text
    form = [("code", "VR1"), ("qty", "2"), ("payment", "CARD"), ("user", "MARIE")]
    done = post_pairs(ui, "/pos/sell/checkout", form)
    assert done.status_code == 200
    assert "C3-000001" in done.text and 'data-line="VR1"' not in done.text
    ticket = register_lists.list_tickets(joined.store)[0]
    assert (ticket["number"], ticket["total"], ticket["user"], ticket["state"]) == (
        "C3-000001",
        "29.00",
        "MARIE",
        "queued",
    )
    bad = post_pairs(ui, "/pos/sell/checkout", [("code", "VR1"), ("qty", "0")])
    assert bad.status_code == 422
    refused = ui.post("/pos/sell/checkout", data={"code": "VR1", "qty": "1"})
    assert refused.status_code == 403  # no CSRF token
    assert len(register_lists.list_tickets(joined.store)) == 1


@pytest.mark.slow
def test_local_ticket_api(ui: Client, joined: Services, office_services: Services) -> None:
    url = "/api/pos/v1/local/tickets"
    body = {
        "number": "X-1",
        "id": "R3-forged",
        "user": "JEAN",
        "customer": "C001",
        "lines": [{"article": "VB1", "quantity": "3", "unit_price_incl_vat": "11.00"}],
        "payments": [{"method": "CASH", "amount": "33.00"}],
        "total_incl_vat": "33.00",
    }
    assert ui.post(url, json=body).status_code == 403  # the test client is no loopback peer
    listener = Listener(lambda port: create_app(joined, host="127.0.0.1", port=port))
    try:
        _local_api_calls(listener.url + url, body)
    finally:
        listener.stop()
    assert len(register_lists.list_tickets(joined.store)) == 1
    sync(joined)
    ticket = register_lists.list_tickets(joined.store)[0]
    assert office_tickets(office_services.store) == [
        {"number": "C3-000001", "external_ref": ticket["id"], "total_incl_vat": 33.0}
    ]


def _local_api_calls(url: str, body: dict[str, Any]) -> None:
    made = httpx.post(url, json=body, timeout=10)
    assert made.status_code == 201, made.text
    answer = made.json()
    assert answer["number"] == "C3-000001" and answer["id"].startswith("R3-")
    assert answer["id"] != "R3-forged" and answer["total_incl_vat"] == "33.00"
    assert httpx.post(url, json={"lines": [{"article": "NOPE"}]}).status_code == 422
    cross = httpx.post(url, json=body, headers={"origin": "http://evil.example"})
    assert cross.status_code == 403
    assert httpx.post(url, json=body, headers={"sec-fetch-site": "cross-site"}).status_code == 403
    plain = httpx.post(url, content=json.dumps(body), headers={"content-type": "text/plain"})
    assert plain.status_code == 415


def test_register_dashboard_sync_and_updates(
    ui: Client, joined: Services, office_services: Services
) -> None:
    store = joined.store
    selling.record_ticket(
        store,
        {"lines": [{"article": "VR1", "quantity": "1"}]},
        selling.signer_for(store, joined.vault),
    )
    with store.write() as db:
        outbox.enqueue(db, 3, "ticket", {"number": "", "lines": []})
    page_html = ui.get("/pos/register").text
    assert 'id="register-queued">2<' in page_html and "Synchroniser maintenant" in page_html
    publish(office_services, "settings", {"backups_kept": 12})
    synced = ui.post_form("/pos/register/sync")
    assert 'id="register-saved"' in synced.text
    assert 'id="register-queued">0<' in synced.text
    assert 'id="register-rejected"' in synced.text and "number" in synced.text
    page_html = ui.get("/pos/register").text
    assert 'data-update="1"' in page_html and "/pos/register/updates/1/confirm" in page_html
    confirmed = ui.post_form("/pos/register/updates/1/confirm")
    assert 'id="update-saved"' in confirmed.text
    from webapp import settings

    assert settings.get(store, "backups_kept") == 12
    again = ui.post_form("/pos/register/updates/1/confirm")
    assert again.status_code == 422
    moded = ui.post_form("/pos/register/update-mode", {"mode": "never"})
    assert 'id="update-saved"' in moded.text
    assert updates_register.mode(store) == "never"


# -- update packages -----------------------------------------------------------------------------


def publish(office_services: Services, kind: str, content: dict[str, Any]) -> int:
    return updates_office.publish_update(
        office_services.store, office_services.vault, kind, "1.0", content
    )


def states(store: Store) -> dict[int, str]:
    return {row["number"]: row["state"] for row in updates_register.received(store)}


def test_updates_always_mode_waits_for_each(joined: Services, office_services: Services) -> None:
    first = publish(office_services, "settings", {"history_retention_months": 6})
    second = publish(office_services, "settings", {register_config.SYNC_INTERVAL: 60})
    result = sync(joined)
    assert result.updates == {"received": 2, "applied": 0, "pending": 2, "refused": 0}
    assert states(joined.store) == {first: "pending", second: "pending"}
    assert updates_register.confirm(joined.store, second)["state"] == "applied"
    assert states(joined.store) == {first: "pending", second: "applied"}
    from webapp import settings

    assert settings.read_value(joined.store, register_config.SYNC_INTERVAL) == 60
    assert settings.get(joined.store, "history_retention_months") == 2
    updates_register.confirm(joined.store, first)
    assert settings.get(joined.store, "history_retention_months") == 6
    with pytest.raises(updates_register.UpdateError):
        updates_register.confirm(joined.store, first)


def test_updates_once_mode_asks_for_the_first_only(
    joined: Services, office_services: Services
) -> None:
    updates_register.set_mode(joined.store, "once")
    first = publish(office_services, "settings", {"backups_kept": 9})
    second = publish(office_services, "settings", {"backups_kept": 10})
    sync(joined)
    assert states(joined.store) == {first: "pending", second: "pending"}
    updates_register.confirm(joined.store, first)
    assert states(joined.store) == {first: "applied", second: "applied"}
    third = publish(
        office_services,
        "reference",
        {
            "upserts": {
                "payment_methods": [
                    {"code": "CHQ", "label": "Chèque", "is_cash": False, "active": True}
                ]
            },
            "deletes": {},
        },
    )
    assert sync(joined).updates["applied"] == 1
    assert states(joined.store)[third] == "applied"
    assert [
        m["code"] for m in register_lists.payment_methods(joined.store) if m["code"] == "CHQ"
    ] == ["CHQ"]


def test_updates_never_mode_applies_silently_and_refuses_what_it_must(
    joined: Services, office_services: Services
) -> None:
    updates_register.set_mode(joined.store, "never")
    good = publish(office_services, "settings", {"language": "en"})
    foreign = publish(office_services, "settings", {"pos.update_mode": "never"})
    templates = publish(office_services, "templates", {"ticket.html": "<p>x</p>"})
    result = sync(joined)
    assert result.updates == {"received": 3, "applied": 1, "pending": 0, "refused": 2}
    assert states(joined.store) == {good: "applied", foreign: "refused", templates: "refused"}
    from webapp import settings

    assert settings.get(joined.store, "language") == "en"


def test_a_tampered_update_is_refused_and_never_applied(
    joined: Services, office_services: Services
) -> None:
    updates_register.set_mode(joined.store, "never")
    number = publish(office_services, "settings", {"backups_kept": 30})
    with office_services.store.write() as db:  # someone edits the manifest after signing
        manifest = json.loads(
            db.execute("SELECT manifest FROM pos_updates WHERE number = ?", [number]).fetchone()[0]
        )
        manifest["content"] = {"backups_kept": 1}
        manifest["sha256"] = protocol.sha256(protocol.canonical(manifest["content"]))
        db.execute(
            "UPDATE pos_updates SET manifest = ? WHERE number = ?", [json.dumps(manifest), number]
        )
    result = sync(joined)
    assert result.updates["refused"] == 1
    row = updates_register.get(joined.store, number)
    assert row is not None and row["state"] == "refused" and "signature" in row["reason"]
    from webapp import settings

    assert settings.get(joined.store, "backups_kept") == 7
    items = history_queries.query_items(
        joined.store, history_queries.ItemFilter(job_name="import_updatecaisse"), 1, 10
    )
    assert [item["status"] for item in items.items] == ["error"]
    with pytest.raises(updates_register.UpdateError):
        updates_register.confirm(joined.store, number)


def test_update_and_outbox_commands(joined: Services, office_services: Services) -> None:
    folder = joined.data_dir.path
    publish(office_services, "settings", {"backups_kept": 11})
    sync(joined)
    listed = relais("pos", "update", "received", "--json", data_dir=folder)
    assert [(u["number"], u["state"]) for u in json.loads(listed.stdout)] == [(1, "pending")]
    confirmed = relais("pos", "update", "confirm", "1", "--json", data_dir=folder)
    assert confirmed.returncode == 0, confirmed.stderr
    assert json.loads(confirmed.stdout)["state"] == "applied"
    assert relais("pos", "update", "confirm", "1", data_dir=folder).returncode == 2
    moded = relais("pos", "update", "mode", "once", "--json", data_dir=folder)
    assert json.loads(moded.stdout) == {"ok": True, "mode": "once"}
    assert updates_register.mode(joined.store) == "once"
    selling.record_ticket(
        joined.store,
        {"lines": [{"article": "VR1", "quantity": "1"}]},
        selling.signer_for(joined.store, joined.vault),
    )
    queue = json.loads(relais("pos", "outbox", "--json", data_dir=folder).stdout)
    assert (queue["queued"], queue["register"], queue["rejected"]) == (1, 3, [])


# -- the real programs ------------------------------------------------------------------------------


def test_join_sync_sell_with_real_processes(tmp_path: Path, relais_server: Any) -> None:
    office_dir = tmp_path / "office-data"
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}
    office_server = relais_server("--pos-listen", "127.0.0.1:0", data_dir=office_dir, **env)
    pos_url = json.loads((office_dir / "pos.json").read_text())["url"]
    added = relais("pos", "register", "add", "3", "--json", data_dir=office_dir, **env)
    assert added.returncode == 0, added.stderr
    token = json.loads(added.stdout)["token"]
    relais("pos", "register", "add", "4", "--json", data_dir=office_dir, **env)
    office_store = Store(resolve_data_dir(office_dir).database)
    try:
        seed_office(office_store)
    finally:
        office_store.close()

    reg = tmp_path / "register-data"
    refused = relais(
        "pos",
        "join",
        "--server",
        pos_url,
        "--register",
        "3",
        "--token",
        "wrong",
        data_dir=reg,
        **env,
    )
    assert refused.returncode == 3, refused.stderr
    assert "refusé le jeton" in refused.stderr  # French by default
    closed = bind_socket("127.0.0.1", 0, fallback=False)
    nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    unreachable = relais(
        "pos", "join", "--server", nowhere, "--register", "3", "--token", token, data_dir=reg, **env
    )
    assert unreachable.returncode == 1, unreachable.stderr
    not_joined = relais(
        "serve", "--role", "register", "--no-browser", "--port", "0", data_dir=reg, **env
    )
    assert not_joined.returncode == 2
    assert "relais pos join" in not_joined.stderr

    joined = relais(
        "pos",
        "join",
        "--server",
        pos_url,
        "--register",
        "3",
        "--token",
        token,
        "--json",
        data_dir=reg,
        **env,
    )
    assert joined.returncode == 0, joined.stderr
    assert json.loads(joined.stdout)["register"] == 3
    synced = relais("pos", "sync", "--json", data_dir=reg, **env)
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["packages_applied"] == [1]
    users = json.loads(relais("pos", "users", "--json", data_dir=reg).stdout)
    assert [u["code"] for u in users] == ["JEAN", "MARIE"]
    sold = relais(
        "pos", "sell", "VR1:2", "FRO:0.5", "--user", "MARIE", "--json", data_dir=reg, **env
    )
    assert sold.returncode == 0, sold.stderr
    assert json.loads(sold.stdout)["number"] == "C3-000001"
    card = relais("pos", "sell", "VB1", "--payment", "CARD", "--json", data_dir=reg, **env)
    assert card.returncode == 0, card.stderr
    bad = relais("pos", "sell", "NOPE:1", data_dir=reg, **env)
    assert bad.returncode == 2
    tickets = json.loads(relais("pos", "tickets", "--json", data_dir=reg).stdout)
    assert {t["state"] for t in tickets} == {"queued"}

    # The register's own server: its synchroniser pushes the tickets in the background.
    register_server = relais_server("--role", "register", data_dir=reg, **env)
    office_dir_store = Store(resolve_data_dir(office_dir).database)
    try:
        deadline = time.monotonic() + 60
        while len(office_tickets(office_dir_store)) < 2:
            assert time.monotonic() < deadline, register_server.output
            time.sleep(0.2)
    finally:
        office_dir_store.close()
    assert register_server.stop() == 0
    tickets = json.loads(relais("pos", "tickets", "--json", data_dir=reg).stdout)
    assert {t["state"] for t in tickets} == {"sent"}
    office_server.stop()
    down = relais("pos", "sync", "--json", data_dir=reg, **env)
    assert down.returncode == 1


# -- the sales screen in a real browser ------------------------------------------------------------


def test_sell_and_sync_in_a_browser(
    tmp_path: Path,
    browser: Any,
    relais_server: Any,
    office_services: Services,
    office_listener: Listener,
    tokens: dict[int, str],
) -> None:
    """Search, add, scan, change a quantity, Encaisser, then "Synchroniser maintenant": htmx under
    the CSP, against `relais serve --role register` whose synchroniser imported the catalogue."""
    from playwright.sync_api import expect

    from tests.browser_fixtures import CSP_LISTENER, WAIT_MS, Console

    folder = tmp_path / "till"
    till = open_services(resolve_data_dir(folder))
    till.vault.create(PASSPHRASE)
    register_config.join(till.store, till.vault, office_listener.url, 3, tokens[3], fast_client)
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
        page.goto(server.url + "/pos/sell")
        search = page.locator("#sell-q")
        expect(search).to_be_focused()
        search.fill("vin")
        expect(page.locator("#sell-found tbody tr")).to_have_count(2)
        page.locator("#sell-found button[data-add='VR1']").click()
        expect(page.locator("#sell-lines tbody tr")).to_have_count(1)
        search.fill("3700000000028")  # a barcode scanner types it and presses Enter
        search.press("Enter")
        expect(page.locator("#sell-lines tbody tr")).to_have_count(2)
        expect(page.locator("#sell-q")).to_have_value("")
        # The scan box takes the focus back when the swap settles (the cashier scans on): wait for
        # that before typing elsewhere, as a person sees it happen.
        expect(page.locator("#sell-q")).to_be_focused()
        expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
        quantity = page.locator("#sell-lines tr[data-line='VR1'] input[name='qty']")
        quantity.fill("2")
        # Leaving the field is what a cashier does: the browser's own change event, then the
        # cart comes back recomputed.
        with page.expect_response(
            lambda answer: answer.url.endswith("/pos/sell/cart") and answer.request.method == "POST"
        ):
            quantity.press("Tab")
        expect(page.locator("#sell-total")).to_contain_text("41,00")
        page.locator("#sell-payment").select_option("CARD")
        page.locator("#sell-user").select_option("MARIE")
        page.locator("#sell-checkout").click()
        expect(page.locator("#sell-saved")).to_contain_text("C3-000001")
        expect(page.locator("#sell-lines")).to_have_count(0)

        page.goto(server.url + "/pos/register")
        page.locator("#register-sync-now").click()
        expect(page.locator("#register-saved")).to_be_visible()
        expect(page.locator("#register-queued")).to_have_text("0")
        assert console.errors == []
    finally:
        context.close()
    got = office_tickets(office_services.store)
    assert [(row["number"], row["total_incl_vat"]) for row in got] == [("C3-000001", 41.0)]
