"""The office killed (kill -9) in the middle of one transaction of a pushed batch, then restarted:
the records of the open transaction were never committed nor answered, and every ticket ends up
exactly once in the back office.

The first office is the real POS app in a child process, with transactions of 100 records and a
ticket that stalls inside its INSERT (a temporary trigger of that process), so the kill lands while
tickets 199 to 224 are written but not committed (each ticket carries its signed chain row; the
first comes behind the register's key and the seller's login: 200 records are tickets 1 to 198).
The second office is `relais serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO, relais_env
from tests.pos_fixtures import PASSPHRASE, fast_client, seed_office
from tests.test_pos_integration import free_port, office_counts
from webapp.config import resolve_data_dir
from webapp.pos import (
    office,
    outbox,
    register_config,
    selling,
    synchroniser,
    updates_office,
)
from webapp.pos.register_client import OfficeClient, OfficeError
from webapp.services import open_services

TICKETS = 300
STALLS_AT = "C3-000225"

STALLING_OFFICE = """
import pathlib, sys, time
import uvicorn
from webapp.config import resolve_data_dir
from webapp.pos import office_records
from webapp.pos.api import PosApp
from webapp.services import open_services
from webapp.sockets import bind_socket

folder, port, marker, number = sys.argv[1:5]
office_records.CHUNK_RECORDS = 100
office_records.CHUNK_SECONDS = 3600.0
services = open_services(resolve_data_dir(pathlib.Path(folder)), vault_backend="file")

def stall(value):
    pathlib.Path(marker).write_text(value)
    time.sleep(3600)

with services.store.write() as db:
    db.conn.create_function("office_stall", 1, stall)
    db.execute(
        "CREATE TEMP TRIGGER stall BEFORE INSERT ON documents WHEN NEW.number = ?"
        " BEGIN SELECT office_stall(NEW.number); END".replace("?", repr(number))
    )
config = uvicorn.Config(PosApp(services), log_config=None, access_log=False, lifespan="off")
sock = bind_socket("127.0.0.1", int(port), fallback=False)
uvicorn.Server(config).run(sockets=[sock])
"""


def outbox_count(store: Any) -> int:
    """The register's records: each ticket (with its signed row), the register's key, and the
    technical events of its chains (a connection lost)."""
    with store.read() as db:
        return int(db.execute("SELECT count(*) FROM MICPTRACK").fetchone()[0])


def received_count(office_dir: Path) -> int:
    services = open_services(resolve_data_dir(office_dir), vault_backend="file")
    try:
        with services.store.read() as db:
            return int(db.execute("SELECT count(*) FROM pos_received").fetchone()[0])
    finally:
        services.close()


def wait_until(ready: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return False
    return True


@pytest.mark.slow
def test_office_killed_inside_a_transaction_of_a_batch(tmp_path: Path, relais_server: Any) -> None:
    office_dir, register_dir = tmp_path / "office", tmp_path / "register"
    services = open_services(resolve_data_dir(office_dir), vault_backend="file")
    try:
        services.vault.create(PASSPHRASE)
        _register, token = office.add_register(services.store, 3)
        office.add_register(services.store, 4)
        updates_office.signing_key(services.store, services.vault)
        seed_office(services.store)
    finally:
        services.close()
    port, marker = free_port(), tmp_path / "stalled"
    url = f"http://127.0.0.1:{port}"
    first = subprocess.Popen(
        [sys.executable, "-c", STALLING_OFFICE, str(office_dir), str(port), str(marker), STALLS_AT],
        env=relais_env(),
        cwd=REPO,
    )
    try:
        wait_until(lambda: answers(url))
        register = open_services(resolve_data_dir(register_dir), vault_backend="file")
        try:
            register.vault.create(PASSPHRASE)
            register_config.join(register.store, register.vault, url, 3, token, fast_client)
            synchroniser.sync_once(register.store, register.vault, fast_client)  # the articles
            for count in range(TICKETS):
                line = {"article": "VR1", "quantity": str(1 + count % 3)}
                selling.record_ticket(
                    register.store,
                    {"lines": [line], "user": "MARIE"},
                    selling.signer_for(register.store, register.vault),
                )
            failed: list[BaseException] = []

            def push() -> None:
                with OfficeClient(url, token, timeout=120) as client:
                    try:
                        outbox.push_outbox(register.store, client, 3)
                    except OfficeError as exc:
                        failed.append(exc)

            pushing = threading.Thread(target=push)
            pushing.start()
            wait_until(marker.exists)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(30)
            pushing.join(60)
            assert failed, "the office died before answering"
            # Two transactions of 100 committed; the third (tickets 199 to 224) never was.
            assert office_counts(office_dir) == (198, 198)
            assert received_count(office_dir) == 200
            records = outbox_count(register.store)
            assert records > TICKETS
            assert len(outbox.queued(register.store, 10_000)) == records, "all still queued"
        finally:
            register.close()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    relais_server(
        "--pos-listen", f"127.0.0.1:{port}", data_dir=office_dir, RELAIS_VAULT_PASSPHRASE=PASSPHRASE
    )
    register = open_services(resolve_data_dir(register_dir), vault_backend="file")
    try:
        with OfficeClient(url, token, timeout=120) as client:
            pushed = outbox.push_outbox(register.store, client, 3)
        records = outbox_count(register.store)
        assert (pushed.sent, pushed.rejected) == (records, [])
        assert outbox.queued(register.store, 10_000) == []
    finally:
        register.close()
    assert office_counts(office_dir) == (TICKETS, TICKETS), "every ticket exactly once"
    assert received_count(office_dir) == records
