"""The Scrada page's mailbox section: a refused value under its field (422, nothing saved), the
password kept in the vault only, and Verify answering in words against a real dovecot
(tests/imap_server.py): connected with the messages waiting, password refused, unreachable."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from tests.conftest import Client
from tests.imap_server import HOST, ImapAccount, ImapServer, start_dovecot
from webapp.scrada import config
from webapp.services import Services

PASSPHRASE = "correct horse battery"


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    with start_dovecot() as server:
        yield server


@pytest.fixture
def unlocked(services: Services) -> Services:
    services.vault.create(PASSPHRASE)
    return services


def _form(**values: str) -> dict[str, str]:
    form = {
        "mailbox_host": "imap.example.be",
        "mailbox_security": "ssl",
        "mailbox_port": "",
        "mailbox_user": "boulangerie@example.be",
        "mailbox_password": "",
        "mailbox_folder": "INBOX",
        "mailbox_done": "keyword",
        "mailbox_done_folder": "",
    }
    return {**form, **values}


def _error_under(answer_text: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', answer_text)
    assert found, answer_text
    assert f'aria-describedby="{field}-error"' in answer_text
    return found.group(1)


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"mailbox_host": "https://mail.example.be"}, "mailbox_host", "https://mail.example.be"),
        ({"mailbox_host": ""}, "mailbox_host", ""),
        ({"mailbox_security": "none"}, "mailbox_security", "127.0.0.1"),
        ({"mailbox_port": "99999"}, "mailbox_port", "99999"),
        ({"mailbox_user": ""}, "mailbox_user", ""),
        ({"mailbox_folder": "*"}, "mailbox_folder", "*"),
        ({"mailbox_done": "move"}, "mailbox_done_folder", ""),
        ({"mailbox_done": "move", "mailbox_done_folder": "INBOX"}, "mailbox_done_folder", ""),
    ],
)
def test_a_refused_value_is_shown_under_its_field(
    client: Client, services: Services, values: dict[str, str], field: str, words: str
) -> None:
    answer = client.post_form("/scrada/mailbox", _form(**values))
    assert answer.status_code == 422
    assert words in _error_under(answer.text, field)
    assert config.load(services.store).mailbox is None, "nothing saved"


def test_saved_settings_come_back_in_the_form_and_the_password_stays_in_the_vault(
    client: Client, unlocked: Services
) -> None:
    form = _form(mailbox_security="starttls", mailbox_password=" pässwörd ")
    answer = client.post_form("/scrada/mailbox", form)
    assert answer.status_code == 200, answer.text
    saved = config.load(unlocked.store).mailbox
    assert saved is not None and saved["port"] == 143 and saved["security"] == "starttls"
    assert unlocked.vault.get(config.SECRET_MAILBOX) == " pässwörd "
    page = client.get("/scrada").text
    assert 'value="boulangerie@example.be"' in page and "pässwörd" not in page
    assert 'id="scrada-mailbox-verify-button"' in page
    assert 'name="mailbox_port" inputmode="numeric" value=""' in page, "143 is starttls's own"
    moved = client.post_form("/scrada/mailbox", {**form, "mailbox_security": "ssl"})
    assert moved.status_code == 200
    assert (config.load(unlocked.store).mailbox or {})["port"] == 993
    removed = client.post_form("/scrada/mailbox", {**form, "action": "remove"})
    assert removed.status_code == 200
    assert config.load(unlocked.store).mailbox is None
    assert unlocked.vault.get(config.SECRET_MAILBOX) is None


def test_a_password_with_the_vault_locked_is_refused(client: Client, services: Services) -> None:
    answer = client.post_form("/scrada/mailbox", _form(mailbox_password="secret"))
    assert answer.status_code == 422
    assert config.load(services.store).mailbox is None


def _verify(client: Client) -> tuple[str, str]:
    answer = client.post_form("/scrada/mailbox/verify")
    assert answer.status_code == 200, answer.text
    found = re.search(r'data-mailbox-verified="(\w+)"[^>]*>([^<]*)<', answer.text)
    assert found, answer.text
    return found.group(1), found.group(2)


def _save_account(client: Client, account: ImapAccount, port: int, password: str) -> None:
    form = _form(
        mailbox_host=HOST,
        mailbox_security="none",
        mailbox_port=str(port),
        mailbox_user=account.user,
        mailbox_password=password,
    )
    assert client.post_form("/scrada/mailbox", form).status_code == 200


def test_verify_in_words_against_a_real_mail_server(
    client: Client, unlocked: Services, imap_server: ImapServer
) -> None:
    assert _verify(client)[0] == "error"  # nothing set yet: it says what to do
    account = imap_server.account()
    account.append(b"Subject: one\r\n\r\nhello\r\n")
    account.append(b"Subject: two\r\n\r\nhello\r\n")
    _save_account(client, account, imap_server.port, account.password)
    state, words = _verify(client)
    assert state == "ok" and "2" in words and "INBOX" in words
    _save_account(client, account, imap_server.port, "not the password")
    assert _verify(client)[0] == "refused"
    with socket.socket() as closed:
        closed.bind((HOST, 0))
        free_port = closed.getsockname()[1]
    _save_account(client, account, free_port, account.password)
    state, words = _verify(client)
    assert state == "error" and words


def test_verify_over_tls_refuses_an_unknown_certificate(
    client: Client, unlocked: Services, imap_server: ImapServer
) -> None:
    account = imap_server.account()
    form = _form(
        mailbox_host=HOST,
        mailbox_port=str(imap_server.tls_port),
        mailbox_user=account.user,
        mailbox_password=account.password,
    )
    assert client.post_form("/scrada/mailbox", form).status_code == 200
    state, words = _verify(client)
    assert state == "error" and words  # a self-signed test CA: never trusted silently
