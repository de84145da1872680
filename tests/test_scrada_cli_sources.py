"""`relais scrada set` for the mailbox and the drop folder, and `relais scrada verify` with a
mailbox, through the real command line: bad values exit 2 with the reason, the mailbox password is
read from standard input and never printed, and verify logs in to a real dovecot."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import relais
from tests.imap_server import HOST, ImapServer, start_dovecot
from tests.test_scrada_pull import PASSPHRASE, _prepared, simulator  # noqa: F401  (fixture)
from webapp.config import resolve_data_dir
from webapp.scrada import config
from webapp.services import open_services
from webapp.simulators.scrada import ScradaSimulator

ENV = {"RELAIS_VAULT_PASSPHRASE": PASSPHRASE}
SECRET = "pässwörd du magasin"


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    with start_dovecot() as server:
        yield server


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    services = open_services(resolve_data_dir(folder), vault_backend="file")
    services.vault.create(PASSPHRASE)
    services.close()
    return folder


def _saved(data: Path) -> config.ScradaConfig:
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        return config.load(services.store)
    finally:
        services.close()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--mailbox-host", "mail.example.be", "--mailbox-security", "none"], "127.0.0.1"),
        (["--mailbox-host", "mail example.be", "--mailbox-user", "u"], "mail example.be"),
        (["--mailbox-host", "mail.example.be", "--mailbox-user", "u", "--mailbox-port", "0"], "0"),
        (["--mailbox-user", "u"], ""),
        (["--mailbox-host", "h.be", "--mailbox-user", "u", "--mailbox-done", "move"], ""),
        (["--drop-folder", "relative/folder"], "/srv/depot"),
    ],
)
def test_bad_values_exit_2_and_save_nothing(data: Path, args: list[str], words: str) -> None:
    done = relais("scrada", "set", *args, data_dir=data, **ENV)
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr
    assert _saved(data).mailbox is None and _saved(data).drop_folder == ""


def test_the_mailbox_password_comes_from_stdin_and_is_never_printed(data: Path) -> None:
    args = ["--mailbox-host", "imap.example.be", "--mailbox-user", "shop@example.be"]
    done = relais(
        "scrada", "set", *args, "--mailbox-password", "-", data_dir=data, input=SECRET + "\n", **ENV
    )
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    as_json = relais("scrada", "set", "--mailbox-security", "starttls", "--json", data_dir=data)
    assert as_json.returncode == 0, as_json.stderr
    shown = json.loads(as_json.stdout)["mailbox"]
    assert shown["port"] == 143 and shown["user"] == "shop@example.be"  # 993 was ssl's default
    assert SECRET not in as_json.stdout
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        services.vault.unlock(PASSPHRASE)
        assert services.vault.get(config.SECRET_MAILBOX) == SECRET
        with services.store.read() as db:
            stored = [str(row[0]) for row in db.execute("SELECT value FROM settings")]
        assert stored and not any(SECRET in value for value in stored)
    finally:
        services.close()
    gone = relais("scrada", "set", "--no-mailbox", data_dir=data, **ENV)
    assert gone.returncode == 0 and _saved(data).mailbox is None


def test_the_drop_folder_must_exist_or_be_created(data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "depot"
    missing = relais("scrada", "set", "--drop-folder", str(folder), data_dir=data)
    assert missing.returncode == 2 and str(folder) in missing.stderr
    made = relais(
        "scrada", "set", "--drop-folder", str(folder), "--create-drop-folder", data_dir=data
    )
    assert made.returncode == 0, made.stderr
    assert folder.is_dir() and _saved(data).drop_folder == str(folder)
    off = relais("scrada", "set", "--no-drop-folder", data_dir=data)
    assert off.returncode == 0 and _saved(data).drop_folder == ""


def test_verify_checks_the_mailbox_too(
    simulator: ScradaSimulator,  # noqa: F811
    imap_server: ImapServer,
    tmp_path: Path,
) -> None:
    simulator.add_company("Boulangerie Dupont", documents=1)
    data = _prepared(tmp_path, simulator)
    account = imap_server.account()
    account.append(b"Subject: one\r\n\r\nhello\r\n")
    args = ["--mailbox-host", HOST, "--mailbox-security", "none", "--mailbox-user", account.user]
    port = ["--mailbox-port", str(imap_server.port)]
    password = ["--mailbox-password", "-"]
    saved = relais(
        "scrada", "set", *args, *port, *password, data_dir=data, input=account.password, **ENV
    )
    assert saved.returncode == 0, saved.stderr
    ok = relais("scrada", "verify", "--json", data_dir=data, **ENV)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    answer = json.loads(ok.stdout)
    assert answer["ok"] and answer["mailbox"] == {**answer["mailbox"], "ok": True, "waiting": 1}
    wrong = relais("scrada", "set", *password, data_dir=data, input="wrong", **ENV)
    assert wrong.returncode == 0
    refused = relais("scrada", "verify", data_dir=data, **ENV)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert account.password not in refused.stdout + refused.stderr
    with socket.socket() as closed:
        closed.bind((HOST, 0))
        free = str(closed.getsockname()[1])
    relais(
        "scrada",
        "set",
        "--mailbox-port",
        free,
        *password,
        data_dir=data,
        input=account.password,
        **ENV,
    )
    unreachable = relais("scrada", "verify", "--json", data_dir=data, **ENV)
    assert unreachable.returncode == 2
    assert json.loads(unreachable.stdout)["mailbox"]["ok"] is False


def test_standard_input_gives_one_secret_only(data: Path) -> None:
    both = ["--api-key", "-", "--mailbox-password", "-"]
    done = relais("scrada", "set", *both, data_dir=data, input=SECRET, **ENV)
    assert done.returncode == 2 and SECRET not in done.stdout + done.stderr
    assert _saved(data).mailbox is None
