"""The registers' chains at the office (issue 17), office and registers as real processes.

A register joins a real `relais serve --pos-listen`, sells and syncs: the office holds its public
key and every signed row, and every chain holds. Then an intruder edits the register's SQLite file
(a row's amount changed, a row deleted before it was sent) and the next sync shows the break on
the office's registers page, with the record named; an untouched register stays green, and a
replayed push changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import relais
from tests.pos_fixtures import PASSPHRASE, seed_office
from tests.test_pos_integration import free_port
from webapp.config import resolve_data_dir
from webapp.pos import protocol, selling, trail_office
from webapp.services import open_services
from webapp.store import Store

ENV = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}
# Three real processes and a dozen commands: slower than one test's default on a busy machine.
pytestmark = pytest.mark.timeout(900)


@dataclass
class Shop:
    office: Any  # the RelaisServer
    office_dir: Path
    pos_url: str
    tokens: dict[int, str]
    registers: dict[int, Path]


def open_shop(tmp_path: Path, relais_server: Any, numbers: tuple[int, ...] = (3, 4)) -> Shop:
    """A real office with registers 3 and 4, each joined from its own data folder."""
    office_dir = tmp_path / "office"
    listen = f"127.0.0.1:{free_port()}"
    office = relais_server("--pos-listen", listen, data_dir=office_dir, **ENV)
    tokens: dict[int, str] = {}
    for number in (3, 4):
        added = relais("pos", "register", "add", str(number), "--json", data_dir=office_dir, **ENV)
        assert added.returncode == 0, added.stderr
        tokens[number] = json.loads(added.stdout)["token"]
    with_store(office_dir, seed_office)
    registers: dict[int, Path] = {}
    for number in numbers:
        folder = registers[number] = tmp_path / f"register-{number}"
        joined = relais(
            "pos", "join", "--server", f"http://{listen}", "--register", str(number),
            "--token", tokens[number], data_dir=folder, **ENV,
        )  # fmt: skip
        assert joined.returncode == 0, joined.stderr
        sync(folder)  # the catalogue in
    return Shop(office, office_dir, f"http://{listen}", tokens, registers)


def with_store(folder: Path, action: Any) -> Any:
    store = Store(resolve_data_dir(folder).database)
    try:
        return action(store)
    finally:
        store.close()


def sell(folder: Path, count: int) -> None:
    services = open_services(resolve_data_dir(folder), vault_backend="file")
    try:
        services.vault.unlock(PASSPHRASE)
        signer = selling.signer_for(services.store, services.vault)
        for n in range(count):
            request = {"lines": [{"article": "VR1", "quantity": str(1 + n % 3)}], "user": "JEAN"}
            selling.record_ticket(services.store, request, signer)
    finally:
        services.close()


def sync(folder: Path) -> dict[str, Any]:
    done = relais("pos", "sync", "--json", data_dir=folder, **ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def query(folder: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    def read(store: Store) -> list[dict[str, Any]]:
        with store.read() as db:
            return [dict(row) for row in db.execute(sql, params or [])]

    found: list[dict[str, Any]] = with_store(folder, read)
    return found


def tamper(folder: Path, *statements: tuple[str, list[Any]]) -> None:
    """SQL on the register's file, as an intruder would."""

    def write(store: Store) -> None:
        with store.write() as db:
            for sql, params in statements:
                db.execute(sql, params)

    with_store(folder, write)


def verified(shop: Shop, register: int | None = None) -> list[trail_office.RegisterCheck]:
    checks: list[trail_office.RegisterCheck] = with_store(
        shop.office_dir, lambda store: trail_office.verify_office(store, register)
    )
    return checks


def received_rows(shop: Shop) -> list[dict[str, Any]]:
    return query(shop.office_dir, "SELECT chain, seq FROM pos_trail_received ORDER BY chain, seq")


def verify_cli(shop: Shop, *args: str) -> tuple[int, list[bool]]:
    """`relais pos verify --json` on the office: its exit code and each register's verdict."""
    done = relais("pos", "verify", *args, "--json", data_dir=shop.office_dir, **ENV)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done.returncode, [item["ok"] for item in json.loads(done.stdout)["registers"]]


# A ticket's outbox record, found by the place of the signed row it carries.
TRAIL_OUTBOX = "FROM MICPTRACK WHERE kind = 'ticket' AND json_extract(payload, '$.trail.seq') = ?"


