"""`relais pos refund` on a register data folder joined to a real office (`relais serve
--pos-listen`): a sale refunded whole, both sent to the office, the chains still verified; a
refused refund exits 2 with its reason and writes nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import RelaisServer, relais
from tests.pos_fixtures import PASSPHRASE, seed_office
from webapp.config import resolve_data_dir
from webapp.store import Store

ENV = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}


def count(folder: Path, sql: str) -> int:
    with sqlite3.connect(resolve_data_dir(folder).database) as db:
        return int(db.execute(sql).fetchone()[0])


def written(folder: Path) -> tuple[int, int]:
    return (
        count(folder, "SELECT count(*) FROM pos_tickets"),
        count(folder, "SELECT count(*) FROM pos_trail"),
    )


def test_refund_on_the_command_line(tmp_path: Path) -> None:
    office_dir, register_dir = tmp_path / "office", tmp_path / "register"
    office = RelaisServer(office_dir, "--pos-listen", "127.0.0.1:0", **ENV)
    try:
        pos_url = json.loads((office_dir / "pos.json").read_text())["url"]
        added = relais("pos", "register", "add", "3", "--json", data_dir=office_dir, **ENV)
        assert added.returncode == 0, added.stderr
        token = json.loads(added.stdout)["token"]
        store = Store(resolve_data_dir(office_dir).database)
        try:
            seed_office(store)
        finally:
            store.close()
        joined = relais(
            "pos", "join", "--server", pos_url, "--register", "3", "--token", token,
            data_dir=register_dir, **ENV,
        )  # fmt: skip
        assert joined.returncode == 0, joined.stderr
        assert relais("pos", "sync", data_dir=register_dir, **ENV).returncode == 0
        sold = relais("pos", "sell", "VR1:2", "--json", data_dir=register_dir, **ENV)
        assert sold.returncode == 0, sold.stderr
        number = json.loads(sold.stdout)["number"]

        refund = relais("pos", "refund", number, "VR1:1", "--json", data_dir=register_dir, **ENV)
        assert refund.returncode == 0, refund.stderr
        assert json.loads(refund.stdout)["refunds"] == number
        before = written(register_dir)
        for words in (["VR1:2"], ["VB1:1"], ["VR1"], ["VR1:-1"]):  # too much, not sold, bad
            refused = relais("pos", "refund", number, *words, data_dir=register_dir, **ENV)
            assert refused.returncode == 2, refused.stdout
            assert "Traceback" not in refused.stderr
        unknown = relais(
            "pos", "refund", "C3-999999", "--all", "--json", data_dir=register_dir, **ENV
        )
        assert unknown.returncode == 2 and "C3-999999" in json.loads(unknown.stdout)["error"]
        assert written(register_dir) == before
        rest = relais("pos", "refund", number, "--all", "--json", data_dir=register_dir, **ENV)
        assert rest.returncode == 0, rest.stderr
        assert json.loads(rest.stdout)["total_incl_vat"] == "-14.50"
        # A void: a refunded sale cannot be voided; a fresh one can, once.
        refused = relais("pos", "void", number, "--json", data_dir=register_dir, **ENV)
        assert refused.returncode == 2 and "rembours" in json.loads(refused.stdout)["error"]
        fresh = relais("pos", "sell", "VB1:1", "--json", data_dir=register_dir, **ENV)
        fresh_number = json.loads(fresh.stdout)["number"]
        by_gift = relais(
            "pos", "void", fresh_number, "--method", "GIFT", "--json",
            data_dir=register_dir, **ENV,
        )  # fmt: skip
        assert by_gift.returncode == 2 and "GIFT" in json.loads(by_gift.stdout)["error"]
        void = relais(
            "pos", "void", fresh_number, "--method", "CARD", "--json",
            data_dir=register_dir, **ENV,
        )  # fmt: skip
        assert void.returncode == 0, void.stderr
        assert json.loads(void.stdout)["voids"] == fresh_number
        again = relais("pos", "void", fresh_number, data_dir=register_dir, **ENV)
        assert again.returncode == 2 and "Traceback" not in again.stderr

        assert relais("pos", "sync", data_dir=register_dir, **ENV).returncode == 0
    finally:
        office.stop()
    checked = relais("pos", "verify", "--json", data_dir=register_dir)
    assert checked.returncode == 0, checked.stdout
    totals = count(office_dir, "SELECT count(*) FROM documents WHERE kind = 'ticket'")
    assert totals == 5
    given_back = count(
        office_dir, "SELECT count(*) FROM documents WHERE kind = 'ticket' AND total_incl_vat < 0"
    )
    assert given_back == 3
    by_card = count(
        office_dir,
        "SELECT count(*) FROM document_payments p JOIN documents d ON d.id = p.document_id"
        " JOIN payment_methods m ON m.id = p.payment_method_id WHERE m.code = 'CARD'"
        " AND d.total_incl_vat < 0",
    )
    assert by_card == 1  # the void's money went back by card, at the office too
