"""The mailbox and the drop folder in the pull: each document filed under the company it names, the
message flagged or the file moved only once it is recorded, exactly once across a kill -9.

Real parts: the documented-only Scrada simulator over HTTP, a real dovecot (tests/imap_server.py),
real folders, the real command line killed with SIGKILL.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import coda
import pytest

from tests.imap_server import ImapAccount, ImapServer, start_dovecot
from tests.test_scrada_pull import (
    PASSPHRASE,
    _prepared,
    configure,
    delivered_files,
    kill_pull_after,
    open_services_at,
    run_pull,
)
from webapp import history_queries, settings
from webapp.scrada import config as scrada_config
from webapp.scrada import records, routes
from webapp.scrada.mail_settings import DONE_KEYWORD, validate_mailbox_settings
from webapp.scrada.pushed import NOT_SELECTED
from webapp.services import Services
from webapp.simulators.scrada import Company, ScradaSimulator


@pytest.fixture
def documented() -> Iterator[ScradaSimulator]:
    sim = ScradaSimulator(rate_limit=None, documented_only=True)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    with start_dovecot() as server:
        yield server


@pytest.fixture
def imap(imap_server: ImapServer) -> ImapAccount:
    return imap_server.account()


def use_sources(
    services: Services, *, drop: Path | None = None, account: ImapAccount | None = None
) -> None:
    """The drop folder and mailbox settings as the settings form saves them."""
    raw = dict(settings.read_value(services.store, scrada_config.SETTINGS_KEY, {}) or {})
    if drop is not None:
        raw["drop_folder"] = str(drop)
    if account is not None:
        mailbox = validate_mailbox_settings(
            host="127.0.0.1", port=account.server.port, security="none", user=account.user
        )
        raw["mailbox"] = mailbox.as_dict()
        services.vault.set(scrada_config.SECRET_MAILBOX, account.password)
    settings.write_value(services.store, scrada_config.SETTINGS_KEY, raw)


def receipt(sim: ScradaSimulator, company: Company, number: int = 0) -> bytes:
    journal = company.journals[0]
    return sim.document_bytes(company.id, journal.id, journal.documents[number].id)


def statement(sim: ScradaSimulator, company: Company, number: int = 0) -> bytes:
    book = company.cash_books[0]
    return sim.document_bytes(company.id, book.id, book.documents[number].id)


def without_holder_number(data: bytes) -> bytes:
    """The statement with record 0's company number blanked: only its account names an owner."""
    columns = coda.HEADER["company_id"][0]
    assert isinstance(columns, slice)
    first, rest = data.split(b"\r\n", 1)
    width = len(first[columns])
    return first[: columns.start] + b"0" * width + first[columns.stop :] + b"\r\n" + rest


def drop_files(folder: Path, *files: tuple[str, bytes]) -> None:
    """Written a minute ago, one second apart (the folder takes settled files, oldest first)."""
    moment = time.time() - 60
    for index, (name, data) in enumerate(files):
        path = folder / name
        path.write_bytes(data)
        os.utime(path, (moment + index, moment + index))


def company_dirs(root: Path) -> set[str]:
    return {name.split("/")[0] for name in delivered_files(root)}


def test_drop_folder_files_each_document_under_the_company_it_names(
    services: Services, documented: ScradaSimulator, tmp_path: Path
) -> None:
    shop = documented.add_company("Boulangerie Dupont", documents=2)
    stranger = documented.add_company("Épicerie Inconnue", documents=1, partner=False)
    root, drop = tmp_path / "compta", tmp_path / "drop"
    drop.mkdir()
    configure(services, documented, root, company_ids=[shop.id])
    use_sources(services, drop=drop)
    drop_files(
        drop,
        ("receipt.xml", receipt(documented, shop)),
        ("statement.cod", statement(documented, shop)),
        ("other.xml", receipt(documented, stranger)),
        ("nameless.cod", without_holder_number(statement(documented, stranger))),
        ("notes.txt", b"not a document"),
    )
    run = run_pull(services)
    assert run["status"] == "warning", "the nameless statement is quarantined"
    assert sorted(p.name for p in (drop / "processed").iterdir()) == [
        "nameless.cod",
        "other.xml",
        "receipt.xml",
        "statement.cod",
    ]
    assert (drop / "notes.txt").exists(), "not a document: left where it is"
    assert company_dirs(root) == {shop.tax_number, stranger.tax_number}
    written = delivered_files(root)
    assert sorted(written.values()) == sorted(
        [receipt(documented, shop), statement(documented, shop), receipt(documented, stranger)]
    )
    adopted = {c.id: c for c in records.companies(services.store)}[f"doc-{stranger.tax_number}"]
    assert adopted.name == stranger.name and adopted.selected, "new companies: on by default"
    (reason,) = (root / "_quarantine").glob("*.reason.txt")
    assert "aucune société connue" in reason.read_text(encoding="utf-8")
    with services.store.read() as db:
        sources = {row[0] for row in db.execute("SELECT source FROM scrada_deliveries")}
    assert sources == {"folder"}
    journal = next(
        r
        for r in routes.routes_by_book(services.store, routes.SetUp(folder=True))
        if r.company_id == shop.id and r.book_kind == "daily-receipts"
    )
    assert journal.route == "folder" and journal.book_id == shop.journals[0].id
    assert journal.advice is None

    stamps = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    drop_files(drop, ("receipt again.xml", receipt(documented, shop)))
    again = run_pull(services)
    assert again["status"] == "success", again
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == stamps
    assert (drop / "processed" / "receipt again.xml").exists(), "the same bytes: taken, not written"