def test_the_office_checks_each_register_chain_and_names_the_altered_record(
    tmp_path: Path, relais_server: Any
) -> None:
    shop = open_shop(tmp_path, relais_server)
    for folder in shop.registers.values():
        sell(folder, 3)
        sync(folder)
    keys = query(shop.office_dir, "SELECT r.number, k.key_id, k.public_key FROM pos_register_keys k"
                 " JOIN pos_registers r ON r.id = k.register_id ORDER BY r.number")  # fmt: skip
    assert [key["number"] for key in keys] == [3, 4]
    for key, folder in zip(keys, shop.registers.values(), strict=True):
        setting = query(folder, "SELECT value FROM settings WHERE key = 'pos.trail_public_key'")
        assert json.loads(setting[0]["value"]) == key["public_key"]
        signed = query(folder, "SELECT chain, seq, signature FROM pos_trail ORDER BY chain, seq")
        received = query(
            shop.office_dir,
            "SELECT t.chain, t.seq, t.signature FROM pos_trail_received t JOIN pos_registers r"
            " ON r.id = t.register_id WHERE r.number = ? ORDER BY t.chain, t.seq",
            [key["number"]],
        )
        assert received == signed and len(signed) >= 3
    assert [check.as_dict()["ok"] for check in verified(shop)] == [True, True]
    assert verify_cli(shop) == (0, [True, True])

    # Register 3 sells three more; the fifth ticket's signed row is edited before it is sent.
    sell(shop.registers[3], 3)
    row = query(shop.registers[3], f"SELECT id, payload {TRAIL_OUTBOX}", [5])[0]
    payload = json.loads(row["payload"])
    fields = json.loads(payload["trail"]["fields"])
    fields["total_incl_vat"] = "1.00"
    altered = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    payload["trail"]["fields"] = altered
    tamper(
        shop.registers[3],
        ("UPDATE MICPTRACK SET payload = ? WHERE id = ?", [json.dumps(payload), row["id"]]),
        ("UPDATE pos_trail SET fields = ? WHERE chain = 'ticket' AND seq = 5", [altered]),
    )
    pushed = sync(shop.registers[3])
    assert pushed["records_rejected"] == [], "a broken chain never blocks the sync"
    assert query(shop.registers[3], "SELECT DISTINCT state FROM MICPTRACK") == [{"state": "sent"}]

    breaks = query(shop.office_dir, "SELECT chain, seq, problem, params FROM pos_trail_breaks")
    assert [(b["chain"], b["seq"]) for b in breaks] == [("ticket", 5)]
    assert "signature does not match" in breaks[0]["problem"]
    assert json.loads(breaks[0]["params"])["ref"] == "C3-000005"
    kept = query(
        shop.office_dir,
        "SELECT t.seq FROM pos_trail_received t JOIN pos_registers r ON r.id = t.register_id"
        " WHERE r.number = 3 AND t.chain = 'ticket' ORDER BY t.seq",
    )
    assert [row["seq"] for row in kept] == [1, 2, 3, 4, 5, 6], "rows after a break still kept"

    page = httpx.get(shop.office.url + "/pos/office/registers").text
    assert 'data-trail="broken"' in page and "C3-000005" in page
    assert page.count('data-trail="ok"') == 1  # register 4, untouched
    assert "a été modifié" in page  # in French, the shop's language

    [three] = verified(shop, 3)
    assert not three.as_dict()["ok"]
    assert (three.breaks[0].chain, three.breaks[0].seq) == ("ticket", 5)
    assert "C3-000005" in three.as_dict()["breaks"][0]["text"]
    # The signed record says 1.00; the ticket the office received says what was sold.
    differs = [b for b in three.breaks if b.problem.startswith("The office's ticket")]
    assert [(b.seq, b.params["ref"], b.params["signed"]) for b in differs] == [
        (5, "C3-000005", "1.00")
    ]
    code, answers = verify_cli(shop, "--register", "3")
    assert (code, answers) == (1, [False])
    assert verify_cli(shop, "--register", "4") == (0, [True])
    [four] = verified(shop, 4)
    assert four.as_dict()["ok"] and four.records >= 3

    # A replayed push: every record answered already_applied, nothing changes at the office.
    tamper(shop.registers[4], ("UPDATE MICPTRACK SET state = 'queued'", []))
    before = query(
        shop.office_dir, "SELECT * FROM pos_trail_received ORDER BY register_id, chain, seq"
    )
    again = sync(shop.registers[4])
    queued = query(shop.registers[4], "SELECT id FROM MICPTRACK")
    assert again["records_sent"] == len(queued) >= 4 and again["records_rejected"] == []
    after = query(
        shop.office_dir, "SELECT * FROM pos_trail_received ORDER BY register_id, chain, seq"
    )
    assert after == before
    assert verified(shop, 4)[0].as_dict()["ok"]
    assert len(query(shop.office_dir, "SELECT * FROM pos_trail_breaks")) == 1


