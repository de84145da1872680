"""An archive sent to a real office: two processes on 127.0.0.1, each with its own data folder.

The register writes its month's archive on the command line and syncs; the office (`relais serve
--pos-listen`) puts the `archive_part` records together under its own `archives/register-3/`,
where the file is the register's, byte for byte, and checks with the key the office holds.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.conftest import relais
from tests.pos_fixtures import PASSPHRASE, seed_office
from tests.test_pos_integration import free_port
from webapp.config import resolve_data_dir
from webapp.pos import selling, trail_keys
from webapp.services import open_services
from webapp.store import Store


def test_a_months_archive_reaches_the_office_whole(tmp_path: Path, relais_server: Any) -> None:
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}
    office_dir, register_dir = tmp_path / "office", tmp_path / "register"
    listen = f"127.0.0.1:{free_port()}"
    relais_server("--pos-listen", listen, data_dir=office_dir, **env)
    added = relais("pos", "register", "add", "3", "--json", data_dir=office_dir, **env)
    assert added.returncode == 0, added.stderr
    store = Store(resolve_data_dir(office_dir).database)
    try:
        seed_office(store)
    finally:
        store.close()
    token = json.loads(added.stdout)["token"]
    joined = relais(
        "pos", "join", "--server", f"http://{listen}", "--register", "3", "--token", token,
        data_dir=register_dir, **env,
    )  # fmt: skip
    assert joined.returncode == 0, joined.stderr
    assert relais("pos", "sync", data_dir=register_dir, **env).returncode == 0
    register = open_services(resolve_data_dir(register_dir), vault_backend="file")
    try:
        register.vault.unlock(PASSPHRASE)
        signer = selling.signer_for(register.store, register.vault)
        for count in range(30):
            line = {"article": "VR1", "quantity": str(1 + count % 3)}
            selling.record_ticket(register.store, {"lines": [line], "user": "MARIE"}, signer)
        public_key = trail_keys.load_signer(register.vault).public_key
    finally:
        register.close()

    period = f"{datetime.now():%Y-%m}"
    made = relais(
        "pos", "archive", "make", "month", "--period", period, "--json",
        data_dir=register_dir, **env,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    written = json.loads(made.stdout)
    assert written["counts"]["tickets"] == 30
    synced = relais("pos", "sync", "--json", data_dir=register_dir, **env)
    assert synced.returncode == 0, synced.stdout + synced.stderr

    name = f"relais-register-3-{period}.zip"
    received = resolve_data_dir(office_dir).path / "archives" / "register-3" / name
    assert received.read_bytes() == Path(written["file"]).read_bytes()
    checked = relais(
        "pos", "archive", "verify", str(received), "--key", public_key, "--json",
        data_dir=tmp_path / "elsewhere",
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["register"] == 3
