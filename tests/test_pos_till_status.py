"""A register's own menu, the office's pages refused there, and where the till stands: online or
not, since when, tickets waiting, why the office cannot be reached; against the real office
listener of test_pos_register on a 127.0.0.1 socket, stopped and started again."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import TEST_PORT, Client
from tests.pos_fixtures import Listener, fast_client, post_pairs, rows, sync
from webapp import history_queries, settings
from webapp.app import create_app
from webapp.pos import packages, register_config, register_status, selling, synchroniser
from webapp.pos.api import PosApp
from webapp.services import Services
from webapp.sockets import bind_socket

REGISTER_MENU = ["sell", "tickets", "closures", "journal", "register", "settings"]
OFFICE_MENU = [
    "dashboard",
    "backoffice",
    "scrada",
    "pos",
    "connectors",
    "processes",
    "history",
    "settings",
]
HTML = {"accept": "text/html"}


def menu(page_html: str) -> list[str]:
    nav = re.search(r'<nav class="nav".*?</nav>', page_html, re.S)
    assert nav, "no main menu"
    return re.findall(r'data-nav="([^"]+)"', nav.group(0))


def attribute(page_html: str, element: str, name: str) -> str:
    match = re.search(rf'id="{element}"[^>]*?{name}="([^"]*)"', page_html, re.S)
    if match is None:  # the attribute written before the id
        match = re.search(rf'{name}="([^"]*)"[^>]*?id="{element}"', page_html, re.S)
    assert match, f"no {name} on #{element}"
    return match.group(1)


def till_state(ui: Client) -> tuple[str, str]:
    part = ui.get("/pos/till/status").text
    return attribute(part, "till-status", "data-state"), attribute(
        part, "till-status", "data-waiting"
    )


def round_of(services: Services) -> bool:
    """One round of the register's real synchroniser (the thread's body), quick retries."""
    worker = synchroniser.Synchroniser(services.store, services.vault, factory=fast_client)
    return worker.run_round()


# -- the menu and the pages a register does not offer ----------------------------------------------


def test_a_register_menu_keeps_to_its_own_pages(ui: Client) -> None:
    for path in ("/pos/sell", "/pos/tickets", "/pos/register", "/settings", "/history"):
        answer = ui.get(path, headers=HTML)
        assert answer.status_code == 200, path
        assert menu(answer.text) == REGISTER_MENU, path
        assert 'href="/scrada"' not in answer.text and 'href="/connectors"' not in answer.text
    sell = ui.get("/pos/sell").text
    assert re.search(r'data-nav="sell"[^>]*aria-current="page"', sell)
    home = ui.get("/", headers=HTML)
    assert home.url.path == "/pos/sell"  # the register's home is its sales screen
    processes = ui.get("/processes").text
    shown = set(re.findall(r'data-process="([^"]+)"', processes))
    assert shown == {"history_purge", "database_backup", "update_check"}


def test_the_office_pages_answer_that_this_is_done_at_the_office(
    ui: Client,
    joined: Services,
) -> None:
    for path in ("/scrada", "/connectors", "/connectors/new", "/articles/new", "/documents"):
        answer = ui.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert 'id="office-only"' in answer.text and 'href="/pos/sell"' in answer.text
        assert menu(answer.text) == REGISTER_MENU
    # A form of the office posted anyway: refused before its handler, nothing written.
    refused = ui.post_form("/articles/create", {"code": "NEW", "label": "Nouveau"})
    assert refused.status_code == 404
    assert rows(joined.store, "SELECT code FROM articles WHERE code = 'NEW'") == []
    started = ui.post_form("/processes/scrada_pull/run")
    assert started.status_code == 404
    assert history_queries.recent_runs(joined.store, limit=5, job_name="scrada_pull") == []
    schedule = ui.post_form(
        "/processes/export_caisseauto", {"trigger_kind": "interval", "trigger_value": "5"}
    )
    assert schedule.status_code == 404
    kept = ui.post_form("/processes/history_purge/run")  # the register's own upkeep runs
    assert kept.status_code == 200


def test_the_office_menu_stays_as_it_is(client: Client) -> None:
    page_html = client.get("/").text
    assert menu(page_html) == OFFICE_MENU
    assert client.get("/scrada", headers=HTML).status_code == 200
    processes = client.get("/processes").text
    assert "scrada_pull" in re.findall(r'data-process="([^"]+)"', processes)


# -- where the till stands -------------------------------------------------------------------------


def test_the_till_says_offline_since_when_and_what_waits_then_online(
    ui: Client,
    joined: Services,
    office_listener: Listener,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert till_state(ui) == ("online", "0")
    sale = [("code", "VR1"), ("qty", "1"), ("payment", "CARD")]
    assert post_pairs(ui, "/pos/sell/checkout", sale).status_code == 200
    assert till_state(ui) == ("online", "1")

    office_listener.stop()
    with caplog.at_level(logging.INFO):
        assert round_of(joined) is False
    assert till_state(ui) == ("offline", "1")
    part = ui.get("/pos/till/status").text
    assert 'id="till-since"' in part
    first = register_status.till(joined.store)["problem"]
    assert first["kind"] == "unreachable" and first["since"] == first["at"]
    status_page = ui.get("/pos/register").text
    assert attribute(status_page, "register-problem", "data-kind") == "unreachable"
    assert office_listener.url in status_page  # the address the register tries
    assert 'id="register-offline-since"' in status_page
    # An expected outage: one WARNING line for the round, no traceback anywhere.
    ours = [r for r in caplog.records if r.name.startswith("webapp.pos")]
    assert [r.levelno for r in ours] == [logging.WARNING]
    assert all(r.exc_info is None and r.exc_text is None for r in ours)

    with caplog.at_level(logging.INFO):
        assert round_of(joined) is False
    again = register_status.till(joined.store)["problem"]
    assert again["since"] == first["since"]  # the streak's first failure, not the last one

    office_listener.start()  # the same port: the office is back
    assert round_of(joined) is True
    assert till_state(ui) == ("online", "0")
    assert register_status.till(joined.store)["problem"] is None
    assert 'id="register-online"' in ui.get("/pos/register").text


def test_a_refused_token_is_said_in_words_without_traceback(
    ui: Client,
    joined: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    joined.vault.set(register_config.TOKEN_SECRET, "revoked-or-wrong")
    with caplog.at_level(logging.INFO):
        assert round_of(joined) is False
    assert till_state(ui)[0] == "offline"
    problem = register_status.till(joined.store)["problem"]
    assert problem["kind"] == "refused"
    status_page = ui.get("/pos/register").text
    assert attribute(status_page, "register-problem", "data-kind") == "refused"
    ours = [r for r in caplog.records if r.name.startswith("webapp.pos")]
    assert [r.levelno for r in ours] == [logging.WARNING]
    assert all(r.exc_info is None for r in ours)


def test_a_real_bug_keeps_its_traceback(joined: Services, caplog: pytest.LogCaptureFixture) -> None:
    def broken(url: str, secret: str) -> object:
        raise ZeroDivisionError("a bug, not an outage")

    worker = synchroniser.Synchroniser(joined.store, joined.vault, factory=broken)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO):
        assert worker.run_round() is False
    failed = [r for r in caplog.records if r.name == "webapp.pos.synchroniser"]
    assert failed and failed[-1].levelno == logging.ERROR and failed[-1].exc_info


@pytest.fixture
def lone_register(register_services: Services) -> Iterator[Client]:
    """A folder set as a register that has not joined an office."""
    settings.write_value(register_services.store, "pos_role", "register")
    app = create_app(register_services, host="127.0.0.1", port=TEST_PORT)
    with Client(app, base_url=f"http://127.0.0.1:{TEST_PORT}") as test_client:
        yield test_client


def test_a_register_not_joined_says_so(lone_register: Client) -> None:
    assert till_state(lone_register) == ("not-joined", "0")
    tickets = lone_register.get("/pos/tickets")
    assert tickets.status_code == 200 and "relais pos join" in tickets.text
    assert 'href="/pos/join"' in tickets.text  # joined from the browser too
    assert menu(tickets.text) == REGISTER_MENU


# -- names, not codes ------------------------------------------------------------------------------


def test_families_and_payment_methods_by_name(
    ui: Client,
    joined: Services,
    office_services: Services,
) -> None:
    with office_services.store.write() as db:
        family = db.execute(
            "INSERT INTO article_families (code, label) VALUES ('VINS', 'Vins de Loire')"
        ).lastrowid
        db.execute("UPDATE articles SET family_id = ? WHERE code LIKE 'V%'", [family])
    packages.build_all(office_services.store)
    sync(joined)  # the package carries the family's name beside its code
    found = ui.get("/pos/sell/search", params={"scan": "vin"}).text
    assert "Vins de Loire" in found and "VINS" not in found
    cart = ui.post_form("/pos/sell/cart", {"scan": "VR1"}).text
    assert "Vins de Loire" in cart and "Vin rouge Cuvée" in cart
    assert "Carte bancaire" in cart  # the payment methods offered by name
    done = post_pairs(
        ui, "/pos/sell/checkout", [("code", "VR1"), ("qty", "1"), ("payment", "CARD")]
    )
    assert "Carte bancaire" in done.text and "C3-000001" in done.text
    tickets = ui.get("/pos/tickets").text
    row = re.search(r'<tr data-ticket="C3-000001".*?</tr>', tickets, re.S)
    assert row and "Carte bancaire" in row.group(0) and "CARD" not in row.group(0)
    assert 'data-state="queued"' in row.group(0)
    assert selling.search_articles(joined.store, "VR1")[0].code == "VR1"
    with office_services.store.write() as db:  # renamed at the office: renamed here
        db.execute("UPDATE article_families SET label = 'Vins du Val' WHERE code = 'VINS'")
        db.execute("UPDATE articles SET label = label || ' ' WHERE code LIKE 'V%'")
    packages.build_all(office_services.store)
    sync(joined)
    assert "Vins du Val" in ui.get("/pos/sell/search", params={"scan": "vin"}).text


def test_an_office_certificate_not_trusted_is_said_so(
    ui: Client, joined: Services, office_services: Services, tmp_path: Path
) -> None:
    """The office behind HTTPS with a certificate no authority here vouches for: the register
    says the certificate is not valid, not that the office is away."""
    from tests.imap_server import _write_certificates

    folder = tmp_path / "tls"
    folder.mkdir()
    _write_certificates(folder)
    sock = bind_socket("127.0.0.1", 0, fallback=False)
    config = uvicorn.Config(
        PosApp(office_services),
        log_config=None,
        access_log=False,
        lifespan="off",
        ssl_certfile=str(folder / "cert.pem"),
        ssl_keyfile=str(folder / "key.pem"),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        url = f"https://127.0.0.1:{sock.getsockname()[1]}"
        settings.write_value(joined.store, register_config.SERVER_URL, url)
        assert round_of(joined) is False
    finally:
        server.should_exit = True
        thread.join(10)
    problem = register_status.till(joined.store)["problem"]
    assert problem["kind"] == "certificate" and url in problem["explanation"]
    status_page = ui.get("/pos/register").text
    assert attribute(status_page, "register-problem", "data-kind") == "certificate"
