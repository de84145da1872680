"""`relais pos join --code CODE` (issue 16): the office page's join code on the command line,
against an office's real register API on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import relais
from webapp.config import resolve_data_dir
from webapp.pos import join_code, listener, office, register_config
from webapp.services import Services
from webapp.store import Store

PASSPHRASE = "join-cli-passphrase"


def test_join_with_the_code(services: Services, tmp_path: Path) -> None:
    services.vault.create(PASSPHRASE)
    running = listener.start(services, listener.ListenerConfig("127.0.0.1", 0))
    _register, token = office.add_register(services.store, 7)
    code = join_code.encode(running.public_url(), 7, token)
    reg = tmp_path / "register-data"
    env = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}

    typo = code[:12] + ("A" if code[12] != "A" else "B") + code[13:]
    bad = relais("pos", "join", "--code", typo, "--json", data_dir=reg, **env)
    refusal = json.loads(bad.stdout)
    assert bad.returncode == 2 and refusal["ok"] is False and refusal["error"]
    assert "Traceback" not in bad.stderr
    both = relais("pos", "join", "--code", code, "--register", "7", data_dir=reg, **env)
    assert both.returncode == 2 and "--code" in both.stderr
    neither = relais("pos", "join", data_dir=reg, **env)
    assert neither.returncode == 2 and "--code" in neither.stderr

    joined = relais("pos", "join", "--code", "-", "--json", data_dir=reg, input=code + "\n", **env)
    assert joined.returncode == 0, joined.stderr
    answer = json.loads(joined.stdout)
    assert (answer["ok"], answer["register"], answer["server"]) == (True, 7, running.url)
    store = Store(resolve_data_dir(reg).database)
    try:
        config = register_config.load_config(store)
        with store.read() as db:  # the join is the JET's data initialization (260)
            events = [
                row[0] for row in db.execute("SELECT kind FROM pos_trail WHERE chain = 'event'")
            ]
    finally:
        store.close()
    assert config is not None and (config.number, config.server_url) == (7, running.url)
    assert events == ["260"]
