"""Office side of the cash registers (POS-2, POS-4, POS-6, POS-7): packages from the change log,
tokens, records pushed by the registers, signed update packages, and the real POS listener."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Client, relais
from webapp import history_queries, settings
from webapp.backoffice import documents
from webapp.config import resolve_data_dir
from webapp.pos import (
    office,
    office_packages,
    office_records,
    packages,
    protocol,
    updates_office,
)
from webapp.services import Services, open_services
from webapp.store import Store

PASSPHRASE = "a vault passphrase for tests"


# -- data helpers -------------------------------------------------------------------------------


def add_article(store: Store, code: str, price: str | None = "10", label: str = "") -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO articles (code, label, unit_id, vat_rate_id, barcode, created_at,"
            " updated_at) VALUES (?, ?, (SELECT id FROM units WHERE code = 'BT'),"
            " (SELECT id FROM vat_rates WHERE code = 'FR20'), ?, 'now', 'now')",
            [code, label or f"Article {code}", f"376{code}"],
        )
        if price is not None:
            db.execute(
                "INSERT INTO article_prices (article_id, price_category_id, price_excl_vat)"
                " VALUES ((SELECT id FROM articles WHERE code = ?), 1, ?)",
                [code, float(price)],
            )


def add_party(store: Store, kind: str, code: str, last_name: str = "Martin") -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO parties (kind, code, last_name, country, created_at, updated_at)"
            " VALUES (?, ?, ?, 'FR', 'now', 'now')",
            [kind, code, last_name],
        )


def add_user(store: Store, code: str, registers: list[int]) -> None:
    with store.write() as db:
        db.execute("INSERT INTO pos_users (code, name) VALUES (?, ?)", [code, code.title()])
        for number in registers:
            db.execute(
                "INSERT INTO pos_user_registers (user_id, register_id) VALUES"
                " ((SELECT id FROM pos_users WHERE code = ?),"
                " (SELECT id FROM pos_registers WHERE number = ?))",
                [code, number],
            )


def execute(store: Store, sql: str, params: list[Any] | None = None) -> None:
    with store.write() as db:
        db.execute(sql, params or [])


def package(store: Store, register: office.Register, number: int) -> dict[str, Any]:
    found = office_packages.package_json(store, register, number)
    assert found is not None
    return found


def by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in rows}


@pytest.fixture
def shop(services: Services) -> tuple[Services, office.Register]:
    register, _token = office.add_register(services.store, 3, label="Comptoir")
    office.add_register(services.store, 4, label="Terrasse")
    add_article(services.store, "VR1", "12.0833", "Vin rouge")
    add_article(services.store, "VB1", "9.5")
    add_article(services.store, "NOPRICE", None)
    add_party(services.store, "customer", "C001")
    add_party(services.store, "customer", "C002", "Durand")
    add_party(services.store, "supplier", "F001")
    add_user(services.store, "MARIE", [3])
    add_user(services.store, "PAUL", [4])
    return services, register


# -- packages -----------------------------------------------------------------------------------


def test_first_package_is_full_with_the_documented_shapes(
    shop: tuple[Services, office.Register],
) -> None:
    services, register = shop
    built = packages.build_package(services.store, register.id)
    assert built is not None and built.full and built.number == 1 and built.from_seq == 0
    body = package(services.store, register, 1)
    assert body["full"] is True and body["register"] == 3 and body["number"] == 1
    assert body["to_seq"] == built.to_seq and body["protocol"] == protocol.PROTOCOL
    upserts = body["upserts"]
    assert set(upserts) == set(protocol.ENTITIES)
    assert set(body["deletes"]) == set(protocol.DELETABLE)
    articles = by_code(upserts["articles"])
    assert articles["VR1"] == {
        "code": "VR1",
        "label": "Vin rouge",
        "barcode": "376VR1",
        "unit": "BT",
        "vat_code": "FR20",
        "vat_rate": "20",
        "price_excl_vat": "12.0833",
        "family": None,
        "family_label": None,
        "active": True,
    }
    assert articles["VB1"]["price_excl_vat"] == "9.5000"
    assert articles["NOPRICE"]["price_excl_vat"] is None
    customers = by_code(upserts["customers"])
    assert set(customers) == {"C001", "C002"}, "customers only, never suppliers"
    assert set(customers["C001"]) == {
        "code",
        "last_name",
        "first_name",
        "company",
        "email",
        "phone",
        "address",
        "postcode",
        "city",
        "country",
        "vat_number",
    }
    users = by_code(upserts["users"])
    assert users["MARIE"] == {"code": "MARIE", "name": "Marie", "active": True, "registers": [3]}
    assert users["PAUL"]["registers"] == [4]
    assert upserts["registers"] == [
        {"number": 3, "label": "Comptoir", "ticket_prefix": "C3-", "active": True}
    ], "only the register's own row"
    methods = by_code(upserts["payment_methods"])
    assert methods["CASH"] == {"code": "CASH", "label": "Espèces", "is_cash": True, "active": True}
    assert by_code(upserts["vat_rates"])["FR5.5"]["rate"] == "5.5"
    assert by_code(upserts["units"])["KG"] == {"code": "KG", "label": "Kilogramme", "decimals": 3}
    # The stored size and hash are those of the JSON the register receives.
    raw = office_packages.package_body(services.store, register, 1)
    assert raw is not None
    plain = zlib.decompress(raw)
    assert len(plain) == built.size and hashlib.sha256(plain).hexdigest() == built.sha256


def test_nothing_is_built_when_nothing_changed(shop: tuple[Services, office.Register]) -> None:
    services, register = shop
    assert packages.build_package(services.store, register.id) is not None
    assert packages.build_package(services.store, register.id) is None
    # Seeing a register (its token's last_seen_at) is not a change either.
    assert packages.build_package(services.store, register.id) is None


def test_differential_package_after_edits(shop: tuple[Services, office.Register]) -> None:
    services, register = shop
    store = services.store
    first = packages.build_package(store, register.id)
    assert first is not None
    assert office_packages.acknowledge(store, register, 1)
    execute(store, "UPDATE articles SET label = 'Vin rouge 2024' WHERE code = 'VR1'")
    execute(
        store,
        "UPDATE article_prices SET price_excl_vat = 11 WHERE article_id ="
        " (SELECT id FROM articles WHERE code = 'VB1')",
    )
    execute(store, "UPDATE parties SET city = 'Lyon' WHERE code = 'C001' AND kind = 'customer'")
    execute(store, "UPDATE parties SET city = 'Gand' WHERE code = 'F001'")  # a supplier
    execute(
        store,
        "DELETE FROM pos_user_registers WHERE user_id = (SELECT id FROM pos_users"
        " WHERE code = 'MARIE')",
    )
    execute(store, "DELETE FROM articles WHERE code = 'NOPRICE'")
    execute(store, "DELETE FROM parties WHERE code = 'C002'")
    execute(store, "UPDATE payment_methods SET code = 'CB' WHERE code = 'CARD'")
    execute(store, "DELETE FROM pos_users WHERE code = 'PAUL'")
    execute(store, "UPDATE pos_registers SET label = 'Other' WHERE number = 4")
    second = packages.build_package(store, register.id)
    assert second is not None and not second.full
    assert second.from_seq == first.to_seq and second.number == 2
    body = package(store, register, 2)
    upserts, deletes = body["upserts"], body["deletes"]
    assert [row["code"] for row in upserts["articles"]] == ["VB1", "VR1"]
    assert by_code(upserts["articles"])["VB1"]["price_excl_vat"] == "11.0000"
    assert by_code(upserts["articles"])["VR1"]["label"] == "Vin rouge 2024"
    assert [row["code"] for row in upserts["customers"]] == ["C001"]
    assert upserts["customers"][0]["city"] == "Lyon"
    assert upserts["users"] == [{"code": "MARIE", "name": "Marie", "active": True, "registers": []}]
    assert [row["code"] for row in upserts["payment_methods"]] == ["CB"]
    assert upserts["vat_rates"] == [] and upserts["units"] == []
    assert upserts["registers"] == [], "another register's change is not this one's"
    assert deletes == {
        "articles": ["NOPRICE"],
        "customers": ["C002"],
        "users": ["PAUL"],
        "payment_methods": ["CARD"],
    }
    assert second.size < first.size


def test_unacknowledged_package_makes_a_superset(shop: tuple[Services, office.Register]) -> None:
    services, register = shop
    store = services.store
    packages.build_package(store, register.id)
    office_packages.acknowledge(store, register, 1)
    execute(store, "UPDATE articles SET label = 'A' WHERE code = 'VR1'")
    second = packages.build_package(store, register.id)
    execute(store, "UPDATE articles SET label = 'B' WHERE code = 'VB1'")
    third = packages.build_package(store, register.id)
    assert second is not None and third is not None
    assert third.from_seq == second.from_seq, "from the last acknowledged, not the last built"
    codes = [row["code"] for row in package(store, register, 3)["upserts"]["articles"]]
    assert codes == ["VB1", "VR1"]
    office_packages.acknowledge(store, register, 3)
    execute(store, "UPDATE articles SET label = 'C' WHERE code = 'VB1'")
    fourth = packages.build_package(store, register.id)
    assert fourth is not None and fourth.from_seq == third.to_seq
    codes = [row["code"] for row in package(store, register, 4)["upserts"]["articles"]]
    assert codes == ["VB1"]
    # Acknowledging drops the older packages: the register will never ask for them again.
    assert office_packages.package_body(store, register, 2) is None
    assert [p["number"] for p in office_packages.list_packages(store, register, 3)] == [4]


def test_deleted_then_recreated_travels_as_an_upsert(
    shop: tuple[Services, office.Register],
) -> None:
    services, register = shop
    store = services.store
    packages.build_package(store, register.id)
    office_packages.acknowledge(store, register, 1)
    execute(store, "DELETE FROM articles WHERE code = 'VB1'")
    add_article(store, "VB1", "7")
    add_article(store, "NEW", "1")
    execute(store, "DELETE FROM articles WHERE code = 'NEW'")
    built = packages.build_package(store, register.id)
    assert built is not None
    body = package(store, register, built.number)
    assert [row["code"] for row in body["upserts"]["articles"]] == ["VB1"]
    assert body["deletes"]["articles"] == ["NEW"], "a delete of a code the register never had"


def test_register_starting_from_nothing_gets_a_full_package(
    shop: tuple[Services, office.Register],
) -> None:
    services, register = shop
    store = services.store
    listed = office_packages.list_packages(store, register, 0)
    assert [(p["number"], p["full"]) for p in listed] == [(1, True)], "built on demand"
    assert office_packages.list_packages(store, register, 0) == listed, "not built twice"
    office_packages.acknowledge(store, register, 1)
    execute(store, "UPDATE articles SET label = 'A' WHERE code = 'VR1'")
    packages.build_package(store, register.id)
    assert [p["number"] for p in office_packages.list_packages(store, register, 1)] == [2]
    # The register lost its data and asks from 0: a new full package, and only from there.
    again = office_packages.list_packages(store, register, 0)
    assert [(p["number"], p["full"]) for p in again] == [(3, True)]
    assert len(package(store, register, 3)["upserts"]["articles"]) == 3


def test_export_job_builds_for_every_active_register(
    shop: tuple[Services, office.Register],
) -> None:
    services, _register = shop
    execute(services.store, "UPDATE pos_registers SET active = 0 WHERE number = 4")
    run_id = services.runner.run(packages.JOB_NAME, origin="command")
    run = history_queries.get_run(services.store, run_id)
    assert run is not None and run["status"] == "success" and run["params"] == {"count": 1}
    assert services.runner.run(packages.JOB_NAME, origin="command")
    rows = {row["number"]: row for row in office.list_registers(services.store)}
    assert rows[3]["last_built"] == 1 and rows[4]["last_built"] is None


# -- tokens -------------------------------------------------------------------------------------


def test_tokens_are_stored_as_hashes_and_revoked_by_a_new_one(services: Services) -> None:
    register, token = office.add_register(services.store, 7, label="Caisse 7")
    assert register.ticket_prefix == "C7-" and register.company == "MAIN"
    assert register.warehouse_id is not None
    assert office.register_for_token(services.store, token) == register
    database = services.data_dir.database.read_bytes()
    wal = services.data_dir.database.with_name(services.data_dir.database.name + "-wal")
    stored = database + (wal.read_bytes() if wal.exists() else b"")
    assert token.encode() not in stored
    assert protocol.token_digest(token).encode() in stored
    _same, second = office.add_register(services.store, 7)
    assert _same.label == "Caisse 7", "the label is kept when not given"
    assert office.register_for_token(services.store, token) is None, "the old token is revoked"
    assert office.register_for_token(services.store, second) is not None
    assert office.revoke_tokens(services.store, 7) == 1
    assert office.register_for_token(services.store, second) is None
    assert office.register_for_token(services.store, "") is None
    with pytest.raises(office.RegisterError):
        office.add_register(services.store, 8, company_code="NOPE")
    with pytest.raises(office.RegisterError):
        office.add_register(services.store, 0)


# -- records pushed by a register ---------------------------------------------------------------


def ticket(record_id: str, number: str, **changes_: Any) -> dict[str, Any]:
    payload = {
        "number": number,
        "sold_at": "2026-11-25T10:03:00Z",
        "user": "MARIE",
        "customer": None,
        "lines": [
            {
                "article": "VR1",
                "label": "Vin rouge",
                "quantity": "2",
                "unit_price_incl_vat": "14.50",
                "vat_rate": "20",
            }
        ],
        "payments": [{"method": "CASH", "amount": "29.00"}],
        "total_incl_vat": "29.00",
    }
    payload.update(changes_)
    return {"id": record_id, "register": 3, "seq": 1, "kind": "ticket", "payload": payload}


def test_ticket_becomes_a_document_once(shop: tuple[Services, office.Register]) -> None:
    services, register = shop
    store = services.store
    record = ticket("R3-aaa", "C3-000001", customer="C001")
    assert office_records.apply_records(store, register, [record]) == [
        {"id": "R3-aaa", "status": "applied"}
    ]
    with store.read() as db:
        found = documents.find_document(db, "pos:3", "R3-aaa")
    assert found is not None
    assert found.kind == "ticket" and found.number == "C3-000001"
    assert found.doc_date == dt.date(2026, 11, 25)
    assert found.total_incl_vat == Decimal("29.00")
    assert found.total_excl_vat == Decimal("24.17") and found.total_vat == Decimal("4.83")
    assert [line.label for line in found.lines] == ["Vin rouge"]
    assert found.lines[0].quantity == Decimal("2")
    assert [(p.method, p.amount) for p in found.payments] == [("CASH", Decimal("29.00"))]
    assert found.warehouse_id == register.warehouse_id and found.party_id is not None
    # The same id again (a reply lost on the way): nothing doubled.
    assert office_records.apply_records(store, register.id, [record]) == [
        {"id": "R3-aaa", "status": "already_applied"}
    ]
    with store.read() as db:
        count = db.execute("SELECT count(*) FROM documents WHERE kind = 'ticket'").fetchone()[0]
    assert count == 1


def test_rejected_record_does_not_block_the_next_ones(
    shop: tuple[Services, office.Register],
) -> None:
    services, register = shop
    store = services.store
    bad = ticket("R3-bad", "C3-000002")
    bad["payload"]["lines"][0]["article"] = "GHOST"
    batch = [
        bad,
        ticket("R3-good", "C3-000003"),
        ticket("R3-total", "C3-000004", total_incl_vat="30.00"),
        ticket("R3-dup-number", "C3-000003"),
        {"id": "R3-kind", "kind": "coupon", "payload": {}},
        {"id": "R3-other", "register": 9, "kind": "customer", "payload": {"code": "X"}},
        {"kind": "ticket", "payload": {}},
        ticket("R3-method", "C3-000005", payments=[{"method": "BITCOIN", "amount": "29.00"}]),
    ]
    results = office_records.apply_records(store, register, batch)
    assert [r["status"] for r in results] == [
        "rejected",
        "applied",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert results[0]["reason"] == "Line 1: unknown article GHOST."
    assert results[0]["message"] == "Line {line}: unknown article {article}."
    assert results[0]["params"] == {"line": 1, "article": "GHOST"}
    assert "29.00" in results[2]["reason"] and "30.00" in results[2]["reason"]
    assert results[3]["reason"] == "Ticket number C3-000003 is already used."
    assert "BITCOIN" in results[7]["reason"]
    # The whole batch again (the register never got the answer): same answers, nothing doubled.
    again = office_records.apply_records(store, register, batch)
    assert [r["status"] for r in again] == [
        "rejected",
        "already_applied",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert again[0]["reason"] == results[0]["reason"]
    rejected = office_records.received(store, status="rejected")
    assert {row["id"] for row in rejected} == {
        "R3-bad",
        "R3-total",
        "R3-dup-number",
        "R3-kind",
        "R3-other",
        "R3-method",
    }, "a record without an id cannot be kept"
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 1


def test_customer_and_setting_records(shop: tuple[Services, office.Register]) -> None:
    services, register = shop
    store = services.store
    customer = {
        "code": "C900",
        "last_name": "Leroy",
        "first_name": "Anne",
        "company": "",
        "email": "anne@example.org",
        "phone": "",
        "address": "1 rue Haute",
        "postcode": "75001",
        "city": "Paris",
        "country": "fr",
        "vat_number": "",
    }
    records = [
        {"id": "R3-c1", "kind": "customer", "payload": customer},
        {"id": "R3-c2", "kind": "customer", "payload": {**customer, "city": "Lille"}},
        {"id": "R3-c3", "kind": "customer", "payload": {**customer, "country": "ZZ"}},
        {
            "id": "R3-s1",
            "kind": "register_setting",
            "payload": {"key": "printer", "value": "EPSON"},
        },
        {"id": "R3-s2", "kind": "register_setting", "payload": {"key": "bad key!", "value": 1}},
        ticket("R3-t", "C3-000010", customer="C900"),
    ]
    results = office_records.apply_records(store, register, records)
    assert [r["status"] for r in results] == [
        "applied",
        "applied",
        "rejected",
        "applied",
        "rejected",
        "applied",
    ]
    with store.read() as db:
        row = db.execute(
            "SELECT city, country FROM parties WHERE kind = 'customer' AND code = 'C900'"
        ).fetchone()
    assert tuple(row) == ("Lille", "FR")
    assert office_records.register_settings(store, 3) == {"printer": "EPSON"}
    # The customer made on the register goes to the other registers with the next package.
    packages.build_package(store, register.id)
    assert "C900" in by_code(package(store, register, 1)["upserts"]["customers"])


# -- update packages ----------------------------------------------------------------------------


def test_published_updates_are_signed(services: Services) -> None:
    services.vault.create(PASSPHRASE)
    assert updates_office.public_key(services.store) is None
    first = updates_office.publish_update(
        services.store, services.vault, "settings", "1.0", {"receipt_footer": "Merci !"}
    )
    second = updates_office.publish_update(
        services.store, services.vault, "templates", "1.1", {"receipt": "{{ total }}"}
    )
    assert (first, second) == (1, 2)
    key = updates_office.public_key(services.store)
    assert key is not None and services.vault.get(updates_office.VAULT_NAME) is not None
    assert key != services.vault.get(updates_office.VAULT_NAME), "the public half only"
    listed = updates_office.list_updates(services.store, 0)
    assert [u["number"] for u in listed] == [1, 2]
    update = listed[0]
    manifest = update["manifest"]
    assert manifest["kind"] == "settings" and manifest["version"] == "1.0"
    assert manifest["sha256"] == protocol.sha256(protocol.canonical(manifest["content"]))
    assert protocol.verify(key, protocol.canonical(manifest), update["signature"])
    tampered = {**manifest, "content": {"receipt_footer": "Payez deux fois"}}
    assert not protocol.verify(key, protocol.canonical(tampered), update["signature"])
    assert [u["number"] for u in updates_office.list_updates(services.store, 1)] == [2]
    for kind, content in (
        ("program", {}),
        ("firmware", {}),
        ("settings", {"nested": {"no": 1}}),
        ("reference", {"upserts": {"suppliers": []}}),
        ("templates", {"receipt": 3}),
    ):
        with pytest.raises(updates_office.UpdateError):
            updates_office.publish_update(services.store, services.vault, kind, "2", content)
    with pytest.raises(updates_office.UpdateError):
        updates_office.publish_update(services.store, services.vault, "settings", "", {})


def test_update_key_needs_the_vault(services: Services) -> None:
    assert updates_office.ensure_public_key(services.store, services.vault) is None
    with pytest.raises(updates_office.UpdateError):
        updates_office.publish_update(services.store, services.vault, "settings", "1", {"a": 1})


# -- the real listener and the command line ----------------------------------------------------


def _cli_json(*args: str, data_dir: Path, **env: str) -> Any:
    done = relais(*args, "--json", data_dir=data_dir, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _prepare_office(data: Path) -> None:
    opened = open_services(resolve_data_dir(data))
    try:
        add_article(opened.store, "VR1", "12.0833", "Vin rouge")
        add_party(opened.store, "customer", "C001")
    finally:
        opened.close()


def test_api_over_real_http(tmp_path: Path, relais_server: Any) -> None:
    data = tmp_path / "office"
    _prepare_office(data)
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}
    token = _cli_json("pos", "register", "add", "3", "--label", "Comptoir", data_dir=data, **env)[
        "token"
    ]
    other = _cli_json("pos", "register", "add", "4", data_dir=data, **env)["token"]
    server = relais_server("--pos-listen", "127.0.0.1:0", data_dir=data, **env)
    pos_url = json.loads((data / "pos.json").read_text())["url"]
    assert pos_url != server.url
    api = pos_url + protocol.API
    auth = {"Authorization": f"Bearer {token}"}

    with httpx.Client(timeout=30) as http:
        assert http.get(api + "/hello").status_code == 401
        refused = http.get(api + "/hello", headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 401 and "error" in refused.json()
        hello = http.get(api + "/hello", headers=auth).json()
        assert hello["register"] == 3 and hello["company"] == "MAIN" and hello["protocol"] == 1
        assert isinstance(hello["update_key"], str) and hello["office"]
        assert http.get(pos_url + "/").status_code == 404, "no UI on the POS port"
        assert http.get(server.url + protocol.API + "/hello", headers=auth).status_code != 200

        listed = http.get(api + "/packages", params={"after": 0}, headers=auth).json()["packages"]
        assert [(p["number"], p["full"]) for p in listed] == [(1, True)]
        response = http.get(api + "/packages/1", headers=auth)
        assert response.headers.get("content-encoding") == "deflate"
        assert hashlib.sha256(response.content).hexdigest() == listed[0]["sha256"]
        body = response.json()
        assert by_code(body["upserts"]["articles"])["VR1"]["price_excl_vat"] == "12.0833"
        plain = http.get(api + "/packages/1", headers={**auth, "Accept-Encoding": "identity"})
        assert plain.content == response.content
        other_auth = {"Authorization": f"Bearer {other}"}
        assert http.get(api + "/packages/1", headers=other_auth).status_code == 404
        assert http.post(api + "/packages/9/ack", headers=auth).status_code == 404
        assert http.post(api + "/packages/1/ack", headers=auth).json() == {"acknowledged": 1}
        assert http.get(api + "/packages", params={"after": "x"}, headers=auth).status_code == 400

        records = [ticket("R3-http-1", "C3-000001"), ticket("R3-http-2", "C3-000002")]
        records[1]["payload"]["lines"][0]["article"] = "GHOST"
        pushed = http.post(api + "/outbox", json={"records": records}, headers=auth).json()
        assert [r["status"] for r in pushed["results"]] == ["applied", "rejected"]
        again = http.post(api + "/outbox", json={"records": records}, headers=auth).json()
        assert [r["status"] for r in again["results"]] == ["already_applied", "rejected"]
        too_many = {"records": [ticket(f"R3-{n}", f"C3-{n}") for n in range(501)]}
        assert http.post(api + "/outbox", json=too_many, headers=auth).status_code == 413
        assert http.post(api + "/outbox", content=b"{", headers=auth).status_code == 400
        assert http.get(api + "/outbox", headers=auth).status_code == 405
        assert http.get(api + "/updates", params={"after": 0}, headers=auth).json() == {
            "updates": []
        }

    # Published while the server runs, served at once; revoked tokens are refused.
    update_file = tmp_path / "settings.json"
    update_file.write_text(json.dumps({"receipt_footer": "Merci"}), encoding="utf-8")
    published = _cli_json(
        "pos", "update", "publish", "--kind", "settings", "--version", "1.0",
        str(update_file), data_dir=data, **env,
    )  # fmt: skip
    assert published["number"] == 1
    with httpx.Client(timeout=30) as http:
        updates = http.get(api + "/updates", headers=auth).json()["updates"]
        assert [u["number"] for u in updates] == [1]
        assert protocol.verify(
            hello["update_key"], protocol.canonical(updates[0]["manifest"]), updates[0]["signature"]
        )
    relais("pos", "register", "revoke", "3", data_dir=data)
    assert httpx.get(api + "/hello", headers=auth, timeout=30).status_code == 401

    listing = _cli_json("pos", "register", "list", data_dir=data)
    three = next(row for row in listing if row["number"] == 3)
    assert three["last_acked"] == 1 and three["applied"] == 1 and three["rejected"] == 1
    assert three["last_seen_at"]
    received = _cli_json("pos", "received", "--status", "rejected", data_dir=data)
    assert [row["id"] for row in received] == ["R3-http-2"]
    assert "GHOST" in received[0]["reason"]


def test_cli_exit_codes(tmp_path: Path) -> None:
    data = tmp_path / "office"
    assert relais("pos", "register", "add", "3", "--company", "NOPE", data_dir=data).returncode == 2
    assert relais("pos", "register", "add", "0", data_dir=data).returncode == 2
    assert relais("pos", "register", "revoke", "5", data_dir=data).returncode == 2
    done = relais("pos", "register", "add", "5", data_dir=data)
    assert done.returncode == 0
    assert len(done.stdout.strip().splitlines()[-1]) >= 40, "the token is printed"
    exported = _cli_json("pos", "export", data_dir=data)
    assert exported["status"] == "success" and exported["packages"] == 1
    assert _cli_json("pos", "export", data_dir=data)["packages"] == 0
    update = tmp_path / "u.json"
    update.write_text('{"a": 1}', encoding="utf-8")
    publish = ("pos", "update", "publish", "--kind", "settings", "--version", "1", str(update))
    assert relais(*publish, data_dir=data).returncode == 3, "the vault is locked"
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    bad_publish = ("pos", "update", "publish", "--kind", "settings", "--version", "1", str(bad))
    assert relais(*bad_publish, data_dir=data, RELAIS_VAULT_PASSPHRASE=PASSPHRASE).returncode == 2
    assert relais(*publish, data_dir=data, RELAIS_VAULT_PASSPHRASE=PASSPHRASE).returncode == 0
    wrong_kind = ("pos", "update", "publish", "--kind", "program", "--version", "1", str(update))
    assert relais(*wrong_kind, data_dir=data).returncode == 2
    assert relais("serve", "--pos-cert", str(update), data_dir=data).returncode == 2


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relais-office")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "pos.crt", tmp_path / "pos.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_listener(tmp_path: Path, relais_server: Any) -> None:
    data = tmp_path / "office"
    token = _cli_json("pos", "register", "add", "3", data_dir=data)["token"]
    cert, key = _self_signed(tmp_path)
    server = relais_server(
        "--pos-listen", "127.0.0.1:0", "--pos-cert", str(cert), "--pos-key", str(key),
        data_dir=data,
    )  # fmt: skip
    pos_url = json.loads((data / "pos.json").read_text())["url"]
    assert pos_url.startswith("https://")
    auth = {"Authorization": f"Bearer {token}"}
    hello = httpx.get(pos_url + protocol.API + "/hello", headers=auth, verify=False, timeout=30)
    assert hello.status_code == 200 and hello.json()["register"] == 3
    plain = pos_url.replace("https://", "http://") + protocol.API + "/hello"
    with pytest.raises(httpx.HTTPError):
        httpx.get(plain, headers=auth, timeout=10)
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200, "the UI stays HTTP"
    assert server.stop() == 0


# -- the office page ----------------------------------------------------------------------------


def test_office_page_adds_a_register_and_shows_the_token_once(
    client: Client, services: Services
) -> None:
    page = client.get("/pos")
    assert page.status_code == 200 and "<h1>Caisses</h1>" in page.text
    assert 'id="pos-export-now"' in page.text
    added = client.post_form("/pos/office/registers", {"number": "3", "label": "Comptoir"})
    assert added.status_code == 200
    token = added.text.split('<code id="pos-new-token">')[1].split("</code>")[0]
    assert office.register_for_token(services.store, token) is not None
    listing = client.get("/pos").text
    assert 'data-register="3"' in listing and "Comptoir" in listing
    assert token not in listing, "the token is shown only once"
    refused = client.post_form("/pos/office/registers", {"number": "x"})
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    unknown = client.post_form("/pos/office/registers", {"number": "4", "company": "NOPE"})
    assert unknown.status_code == 422 and "NOPE" in unknown.text
    too_long = client.post_form("/pos/office/registers", {"number": "5", "label": "x" * 101})
    assert too_long.status_code == 422 and 'role="alert"' in too_long.text
    numbers = [row["number"] for row in office.list_registers(services.store)]
    assert numbers == [3], "nothing was added"


def test_register_name_length_is_checked_by_the_service_and_the_cli(
    tmp_path: Path, services: Services
) -> None:
    with pytest.raises(office.RegisterError):
        office.add_register(services.store, 6, label="x" * (office.REGISTER_LABEL_MAX + 1))
    data = tmp_path / "office"
    refused = relais("pos", "register", "add", "6", "--label", "x" * 101, data_dir=data)
    assert refused.returncode == 2
    assert (
        relais("pos", "register", "add", "6", "--label", "x" * 100, data_dir=data).returncode == 0
    )


def test_office_page_builds_packages_and_lists_rejections(
    client: Client, services: Services
) -> None:
    register, _token = office.add_register(services.store, 3)
    office_records.apply_records(
        services.store, register, [ticket("R3-x", "C3-1")]
    )  # no article VR1
    started = client.post_form("/pos/office/export")
    assert started.status_code in (200, 201) and "progress-card" in started.text
    run_id = int(started.text.split('data-run="')[1].split('"')[0])
    deadline = time.monotonic() + 30
    run = history_queries.get_run(services.store, run_id)
    while run is not None and run["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        run = history_queries.get_run(services.store, run_id)
    assert run is not None and run["status"] == "success"
    text = client.get("/pos").text
    assert "R3-x" in text and "Ligne 1" in text, "the reason, in French"


def test_register_folder_goes_to_the_register_pages(client: Client, services: Services) -> None:
    settings.write_value(services.store, protocol.ROLE_SETTING, "register")
    response = client.get("/pos", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/pos/register"
