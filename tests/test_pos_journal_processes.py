"""The JET across real processes (issue 17): a register's `relais serve` records its start, its
stop, a kill -9 seen at the next start, and the connection to a real office lost and back (only
on the change); then its page in a real Chromium.

The office is the real POS app on a 127.0.0.1 socket in this process (tests/test_pos_register.py),
stopped and started again on the same port; the register is a child process."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from tests.pos_fixtures import PASSPHRASE, Listener, fast_client
from tests.test_pos_register import publish
from webapp.config import resolve_data_dir
from webapp.pos import (
    journal,
    register_config,
    synchroniser,
    trail_keys,
    trail_verify,
    updates_register,
)
from webapp.services import Services, open_services


def joined_folder(tmp_path: Path, url: str, token: str) -> Path:
    """A register's data folder joined to the office, syncing every second."""
    folder = tmp_path / "till"
    till = open_services(resolve_data_dir(folder))
    try:
        till.vault.create(PASSPHRASE)
        register_config.join(till.store, till.vault, url, 3, token, fast_client)
        with till.store.write() as db:
            register_config.write_settings(db, {register_config.SYNC_INTERVAL: 1})
    finally:
        till.close()
    return folder


def events(folder: Path) -> list[tuple[int, dict[str, Any]]]:
    database = resolve_data_dir(folder).database
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        found = connection.execute(
            "SELECT fields FROM pos_trail WHERE chain = 'event' ORDER BY seq"
        ).fetchall()
    finally:
        connection.close()
    return [(json.loads(row[0])["code"], json.loads(row[0])["details"]) for row in found]


def codes(folder: Path) -> list[int]:
    return [code for code, _details in events(folder)]


def wait_for(folder: Path, expected: list[int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while codes(folder) != expected:
        assert time.monotonic() < deadline, f"events {codes(folder)}, expected {expected}"
        time.sleep(0.1)


def serve(relais_server: Any, folder: Path) -> Any:
    return relais_server("--role", "register", data_dir=folder, RELAIS_VAULT_PASSPHRASE=PASSPHRASE)


def test_start_stop_kill_and_the_connection_lost_and_back(
    tmp_path: Path,
    relais_server: Any,
    office_services: Any,
    office_listener: Listener,
    tokens: dict[int, str],
) -> None:
    folder = joined_folder(tmp_path, office_listener.url, tokens[3])
    server = serve(relais_server, folder)
    wait_for(folder, [900])

    office_listener.stop()
    wait_for(folder, [900, 70])
    time.sleep(3)  # several failed rounds: still one event
    assert codes(folder) == [900, 70]
    office_listener.start()
    wait_for(folder, [900, 70, 120])
    time.sleep(2)  # rounds that succeed: nothing more
    assert codes(folder) == [900, 70, 120]

    assert server.stop() == 0
    assert codes(folder) == [900, 70, 120, 40]
    killed = serve(relais_server, folder)
    wait_for(folder, [900, 70, 120, 40, 900])
    killed.process.kill()  # kill -9: no stop event
    killed.process.wait()
    again = serve(relais_server, folder)
    wait_for(folder, [900, 70, 120, 40, 900, 900])
    assert again.stop() == 0
    starts = [details for code, details in events(folder) if code == 900]
    assert [found["unclean_stop"] for found in starts] == [False, False, True]
    assert "Traceback" not in server.output + again.output

    till = open_services(resolve_data_dir(folder))
    try:
        till.vault.unlock(PASSPHRASE)
        signer = trail_keys.load_signer(till.vault)
        with till.store.read() as db:
            keys = {signer.key_id: signer.public_key}
            assert trail_verify.verify_register(db, 3, keys) == []
            assert journal.chain_breaks(db) == []
    finally:
        till.close()


def test_the_journal_page_in_a_browser(
    tmp_path: Path,
    browser: Any,
    relais_server: Any,
    office_services: Any,
    office_listener: Listener,
    tokens: dict[int, str],
) -> None:
    from playwright.sync_api import expect

    from tests.browser_fixtures import CSP_LISTENER, WAIT_MS, Console

    folder = joined_folder(tmp_path, office_listener.url, tokens[3])
    till = open_services(resolve_data_dir(folder))
    try:
        till.vault.unlock(PASSPHRASE)
        for number in range(55):
            journal.record_event_now(
                till.store, till.vault, journal.ERROR, "MARIE", {"message": f"m{number}"}
            )
    finally:
        till.close()
    server = serve(relais_server, folder)
    wait_for(folder, [950] * 55 + [900])
    context = browser.new_context(locale="fr-BE")
    context.add_init_script(CSP_LISTENER)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    console = Console(page)
    try:
        page.goto(server.url + "/pos/journal")
        expect(page.locator("#journal-holds")).to_be_visible()
        rows = page.locator("#journal-rows tr[data-seq]")
        expect(rows).to_have_count(50)
        expect(rows.first).to_have_attribute("data-code", "900")
        page.locator("#journal-more").click()
        expect(rows).to_have_count(56)
        expect(page.locator("#journal-more")).to_have_count(0)
        expect(rows.last).to_contain_text("MARIE")
        expect(rows.last).to_contain_text("m0")
        assert console.errors == []
    finally:
        context.close()
    assert "Traceback" not in server.output


def test_updates_and_a_refused_token_from_a_real_office(
    joined: Services, office_services: Services
) -> None:
    updates_register.set_mode(joined.store, "never")
    good = publish(office_services, "settings", {"language": "en"})
    templates = publish(office_services, "templates", {"ticket.html": "<p>x</p>"})
    worker = synchroniser.Synchroniser(joined.store, joined.vault, interval=1, factory=fast_client)
    assert worker.run_round()
    with joined.store.read() as db:
        found = [(e["code"], e["details"]) for e in reversed(journal.list_events(db))]
    assert found == [
        (920, {"number": good}),
        (
            921,
            {
                "number": templates,
                "reason": "Template updates are not applied by this version of the register.",
            },
        ),
    ]

    joined.vault.set(register_config.TOKEN_SECRET, "not-the-token")
    assert not worker.run_round()
    assert not worker.run_round()
    with joined.store.read() as db:
        last = journal.list_events(db)
        assert journal.chain_breaks(db) == []
    assert [e["code"] for e in last] == [950, 921, 920]
    assert last[0]["details"]["reason"] == "refused"