def test_a_row_deleted_before_it_was_sent_is_missing_at_the_office(
    tmp_path: Path, relais_server: Any
) -> None:
    shop = open_shop(tmp_path, relais_server, (3,))
    folder = shop.registers[3]
    sell(folder, 6)
    row = query(folder, f"SELECT id {TRAIL_OUTBOX}", [4])[0]
    tamper(
        folder,
        ("DELETE FROM MICPTRACK WHERE id = ?", [row["id"]]),
        ("DELETE FROM pos_trail WHERE chain = 'ticket' AND seq = 4", []),
    )
    assert sync(folder)["records_rejected"] == []
    breaks = query(shop.office_dir, "SELECT chain, seq, problem, params FROM pos_trail_breaks")
    assert [(b["chain"], b["seq"], b["problem"]) for b in breaks] == [
        ("ticket", 4, "{chain} record {seq} is missing.")
    ]
    [check] = verified(shop, 3)
    tickets = [row for row in received_rows(shop) if row["chain"] == "ticket"]
    assert [row["seq"] for row in tickets] == [1, 2, 3, 5, 6] and check.breaks[0].seq == 4
    words = relais("pos", "verify", "--register", "3", data_dir=shop.office_dir, **ENV)
    assert words.returncode == 1 and "C3-000004" not in words.stdout  # missing: no record
    assert "4" in words.stdout, words.stdout + words.stderr
    page = httpx.get(shop.office.url + "/pos/office/registers").text
    assert 'data-trail="broken"' in page


