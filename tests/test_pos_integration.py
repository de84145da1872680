"""Office and register as two real processes on 127.0.0.1, each with its own data folder: tickets
sold while the office is down, then the office killed (kill -9) in the middle of the push and
restarted — every ticket ends up exactly once in the back office."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import REPO, relais, relais_env
from tests.pos_fixtures import PASSPHRASE, seed_office
from webapp.config import resolve_data_dir
from webapp.pos import selling
from webapp.services import open_services
from webapp.sockets import bind_socket
from webapp.store import Store

TICKETS = 400


def free_port() -> int:
    sock = bind_socket("127.0.0.1", 0, fallback=False)
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def office_counts(office_dir: Path) -> tuple[int, int]:
    store = Store(resolve_data_dir(office_dir).database)
    try:
        with store.read() as db:
            row = db.execute(
                "SELECT count(*), count(DISTINCT external_ref) FROM documents WHERE kind = 'ticket'"
            ).fetchone()
    finally:
        store.close()
    return int(row[0]), int(row[1])


def test_office_killed_in_the_middle_of_a_push(tmp_path: Path, relais_server: Any) -> None:
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}
    office_dir, register_dir = tmp_path / "office", tmp_path / "register"
    port = free_port()
    listen = f"127.0.0.1:{port}"
    office = relais_server("--pos-listen", listen, data_dir=office_dir, **env)
    for number in ("3", "4"):
        added = relais("pos", "register", "add", number, "--json", data_dir=office_dir, **env)
        assert added.returncode == 0, added.stderr
        if number == "3":
            token = json.loads(added.stdout)["token"]
    store = Store(resolve_data_dir(office_dir).database)
    try:
        seed_office(store)
    finally:
        store.close()
    joined = relais(
        "pos",
        "join",
        "--server",
        f"http://{listen}",
        "--register",
        "3",
        "--token",
        token,
        data_dir=register_dir,
        **env,
    )
    assert joined.returncode == 0, joined.stderr
    assert relais("pos", "sync", data_dir=register_dir, **env).returncode == 0

    office.stop()
    register = open_services(resolve_data_dir(register_dir), vault_backend="file")
    try:
        register.vault.unlock(PASSPHRASE)  # each ticket is signed with the key kept there
        signer = selling.signer_for(register.store, register.vault)
        for count in range(TICKETS):
            selling.record_ticket(
                register.store,
                {"lines": [{"article": "VR1", "quantity": str(1 + count % 3)}], "user": "MARIE"},
                signer,
            )
    finally:
        register.close()
    down = relais("pos", "sync", "--json", data_dir=register_dir, **env)
    assert down.returncode == 1, "the office is down: nothing pushed, nothing lost"

    office = relais_server("--pos-listen", listen, data_dir=office_dir, **env)
    push = subprocess.Popen(
        [sys.executable, "-m", "webapp", "--data-dir", str(register_dir), "pos", "sync"],
        env=relais_env(**env),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while office_counts(office_dir)[0] < 20:
        assert push.poll() is None, "the push ended before the office could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(office.process.pid, signal.SIGKILL)
    office.process.wait()
    push.wait(60)
    applied_before_crash = office_counts(office_dir)[0]
    assert 0 < applied_before_crash <= TICKETS

    relais_server("--pos-listen", listen, data_dir=office_dir, **env)
    done = relais("pos", "sync", "--json", data_dir=register_dir, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert office_counts(office_dir) == (TICKETS, TICKETS), "every ticket exactly once"
    tickets = json.loads(relais("pos", "tickets", "--json", data_dir=register_dir).stdout)
    assert len(tickets) >= min(TICKETS, 100)
    assert {ticket["state"] for ticket in tickets} == {"sent"}