def test_new_companies_off_and_selected_scope_are_honoured(
    services: Services, documented: ScradaSimulator, tmp_path: Path
) -> None:
    shop = documented.add_company("Boulangerie Dupont", documents=1)
    stranger = documented.add_company("Épicerie Inconnue", documents=1, partner=False)
    root, drop = tmp_path / "compta", tmp_path / "drop"
    drop.mkdir()
    configure(
        services, documented, root, company_ids=[shop.id], scope="selected", new_companies=False
    )
    use_sources(services, drop=drop)
    drop_files(
        drop, ("mine.xml", receipt(documented, shop)), ("theirs.xml", receipt(documented, stranger))
    )
    run = run_pull(services)
    assert run["status"] == "success", run
    assert company_dirs(root) == {shop.tax_number}
    adopted = {c.id: c for c in records.companies(services.store)}[f"doc-{stranger.tax_number}"]
    assert not adopted.selected
    items = history_queries.run_items(services.store, run["id"])
    assert [item["message"] for item in items].count(NOT_SELECTED) == 1


def mail(*files: tuple[str, bytes], message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = "noreply@scrada.test"
    message["To"] = "shop@example.test"
    message["Subject"] = "Scrada documents"
    message["Message-ID"] = message_id
    message.set_content("Your documents are attached.\n")
    for name, data in files:
        message.add_attachment(data, "application", "octet-stream", filename=name)
    return message.as_bytes()


def test_mailbox_documents_are_filed_and_the_messages_flagged(
    services: Services, documented: ScradaSimulator, imap: ImapAccount, tmp_path: Path
) -> None:
    shop = documented.add_company("Boulangerie Dupont", documents=2)
    stranger = documented.add_company("Épicerie Inconnue", documents=1, partner=False)
    root = tmp_path / "compta"
    configure(services, documented, root, company_ids=[shop.id])
    use_sources(services, account=imap)
    both = imap.append(
        mail(
            ("r.xml", receipt(documented, shop)),
            ("s.cod", statement(documented, shop)),
            message_id="<1@scrada.test>",
        )
    )
    other = imap.append(
        mail(("o.xml", receipt(documented, stranger)), message_id="<2@scrada.test>")
    )
    empty = imap.append(mail(message_id="<3@scrada.test>"))
    run = run_pull(services)
    assert run["status"] == "success", run
    assert company_dirs(root) == {shop.tax_number, stranger.tax_number}
    assert len(delivered_files(root)) == 3
    for uid in (both, other, empty):
        assert DONE_KEYWORD in imap.flags(uid)
    asked = len(documented.requests)
    again = run_pull(services)
    assert again["status"] == "success"
    assert len(delivered_files(root)) == 3
    assert len(documented.requests) == asked, "no feed, books fresh: nothing to ask Scrada"


def test_kill_9_while_taking_the_mailbox_then_every_document_once(
    documented: ScradaSimulator, imap: ImapAccount, tmp_path: Path
) -> None:
    count = 40
    shop = documented.add_company("Boulangerie Dupont", documents=count)
    root = tmp_path / "compta"
    data = _prepared(tmp_path, documented, company_ids=[shop.id])
    with open_services_at(data) as services:
        services.vault.unlock(PASSPHRASE)
        use_sources(services, account=imap)
    uids = [
        imap.append(mail((f"r{n}.xml", receipt(documented, shop, n)), message_id=f"<{n}@s.test>"))
        for n in range(count)
    ]
    kill_pull_after(data, root, 8)
    flagged = sum(DONE_KEYWORD in imap.flags(uid) for uid in uids)
    assert flagged < count, "killed before every message was flagged"
    with open_services_at(data) as services:
        services.vault.unlock(PASSPHRASE)
        run = run_pull(services)
        assert run["status"] == "success", run
        with services.store.read() as db:
            rows = db.execute("SELECT document_id, sha256 FROM scrada_deliveries").fetchall()
    written = delivered_files(root)
    expected = sorted(receipt(documented, shop, n) for n in range(count))
    assert sorted(written.values()) == expected, "nothing missing, nothing doubled"
    assert len(rows) == count and len({row[0] for row in rows}) == count
    assert all(DONE_KEYWORD in imap.flags(uid) for uid in uids)


def test_an_unreachable_mailbox_is_its_own_error(
    services: Services, documented: ScradaSimulator, tmp_path: Path
) -> None:
    shop = documented.add_company("Boulangerie Dupont", documents=1)
    root, drop = tmp_path / "compta", tmp_path / "drop"
    drop.mkdir()
    configure(services, documented, root, company_ids=[shop.id])
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    raw = dict(settings.read_value(services.store, scrada_config.SETTINGS_KEY, {}) or {})
    raw["mailbox"] = validate_mailbox_settings(
        host="127.0.0.1", port=port, security="none", user="shop"
    ).as_dict()
    services.vault.set(scrada_config.SECRET_MAILBOX, "secret")
    settings.write_value(services.store, scrada_config.SETTINGS_KEY, raw)
    use_sources(services, drop=drop)
    drop_files(drop, ("receipt.xml", receipt(documented, shop)))
    run = run_pull(services)
    assert run["status"] == "warning", run
    errors = [
        i for i in history_queries.run_items(services.store, run["id"]) if i["status"] == "error"
    ]
    assert [item["kind"] for item in errors] == ["mailbox"]
    assert len(delivered_files(root)) == 1, "the drop folder was still taken"