def push(shop: Shop, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = httpx.post(
        shop.pos_url + protocol.API + "/outbox",
        json={"records": records},
        headers={"Authorization": f"Bearer {shop.tokens[3]}"},
    )
    assert response.status_code == 200, response.text
    answers: list[dict[str, Any]] = response.json()["results"]
    return answers


def test_unreadable_rows_and_keys_are_refused_and_nothing_is_kept(
    tmp_path: Path, relais_server: Any
) -> None:
    shop = open_shop(tmp_path, relais_server, ())
    good = {
        "chain": "ticket", "seq": 1, "kind": "sale", "ref": "C3-000001", "recorded_at": "x",
        "fields": "{}", "previous": "", "signature": "AA", "key_id": "k",
    }  # fmt: skip
    bad = [
        {**good, "chain": "nope"},
        {**good, "seq": 0},
        {**good, "seq": True},
        {**good, "fields": 12},
        {**good, "fields": "x" * 70_000},
        {key: value for key, value in good.items() if key != "signature"},
    ]
    records = [
        {"id": f"R3-bad-{n}", "register": 3, "seq": n, "kind": "trail", "payload": payload}
        for n, payload in enumerate(bad, 1)
    ]
    keys = [
        {"key_id": "abc", "public_key": "AAAA"},
        {"key_id": "0000000000000000", "public_key": "A" * 43},
        {"public_key": "A" * 43},
    ]
    records += [
        {"id": f"R3-key-{n}", "register": 3, "seq": 10 + n, "kind": "trail_key", "payload": key}
        for n, key in enumerate(keys)
    ]
    unknown = relais("pos", "verify", "--register", "9", data_dir=shop.office_dir, **ENV)
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    answers = push(shop, records)
    assert [answer["status"] for answer in answers] == ["rejected"] * len(records)
    assert all(answer["reason"] for answer in answers)
    for table in ("pos_trail_received", "pos_trail_breaks", "pos_register_keys"):
        assert query(shop.office_dir, f"SELECT * FROM {table}") == []
    # A good-looking row signed by a key the office never received: kept, and a break.
    answers = push(shop, [{"id": "R3-row", "register": 3, "kind": "trail", "payload": good}])
    assert answers[0]["status"] == "applied"
    breaks = query(shop.office_dir, "SELECT chain, seq, problem FROM pos_trail_breaks")
    assert [(b["chain"], b["seq"], b["problem"]) for b in breaks] == [
        ("ticket", 1, "{chain} record {seq} is signed by an unknown key {key}.")
    ]


def test_a_ticket_carries_its_signed_row_kept_even_when_the_ticket_is_refused(
    tmp_path: Path, relais_server: Any
) -> None:
    shop = open_shop(tmp_path, relais_server, ())
    row = {
        "chain": "ticket", "seq": 1, "kind": "sale", "ref": "C3-000001", "recorded_at": "x",
        "fields": "{}", "previous": "", "signature": "AA", "key_id": "k",
    }  # fmt: skip
    no_lines: dict[str, Any] = {
        "number": "C3-000001",
        "sold_at": "2026-12-01T10:00:00Z",
        "lines": [],
    }
    records = [
        {"id": "R3-t1", "register": 3, "kind": "ticket", "payload": {**no_lines, "trail": row}},
        {"id": "R3-t2", "register": 3, "kind": "ticket", "payload": {**no_lines, "trail": "x"}},
    ]
    answers = push(shop, records)
    assert [answer["status"] for answer in answers] == ["rejected", "rejected"]
    assert "line" in answers[0]["reason"]  # the ticket's own fault: its row is kept all the same
    assert answers[1]["reason"] == "The ticket's signed row must be an object."
    assert received_rows(shop) == [{"chain": "ticket", "seq": 1}]
    assert query(shop.office_dir, "SELECT id FROM documents") == []

    # A ticket refused one record at a time (its number is taken): its row is kept all the same.
    line = {"article": "VB1", "quantity": "1", "unit_price_incl_vat": "12.00", "vat_rate": "20"}
    sale = {**no_lines, "number": "C3-000009", "lines": [line]}
    again = {**sale, "trail": {**row, "seq": 2, "ref": "C3-000009"}}
    answers = push(
        shop,
        [
            {"id": "R3-t3", "register": 3, "kind": "ticket", "payload": sale},
            {"id": "R3-t4", "register": 3, "kind": "ticket", "payload": again},
        ],
    )
    assert [answer["status"] for answer in answers] == ["applied", "rejected"], answers
    assert "already used" in answers[1]["reason"]
    assert received_rows(shop) == [{"chain": "ticket", "seq": 1}, {"chain": "ticket", "seq": 2}]


def test_a_closed_days_sale_is_not_voided_at_the_office(tmp_path: Path, relais_server: Any) -> None:
    """The office and a register as real processes: the register closes its day, then a void of
    a sale of that day is refused at the office too (pushed by hand: the register refuses to make
    one); a sale after the closure is voided on the register and applied at the office."""
    from datetime import date

    from webapp.pos import refunds, ticket_rules

    shop = open_shop(tmp_path, relais_server, (3,))
    folder = shop.registers[3]
    sell(folder, 2)
    closed = relais(
        "pos", "close", "day", "--date", date.today().isoformat(), "--json",
        data_dir=folder, **ENV,
    )  # fmt: skip
    assert closed.returncode == 0, closed.stdout + closed.stderr
    sync(folder)
    first = query(folder, "SELECT number FROM pos_tickets ORDER BY number")[0]["number"]

    def forged_void(store: Store) -> dict[str, Any]:
        with store.read() as db:
            sale = json.loads(
                db.execute("SELECT payload FROM pos_tickets WHERE number = ?", [first]).fetchone()[
                    0
                ]
            )
            payload = refunds.build_refund(db, sale, refunds.ALL, "C3-900001", None)
        return {**payload, "kind": ticket_rules.VOID}

    payload = with_store(folder, forged_void)
    answers = push(shop, [{"id": "R3-forged", "register": 3, "kind": "ticket", "payload": payload}])
    assert answers[0]["status"] == "rejected", answers
    assert "closed day" in answers[0]["reason"] and first in answers[0]["reason"]
    assert not query(shop.office_dir, "SELECT id FROM documents WHERE number = 'C3-900001'")

    sell(folder, 1)  # after the closure: its day is open
    last = query(folder, "SELECT number FROM pos_tickets ORDER BY number DESC")[0]["number"]
    voided = relais("pos", "void", last, "--json", data_dir=folder, **ENV)
    assert voided.returncode == 0, voided.stdout + voided.stderr
    refused = relais("pos", "void", first, "--json", data_dir=folder, **ENV)
    assert refused.returncode == 2, refused.stdout  # the register's own rule, the same words
    sync(folder)
    given_back = query(
        shop.office_dir, "SELECT total_incl_vat FROM documents WHERE total_incl_vat < 0"
    )
    assert len(given_back) == 1  # the void of the open day's sale, once
    assert verify_cli(shop) == (0, [True, True])  # registers 3 and 4: every chain holds
