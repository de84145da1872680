"""Registers joined from the browser (issue 16): the register API turned on in Settings, the join
code on the office page, and a second data folder joining with it through its own web page,
against the office's real listener on 127.0.0.1. Bad input: a clear 422, nothing saved."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from markupsafe import escape

from tests.conftest import TEST_PORT, Client
from webapp import i18n, settings
from webapp.app import create_app
from webapp.config import resolve_data_dir
from webapp.pos import join_code, listener, protocol, register, register_config
from webapp.services import Services, open_services
from webapp.sockets import bind_socket

PASSPHRASE = "join-tests-passphrase"


def free_port() -> int:
    sock = bind_socket("127.0.0.1", 0, fallback=False)
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def shown(message: str, **params: object) -> str:
    """The message as the (French) page shows it, up to its first free detail."""
    with i18n.language("fr"):
        text = i18n.gettext(message, **{"detail": "\x00", **params})
    return str(escape(text.split("\x00")[0]))


def enable(client: Client, port: int, **extra: str) -> httpx.Response:
    form = {"pos_api_enabled": "1", "pos_api_host": "127.0.0.1", "pos_api_port": str(port)}
    return client.post_form("/settings/pos-api", {**form, **extra})


@pytest.fixture
def office(services: Services, client: Client) -> Iterator[Client]:
    """The office: its vault open (the update key goes in /hello), its register API on."""
    services.vault.create(PASSPHRASE)
    assert enable(client, free_port()).status_code == 200
    yield client


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Services, Client]]:
    """A second, fresh data folder: the future register, with its own web page."""
    opened = open_services(resolve_data_dir(tmp_path / "register"))
    app = create_app(opened, host="127.0.0.1", port=TEST_PORT)
    with Client(app, base_url=f"http://127.0.0.1:{TEST_PORT}") as test_client:
        yield opened, test_client
    opened.close()


def add_register(office: Client, number: int) -> str:
    added = office.post_form("/pos/office/registers", {"number": str(number)})
    assert added.status_code == 200, added.text
    return added.text.split('id="pos-join-code"')[1].split(">")[1].split("<")[0]


def test_settings_start_the_register_api_at_once(services: Services, client: Client) -> None:
    page = client.get("/settings")
    assert 'id="settings-pos-api"' in page.text and listener.running(services) is None
    port = free_port()
    saved = enable(client, port)
    assert saved.status_code == 200 and 'role="status"' in saved.text
    assert f"http://127.0.0.1:{port}" in saved.text
    assert settings.get(services.store, "pos_api_enabled") is True
    answer = httpx.get(f"http://127.0.0.1:{port}{protocol.API}/hello", timeout=10)
    assert answer.status_code == 401 and answer.json() == {"error": "missing bearer token"}
    assert json.loads((services.data_dir.path / "pos.json").read_text())["url"].endswith(str(port))

    moved = free_port()
    assert enable(client, moved).status_code == 200
    assert httpx.get(f"http://127.0.0.1:{moved}{protocol.API}/hello").status_code == 401
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}{protocol.API}/hello")

    off = client.post_form("/settings/pos-api", {"pos_api_enabled": "0"})
    assert off.status_code == 200 and listener.running(services) is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{moved}{protocol.API}/hello")


def test_a_port_in_use_or_bad_values_save_nothing(
    services: Services, client: Client, tmp_path: Path
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        refused = enable(client, port)
        assert refused.status_code == 422 and 'role="alert"' in refused.text
        assert shown("Port {port} cannot be used ({detail}): choose another one.", port=port) in (
            refused.text
        )
    finally:
        taken.close()
    assert settings.read_value(services.store, "pos_api_enabled") is None, "nothing saved"
    assert listener.running(services) is None

    bad_port = enable(client, 70000)
    assert bad_port.status_code == 422 and 'aria-invalid="true"' in bad_port.text
    bad_host = client.post_form(
        "/settings/pos-api",
        {"pos_api_enabled": "1", "pos_api_host": "shop.example", "pos_api_port": "8770"},
    )
    assert bad_host.status_code == 422
    missing = enable(client, free_port(), pos_api_cert=str(tmp_path / "nope.pem"))
    assert missing.status_code == 422
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    bad_cert = enable(client, free_port(), pos_api_cert=str(junk))
    assert bad_cert.status_code == 422
    assert shown("The certificate cannot be used: {detail}") in bad_cert.text
    assert settings.read_value(services.store, "pos_api_port") is None, "nothing saved"
    assert listener.running(services) is None


def test_a_refused_move_keeps_the_running_listener(services: Services, client: Client) -> None:
    port = free_port()
    assert enable(client, port).status_code == 200
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        assert enable(client, taken.getsockname()[1]).status_code == 422
    finally:
        taken.close()
    assert settings.get(services.store, "pos_api_port") == port
    assert httpx.get(f"http://127.0.0.1:{port}{protocol.API}/hello").status_code == 401


def test_the_office_page_shows_the_address_or_where_to_turn_it_on(
    services: Services, client: Client
) -> None:
    services.vault.create(PASSPHRASE)
    off = client.get("/pos")
    assert 'href="/settings#settings-pos-api"' in off.text
    added = client.post_form("/pos/office/registers", {"number": "2"})
    assert 'id="pos-new-token"' in added.text and "pos-join-code" not in added.text

    port = free_port()
    enable(client, port)
    assert f"http://127.0.0.1:{port}" in client.get("/pos").text
    added = client.post_form("/pos/office/registers", {"number": "3"})
    assert added.headers["HX-Trigger"] == "registers-changed"
    code = added.text.split('id="pos-join-code"')[1].split(">")[1].split("<")[0]
    packed = join_code.decode(code)
    assert (packed.server_url, packed.number) == (f"http://127.0.0.1:{port}", 3)
    assert "<svg" in added.text.split('id="pos-join-qr"')[1]
    assert code not in client.get("/pos").text, "shown once"
    table = client.get("/pos/office/registers")
    assert table.status_code == 200 and 'data-register="3"' in table.text


def test_a_fresh_install_joins_with_the_code(
    office: Client, shop: tuple[Services, Client], services: Services
) -> None:
    register_services, register_client = shop
    assert 'href="/pos/join"' in register_client.get("/").text, "offered on a fresh install"
    code = add_register(office, 3)
    page = register_client.get("/pos/join")
    assert page.status_code == 200 and 'name="code"' in page.text
    assert 'name="confirmation"' in page.text, "no vault yet: its creation is asked"
    joined = register_client.post_form(
        "/pos/join", {"code": code, "passphrase": PASSPHRASE, "confirmation": PASSPHRASE}
    )
    assert joined.status_code == 200, joined.text
    assert 'id="pos-join-open"' in joined.text
    config = register_config.load_config(register_services.store)
    assert config is not None and config.number == 3
    assert register_services.vault.get(register_config.TOKEN_SECRET) == join_code.decode(code).token
    assert register.role(register_services.store) == "register"
    assert register.RUNNING is not None, "the synchroniser runs without a restart"
    assert 'href="/pos/join"' not in register_client.get("/").text
    assert 'id="settings-pos-api"' not in register_client.get("/settings").text, "office only"
    table = office.get("/pos/office/registers").text
    row = table.split('data-register="3"')[1].split("</tr>")[0]
    assert "never" not in row and "jamais" not in row, "its last contact shows"


def test_bad_codes_refused_and_nothing_saved(office: Client, shop: tuple[Services, Client]) -> None:
    register_services, register_client = shop
    register_services.vault.create(PASSPHRASE)
    code = add_register(office, 4)
    typo = code[:10] + ("A" if code[10] != "A" else "B") + code[11:]
    for data in ({"code": typo}, {"code": "hello"}, {}, {"server": "x", "number": "0"}):
        refused = register_client.post_form("/pos/join", data)
        assert refused.status_code == 422 and 'role="alert"' in refused.text, data
    mistyped = register_client.post_form("/pos/join", {"code": typo})
    assert shown("The join code is incomplete or mistyped.") in mistyped.text
    token = join_code.decode(code).token
    wrong = join_code.encode(join_code.decode(code).server_url, 4, token[:-2] + "xx")
    refused = register_client.post_form("/pos/join", {"code": wrong})
    assert refused.status_code == 422
    assert shown("The office refused this token: ask the office for a new join code.") in (
        refused.text
    )
    gone = join_code.encode(f"http://127.0.0.1:{free_port()}", 4, token)
    unreachable = register_client.post_form("/pos/join", {"code": gone})
    assert unreachable.status_code == 422 and 'role="alert"' in unreachable.text
    assert register_config.load_config(register_services.store) is None, "nothing saved"
    assert register_services.vault.get(register_config.TOKEN_SECRET) is None
    assert settings.read_value(register_services.store, protocol.ROLE_SETTING) is None


def test_a_locked_vault_asks_its_passphrase_then_joins(
    office: Client, shop: tuple[Services, Client]
) -> None:
    register_services, register_client = shop
    register_services.vault.create(PASSPHRASE)
    register_services.vault.lock()
    code = add_register(office, 5)
    asked = register_client.post_form("/pos/join", {"code": code})
    assert asked.status_code == 422 and 'id="pos-join-vault"' in asked.text
    assert 'name="passphrase"' in asked.text and code in asked.text, "the code stays in the form"
    wrong = register_client.post_form("/pos/join", {"code": code, "passphrase": "not-it-at-all"})
    assert wrong.status_code == 422 and register_config.load_config(register_services.store) is None
    joined = register_client.post_form("/pos/join", {"code": code, "passphrase": PASSPHRASE})
    assert joined.status_code == 200, joined.text
    assert register_config.load_config(register_services.store) is not None


def test_the_values_typed_by_hand_join_too(office: Client, shop: tuple[Services, Client]) -> None:
    register_services, register_client = shop
    register_services.vault.create(PASSPHRASE)
    packed = join_code.decode(add_register(office, 6))
    form = {"server": packed.server_url, "number": "6", "token": packed.token}
    assert register_client.post_form("/pos/join", form).status_code == 200
    assert register_client.get("/pos/join", follow_redirects=False).status_code == 303


def test_every_network_gives_the_registers_this_computers_address(
    services: Services, client: Client
) -> None:
    services.vault.create(PASSPHRASE)
    port = free_port()
    saved = client.post_form(
        "/settings/pos-api",
        {"pos_api_enabled": "1", "pos_api_host": "0.0.0.0", "pos_api_port": str(port)},
    )
    assert saved.status_code == 200, saved.text
    shown = f"http://{listener.lan_address() or socket.gethostname()}:{port}"
    assert shown in saved.text and f"127.0.0.1:{port}" not in saved.text
    added = client.post_form("/pos/office/registers", {"number": "8"})
    code = added.text.split('id="pos-join-code"')[1].split(">")[1].split("<")[0]
    assert join_code.decode(code).server_url == shown
    answer = httpx.get(f"http://127.0.0.1:{port}{protocol.API}/hello", timeout=10)
    assert answer.status_code == 401, "listening on every network includes this computer"
