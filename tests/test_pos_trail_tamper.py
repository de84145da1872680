"""Tamper evidence on a real register (issue 17): `relais pos verify` finds what an intruder did.

A real office (`relais serve --pos-listen`) and a register data folder joined to it with
`relais pos join`, that sold its tickets with `relais pos sell` and printed duplicates with
`relais pos reprint`. Each case edits a copy of that folder's SQLite file with plain SQL, as an
intruder would, and runs `relais pos verify` in a child process, without the vault's passphrase
(the public key is in the settings). Then a register killed (kill -9) while recording tickets."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, RelaisServer, relais, relais_env
from tests.pos_fixtures import PASSPHRASE, seed_office
from webapp.config import resolve_data_dir
from webapp.store import Store

ENV = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}
SOLD = ("VR1:2", "VB1", "FRO:0.5", "VR1")


@pytest.fixture(scope="module")
def sold_register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A register folder that joined a real office and sold four tickets through the CLI."""
    root = tmp_path_factory.mktemp("trail")
    office_dir, register_dir = root / "office", root / "register"
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
    finally:
        office.stop()
    for item in SOLD:  # offline from here: the register signs alone
        sold = relais("pos", "sell", item, "--json", data_dir=register_dir, **ENV)
        assert sold.returncode == 0, sold.stderr
    for expected in (0, 1, 2):
        printed = relais("pos", "reprint", "C3-000001", "--json", data_dir=register_dir, **ENV)
        assert printed.returncode == 0, printed.stderr
        assert json.loads(printed.stdout)["duplicate"] == expected
    return register_dir


def verify(folder: Path) -> tuple[int, dict[str, object]]:
    done = relais("pos", "verify", "--json", data_dir=folder)  # no passphrase given
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def tampered(source: Path, target: Path, *statements: str) -> Path:
    shutil.copytree(source, target)
    database = resolve_data_dir(target).database
    with sqlite3.connect(database) as db:
        for statement in statements:
            db.execute(statement)
    return target


CASES = {
    "ticket amount edited": (
        [
            "UPDATE pos_tickets SET total_incl_vat = '1.00',"
            " payload = json_set(payload, '$.total_incl_vat', '1.00') WHERE number = 'C3-000002'"
        ],
        "ticket",
        "C3-000002",
    ),
    "signed amount edited": (
        [
            "UPDATE pos_trail SET fields = json_set(fields, '$.total_incl_vat', '1.00')"
            " WHERE chain = 'ticket' AND seq = 2"
        ],
        "ticket",
        "C3-000002",
    ),
    "ticket deleted": (
        ["DELETE FROM pos_tickets WHERE number = 'C3-000003'"],
        "ticket",
        "C3-000003",
    ),
    "ticket and its row deleted": (
        [
            "DELETE FROM pos_tickets WHERE number = 'C3-000002'",
            "DELETE FROM pos_trail WHERE chain = 'ticket' AND ref = 'C3-000002'",
        ],
        "ticket",
        None,
    ),
    "rows reordered": (  # the second ticket's row moved after every other row
        [
            "UPDATE pos_trail SET id = (SELECT max(id) + 100 FROM pos_trail)"
            " WHERE chain = 'ticket' AND seq = 2"
        ],
        "ticket",
        None,
    ),
    "duplicate deleted": (
        ["DELETE FROM pos_trail WHERE chain = 'duplicate' AND seq = 2"],
        "duplicate",
        None,
    ),
}


def test_verify_names_every_tampering(sold_register: Path, tmp_path: Path) -> None:
    code, clean = verify(sold_register)
    assert (code, clean["ok"], clean["breaks"]) == (0, True, [])
    text = relais("pos", "verify", data_dir=sold_register)
    assert text.returncode == 0 and text.stdout.strip()
    for name, (statements, chain, ticket) in CASES.items():
        folder = tampered(sold_register, tmp_path / name.replace(" ", "-"), *statements)
        code, found = verify(folder)
        assert code == 1 and found["ok"] is False, name
        breaks = found["breaks"]
        assert isinstance(breaks, list) and breaks, name
        assert breaks[0]["chain"] == chain, (name, breaks)
        if ticket:
            assert any(ticket in (b["ref"], b["params"].get("number")) for b in breaks), breaks
    plain = relais("pos", "verify", data_dir=tmp_path / "ticket-deleted")
    assert plain.returncode == 1 and "C3-000003" in plain.stdout + plain.stderr


def test_verify_refuses_a_folder_that_never_joined(tmp_path: Path) -> None:
    done = relais("pos", "verify", "--json", data_dir=tmp_path / "alone")
    assert done.returncode == 2 and json.loads(done.stdout)["ok"] is False


SELLING = """
import pathlib, sys
from webapp.config import resolve_data_dir
from webapp.pos import selling
from webapp.services import open_services

services = open_services(resolve_data_dir(pathlib.Path(sys.argv[1])), vault_backend="file")
services.vault.unlock(sys.argv[2])
signer = selling.signer_for(services.store, services.vault)
n = 0
while True:
    n += 1
    line = {"article": "VR1", "quantity": str(1 + n % 3)}
    selling.record_ticket(services.store, {"lines": [line]}, signer)
"""


def ticket_count(folder: Path) -> int:
    with sqlite3.connect(resolve_data_dir(folder).database, timeout=30) as db:
        return int(db.execute("SELECT count(*) FROM pos_tickets").fetchone()[0])


@pytest.mark.slow
def test_killed_in_the_middle_of_a_sale_leaves_every_chain_valid(
    sold_register: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "killed"
    shutil.copytree(sold_register, folder)
    child = subprocess.Popen(
        [sys.executable, "-c", SELLING, str(folder), PASSPHRASE], env=relais_env(), cwd=REPO
    )
    try:
        deadline = time.monotonic() + 120
        while ticket_count(folder) < 60:
            assert child.poll() is None, "the selling process stopped"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    code, found = verify(folder)
    assert (code, found["breaks"]) == (0, [])
    with sqlite3.connect(resolve_data_dir(folder).database) as db:
        tickets = db.execute("SELECT count(*) FROM pos_tickets").fetchone()[0]
        signed = db.execute("SELECT count(*) FROM pos_trail WHERE chain = 'ticket'").fetchone()[0]
        queued = db.execute("SELECT count(*) FROM MICPTRACK WHERE kind = 'ticket'").fetchone()[0]
    assert tickets == signed == queued >= 60
    # The register goes on where the chain stopped.
    sold = relais("pos", "sell", "VB1", "--json", data_dir=folder, **ENV)
    assert sold.returncode == 0, sold.stderr
    assert verify(folder)[0] == 0
